import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CACHE_NAMESPACE,
  obtainAwsCredential,
  type AwsCredential,
  type AwsMintRequest,
} from "../../src/credentials/aws.js";
import { cacheDir } from "../../src/credentials/cache.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const REQ: AwsMintRequest = {
  api: "AssumeRole",
  roleArn: "arn:aws:iam::1:role/agent",
  sessionName: "downscope.aws.r",
  policyHash: "h",
  policyArns: [],
  durationSeconds: 3600,
  region: "us-east-1",
  source: { profile: "default" },
  policyOrigin: "test",
};

function fakeMint(now: () => Date, seconds = 3600) {
  let calls = 0;
  const mint = async () => {
    calls++;
    const exp = new Date(now().getTime() + seconds * 1000).toISOString();
    const value: AwsCredential = {
      AccessKeyId: `fake-key-${calls}`,
      SecretAccessKey: `fake-secret-${calls}`,
      SessionToken: `fake-token-${calls}`,
      Expiration: exp,
    };
    return { expiresAt: exp, value };
  };
  return { mint, calls: () => calls };
}

describe("credential cache", () => {
  it("miss, hit, and refresh once inside the margin before expiry", async () => {
    const sb = sandbox();
    let t = new Date("2030-01-01T00:00:00Z");
    const now = () => t;
    const f = fakeMint(now);
    const opts = { env: sb.env, namespace: CACHE_NAMESPACE, now, marginSeconds: 300 };
    expect((await obtainAwsCredential(REQ, opts, f.mint)).minted).toBe(true);
    expect((await obtainAwsCredential(REQ, opts, f.mint)).credential.AccessKeyId).toBe("fake-key-1");
    t = new Date("2030-01-01T00:54:59Z"); // 5 min + 1 s before expiry: still good
    expect((await obtainAwsCredential(REQ, opts, f.mint)).minted).toBe(false);
    t = new Date("2030-01-01T00:55:00Z"); // inside the margin
    const r = await obtainAwsCredential(REQ, opts, f.mint);
    expect(r.minted).toBe(true);
    expect(r.credential.AccessKeyId).toBe("fake-key-2");
    expect(f.calls()).toBe(2);
  });

  it.each([
    ["corrupt JSON", "{not json", 0o600],
    ["no expiry", JSON.stringify({ value: {} }), 0o600],
    [
      "value missing its keys",
      JSON.stringify({ expiresAt: "2099-01-01T00:00:00Z", value: { AccessKeyId: "x" } }),
      0o600,
    ],
    ["readable by others", "", 0o644],
  ])("a %s entry is ignored and replaced", async (_n, content, mode) => {
    const sb = sandbox();
    const now = () => new Date("2030-01-01T00:00:00Z");
    const f = fakeMint(now);
    const opts = { env: sb.env, namespace: CACHE_NAMESPACE, now };
    await obtainAwsCredential(REQ, opts, f.mint);
    const dir = cacheDir(opts);
    const file = join(
      dir,
      readdirSync(dir).find((n) => n.endsWith(".json"))!,
    );
    if (content !== "") writeFileSync(file, content);
    chmodSync(file, mode);
    const r = await obtainAwsCredential(REQ, opts, f.mint);
    expect(r.minted).toBe(true);
    expect(f.calls()).toBe(2);
    expect((await obtainAwsCredential(REQ, opts, f.mint)).minted).toBe(false);
  });

  it("different requests do not share an entry", async () => {
    const sb = sandbox();
    const now = () => new Date("2030-01-01T00:00:00Z");
    const f = fakeMint(now);
    const opts = { env: sb.env, namespace: CACHE_NAMESPACE, now };
    await obtainAwsCredential(REQ, opts, f.mint);
    await obtainAwsCredential({ ...REQ, policyHash: "other" }, opts, f.mint);
    expect(f.calls()).toBe(2);
  });
});

function policy(sb: Sandbox, rules: string, extra = "") {
  sb.write(
    "home/.config/downscope/config.yaml",
    `version: 1
services:
  aws:
    downscope_mode: sts_policy
    role_arn: arn:aws:iam::1:role/agent
${extra}    rules:
${rules}`,
  );
}

const RULES = `      - name: reader
        match: { command: [s3, ls] }
      - name: no iam
        match: { command: [iam] }
        action: deny
`;

describe("credential-process re-decides with the current policy", () => {
  it.each([
    [["--rule", "gone"], /rule "gone" no longer exists/],
    [["--rule", "no iam"], /rule "no iam" .* is now deny/],
    [["--layer", "project"], /project config no longer configures this service/],
    [["--for-argv", "iam", "delete-user"], /denied by rule "no iam"/],
    [["--rule", "reader", "--expect-key", "0000"], /policy for this command changed after it started/],
  ])("%j is refused, nothing on stdout", async (args, expected) => {
    const sb = sandbox();
    policy(sb, RULES);
    const r = await runCli(["credential-process", ...args], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(expected);
  });

  it("without a rule, a service whose default is deny grants nothing", async () => {
    const sb = sandbox();
    policy(sb, RULES, "    default_action: deny\n");
    const r = await runCli(["credential-process"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/default_action deny/);
  });

  it.each([
    [["--rule", "a", "--for-argv", "s3"], /not both/],
    [["--duration", "10"], /between 900 and 43200/],
    [["--role-arn", "x"], /must be an ARN/],
    [["--layer", "other"], /--layer must be/],
    [["--nope"], /Unknown option '--nope'/],
    [["stray"], /Unexpected argument 'stray'/],
    [["--", "x"], /Unexpected argument '--'/],
    [["-p", "x"], /Unexpected argument '-p'/],
    [["--policy"], /'--policy <value>' argument missing/],
    [["--policy", "--rule"], /ambiguous: .*--policy=--rule/],
    [["--duration=10"], /between 900 and 43200/],
  ])("bad input %j", async (args, expected) => {
    const sb = sandbox();
    const r = await runCli(["credential-process", ...args], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(expected);
  });

  it("a broken policy file fails closed with its position", async () => {
    const sb = sandbox();
    sb.write("home/.config/downscope/config.yaml", "version: 1\nservices:\n  aws:\n    downscope_mode: sts_polcy\n");
    const r = await runCli(["credential-process"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/config\.yaml:4:\d+: services\.aws\.downscope_mode/);
  });
});

describe("source credentials that need a human, without a terminal", () => {
  function spawnCp(sb: Sandbox, awsConfig: string, profile: string) {
    const cfg = sb.write("home/.aws/config", awsConfig);
    const creds = sb.write("home/.aws/credentials", "[base]\naws_access_key_id = test\naws_secret_access_key = test\n");
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, "bin/downscope.js"),
        "credential-process",
        "--source-profile",
        profile,
        "--aws-config-file",
        cfg,
        "--aws-credentials-file",
        creds,
      ],
      // Endpoint points nowhere: the test proves we fail before any network call.
      {
        env: { ...sb.env, DOWNSCOPE_NONINTERACTIVE: "1", AWS_EC2_METADATA_DISABLED: "true" },
        cwd: sb.project,
        encoding: "utf8",
        timeout: 30_000,
        input: "",
      },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("MFA: fails at once with what to do, never waits for a code", () => {
    const sb = sandbox();
    policy(sb, RULES);
    const r = spawnCp(
      sb,
      "[profile mfa]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n",
      "mfa",
    );
    expect(r.code).toBe(77);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/needs an MFA code \(arn:aws:iam::1:mfa\/me\) and there is no terminal/);
  });

  it("SSO: tells the human to run aws sso login", () => {
    const sb = sandbox();
    policy(sb, RULES);
    const r = spawnCp(
      sb,
      "[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Dev\n[sso-session corp]\nsso_start_url = https://example.invalid/start\nsso_region = us-east-1\n",
      "sso",
    );
    expect(r.code).toBe(77);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("aws sso login --profile sso");
  });
});

describe("cache directory", () => {
  it("a cache directory others can read is refused with a typed error, not an internal one", async () => {
    const sb = sandbox();
    const { mkdirSync } = await import("node:fs");
    const now = () => new Date("2030-01-01T00:00:00Z");
    const opts = { env: sb.env, namespace: CACHE_NAMESPACE, now };
    mkdirSync(cacheDir(opts), { recursive: true, mode: 0o755 });
    chmodSync(cacheDir(opts), 0o755);
    await expect(obtainAwsCredential(REQ, opts, fakeMint(now).mint)).rejects.toMatchObject({
      exitCode: 77,
      message: expect.stringContaining("not a private directory") as unknown,
    });
  });
});
