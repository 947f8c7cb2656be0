/**
 * Real clients, no network: moto_server on loopback as STS, S3 and IAM; the
 * real aws CLI (v1) through an installed profile and through downscope-exec;
 * the real AWS SDK for JavaScript inside credential-process. Nothing reads
 * the developer's ~/.aws: HOME, AWS_CONFIG_FILE and
 * AWS_SHARED_CREDENTIALS_FILE point into a sandbox.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { assumedRoles, aws, awsSourceFiles, requireTool, startMoto, TOOL_PATH, type Moto } from "./moto.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DOWNSCOPE = join(ROOT, "bin/downscope.js");
const DOWNSCOPE_EXEC = join(ROOT, "bin/downscope-exec.js");
const ROLE = "arn:aws:iam::123456789012:role/agent";

let moto: Moto;
beforeAll(async () => {
  for (const f of ["dist/downscope.js", "dist/downscope-exec.cjs"])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  requireTool("aws");
  moto = await startMoto();
});
afterAll(() => moto?.stop());
beforeEach(async () => moto.reset());

const minified = (file: string) => JSON.stringify(JSON.parse(readFileSync(join(ROOT, file), "utf8")));

function setup(binaryPath?: string, sb: Sandbox = sandbox()): { sb: Sandbox; env: Record<string, string> } {
  const { awsConfig, awsCreds } = awsSourceFiles(sb, "# my settings\n[default]\nregion = eu-west-1\noutput = json\n");
  sb.write(
    "home/.config/downscope/config.yaml",
    `version: 1
services:
  aws:
    downscope_mode: sts_policy
    role_arn: ${ROLE}
    source_profile: default
    allowed_hosts: [127.0.0.1]
${binaryPath !== undefined ? `    binary_path: ${binaryPath}\n` : ""}    rules:
      - name: reports write
        match: { command: [s3, cp] }
        policy_file: aws/s3-write-reports.json
      - name: no iam writes
        match: { command: [iam, "delete-user|create-user"] }
        action: deny
`,
  );
  const env = {
    ...sb.env,
    PATH: TOOL_PATH,
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: awsCreds,
    AWS_ENDPOINT_URL: moto.url,
    DOWNSCOPE_AWS_STS_ENDPOINT: moto.url,
    DOWNSCOPE_NONINTERACTIVE: "1",
  };
  return { sb, env };
}

function node(bin: string, args: string[], env: Record<string, string>, cwd: string, nodeArgs: string[] = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, bin, ...args], { env, cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("installed profile (any AWS SDK tool with AWS_PROFILE=ai-readonly)", () => {
  it("gets an assumed-role session with exactly the configured policy, and reuses it within the cache window", async () => {
    const { sb, env } = setup();
    const inst = await runCli(["install", "aws", "--profile", "ai-readonly", "--source-profile", "default"], {
      env,
      cwd: sb.project,
    });
    expect(inst.code, inst.stderr).toBe(0);
    const run = { ...env, AWS_PROFILE: "ai-readonly" };
    const first = aws(["sts", "get-caller-identity"], run, sb.project);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).Arn).toBe("arn:aws:sts::123456789012:assumed-role/agent/downscope.aws.default");
    let roles = assumedRoles(await moto.data());
    expect(roles).toHaveLength(1);
    expect(roles[0]!.role_arn).toBe(ROLE);
    // The session policy STS received is the configured one (the packaged read-only default), minified.
    expect(roles[0]!.policy).toBe(minified("policies/aws/read-only.json"));

    const second = aws(["sts", "get-caller-identity"], run, sb.project);
    expect(second.code, second.stderr).toBe(0);
    roles = assumedRoles(await moto.data());
    expect(roles).toHaveLength(1); // cache hit: nothing new minted
  });

  // Masking (docs/masking.md): a session credential-process handed out is remembered by its keyed
  // fingerprint, so the masking hook finds it in an agent's output later, without storing it.
  it("the session it hands out is masked later by the post-tool-use hook", async () => {
    const { sb, env } = setup();
    const r = node(DOWNSCOPE, ["credential-process", "--source-profile", "default"], env, sb.project);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as { SecretAccessKey: string; SessionToken: string };
    const stdout = `secret=${c.SecretAccessKey}\ntoken=${c.SessionToken}\n`;
    const payload = JSON.stringify({
      hook_event_name: "PostToolUse",
      tool_name: "Bash",
      tool_input: { command: "env" },
      tool_response: { stdout, stderr: "", interrupted: false, isImage: false },
    });
    const hook = spawnSync(process.execPath, [DOWNSCOPE, "post-tool-use"], {
      input: payload,
      env,
      cwd: sb.project,
      encoding: "utf8",
    });
    expect(hook.status).toBe(0);
    expect(hook.stdout).not.toContain(c.SecretAccessKey);
    expect(hook.stdout).not.toContain(c.SessionToken);
    expect(JSON.parse(hook.stdout).hookSpecificOutput.updatedToolOutput.stdout).toMatch(
      /^secret=\[masked[^\]]*\]\ntoken=\[masked[^\]]*\]\n$/,
    );
  });

  it("ten parallel credential-process calls make one STS call (single flight)", async () => {
    const { sb, env } = setup();
    const runs = await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          new Promise<{ code: number | null; out: string }>((res) => {
            const c = spawn(process.execPath, [DOWNSCOPE, "credential-process", "--source-profile", "default"], {
              env,
              cwd: sb.project,
            });
            let out = "";
            c.stdout.on("data", (b: Buffer) => (out += b.toString()));
            c.on("exit", (code) => res({ code, out }));
          }),
      ),
    );
    for (const r of runs) expect(r.code).toBe(0);
    const ids = new Set(runs.map((r) => JSON.parse(r.out).AccessKeyId as string));
    expect(ids.size).toBe(1);
    expect(assumedRoles(await moto.data())).toHaveLength(1);
  });

  it("the cache-hit path loads no AWS SDK module; the mint path does (so the check can fail)", async () => {
    const { sb, env } = setup();
    // Module hooks that make any @aws-sdk import (ESM) or require (CommonJS) fail loudly.
    const hooks = sb.write(
      "no-sdk-hooks.mjs",
      `export async function resolve(spec, ctx, next) { if (spec.startsWith("@aws-sdk/")) throw new Error("SDK LOADED: " + spec); return next(spec, ctx); }\n`,
    );
    const esm = sb.write(
      "no-sdk.mjs",
      `import { register } from "node:module"; register(${JSON.stringify("file://" + hooks)});\n`,
    );
    const cjs = sb.write(
      "no-sdk.cjs",
      `const M = require("node:module"); const resolve = M._resolveFilename;\nM._resolveFilename = function (spec, ...rest) { if (String(spec).startsWith("@aws-sdk/")) throw new Error("SDK LOADED: " + spec); return resolve.call(this, spec, ...rest); };\n`,
    );
    const register = ["--import", esm, "--require", cjs];
    const args = ["credential-process", "--source-profile", "default"];
    const blocked = node(DOWNSCOPE, args, env, sb.project, register);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain("SDK LOADED: @aws-sdk/");
    const mint = node(DOWNSCOPE, args, env, sb.project);
    expect(mint.code, mint.stderr).toBe(0);
    const hit = node(DOWNSCOPE, args, env, sb.project, register);
    expect(hit.code, hit.stderr).toBe(0);
    expect(JSON.parse(hit.stdout)).toEqual(JSON.parse(mint.stdout));
    expect(Object.keys(JSON.parse(hit.stdout))).toEqual([
      "Version",
      "AccessKeyId",
      "SecretAccessKey",
      "SessionToken",
      "Expiration",
    ]);
    // Cache files are private.
    const dir = join(sb.env.XDG_CACHE_HOME!, "downscope", "aws");
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeGreaterThan(0);
    const cleared = await runCli(["cache", "clear"], { env, cwd: sb.project });
    expect(cleared.code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    const again = node(DOWNSCOPE, args, env, sb.project, register);
    expect(again.code).not.toBe(0); // after clear, the mint path (and the SDK) is needed again
  });

  /*
   * Bypass: an agent sets DOWNSCOPE_AWS_STS_ENDPOINT to a host of its choice
   * so that the mint goes to a fake STS. Fix: the endpoint is honoured only for
   * hosts in a trusted allowed_hosts. Proves: without the host listed, nothing
   * is minted and the message names the setting.
   */
  it("refuses an STS endpoint whose host the trusted policy does not allow", async () => {
    const { sb, env } = setup();
    const r = node(
      DOWNSCOPE,
      ["credential-process"],
      { ...env, DOWNSCOPE_AWS_STS_ENDPOINT: "http://localhost:1" },
      sb.project,
    );
    expect(r.code).toBe(77);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("not in allowed_hosts");
    expect(assumedRoles(await moto.data())).toHaveLength(0);
  });
});

describe("downscope-exec aws", () => {
  it("runs the real aws CLI on the rule's session; keys never in the child's environ or cmdline", async () => {
    const sb0 = sandbox();
    // A stand-in `aws` (the service's binary_path) records its own /proc environ and cmdline, then execs the real CLI.
    const realAws = requireTool("aws");
    const record = join(sb0.root, "record");
    const fake = sb0.write(
      "fakebin/aws",
      `#!/bin/sh\ntr '\\0' '\\n' < /proc/$$/environ > ${record}.env\ntr '\\0' ' ' < /proc/$$/cmdline > ${record}.cmd\nexec ${realAws} "$@"\n`,
    );
    chmodSync(fake, 0o755);
    const { sb, env } = setup(fake, sb0);
    const execEnv = { ...env, AWS_ACCESS_KEY_ID: "fake-ambient-key-id", AWS_SECRET_ACCESS_KEY: "fake-ambient-secret" };
    const who = node(DOWNSCOPE_EXEC, ["aws", "sts", "get-caller-identity"], execEnv, sb.project);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout).Arn).toBe("arn:aws:sts::123456789012:assumed-role/agent/downscope.aws.default");
    const roles = assumedRoles(await moto.data());
    expect(roles).toHaveLength(1);
    expect(roles[0]!.policy).toBe(minified("policies/aws/read-only.json"));
    // The scoped keys, as cached, appear nowhere in the child's environment or argv.
    const dir = join(sb.env.XDG_CACHE_HOME!, "downscope", "aws");
    const cached = readdirSync(dir).map(
      (f) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { value: Record<string, string> }).value,
    );
    const environ = readFileSync(`${record}.env`, "utf8");
    const cmdline = readFileSync(`${record}.cmd`, "utf8");
    for (const c of cached)
      for (const secret of [c.AccessKeyId, c.SecretAccessKey, c.SessionToken]) {
        expect(environ).not.toContain(secret);
        expect(cmdline).not.toContain(secret);
      }
    expect(environ).not.toContain("fake-ambient");
    expect(environ).toContain("AWS_PROFILE=downscope\n");
    expect(environ).toContain("AWS_EC2_METADATA_DISABLED=true\n");
  });

  it("mints the rule's own policy for `s3 cp` (write policy for one bucket)", async () => {
    const { sb, env } = setup();
    writeFileSync(join(sb.root, "a.txt"), "hello\n");
    aws(
      ["s3", "mb", "s3://reports"],
      {
        ...env,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_CONFIG_FILE: "/dev/null",
        AWS_DEFAULT_REGION: "us-east-1",
      },
      sb.root,
    );
    const r = node(DOWNSCOPE_EXEC, ["aws", "s3", "cp", join(sb.root, "a.txt"), "s3://reports/a.txt"], env, sb.project);
    expect(r.code, r.stderr).toBe(0);
    const roles = assumedRoles(await moto.data());
    expect(roles.map((x) => x.session_name)).toEqual(["downscope.aws.reports-write"]);
    expect(roles[0]!.policy).toBe(minified("policies/aws/s3-write-reports.json"));
  });

  /*
   * Bypass: a destructive call under a deny rule. Fix: downscope-exec decides
   * before minting or spawning. Proves: the user still exists in moto (the
   * request never reached it) and nothing was minted.
   */
  it("a deny rule never reaches AWS", async () => {
    const { sb, env } = setup();
    const admin = {
      ...env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_DEFAULT_REGION: "us-east-1",
    };
    expect(aws(["iam", "create-user", "--user-name", "bob"], admin, sb.root).code).toBe(0);
    const r = node(DOWNSCOPE_EXEC, ["aws", "iam", "delete-user", "--user-name", "bob"], env, sb.project);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('rule "no iam writes"');
    const data = await moto.data();
    expect((data.iam?.User ?? []).map((u) => u.name)).toContain("bob");
    expect(assumedRoles(data)).toHaveLength(0);
  });
});

describe("an approved review run", () => {
  /*
   * Bug/bypass pair: credential-process re-decides every refresh, so a command
   * a human approved (service default `review`) could never get its
   * credential; a plain bypass flag would let the agent mint the reviewed
   * credential without approval. Fix: the wrapper writes a private file with
   * the request's key into the run's directory (removed when the command
   * ends). Proves: without the file, or with a wrong key, nothing is minted;
   * with it, the service's credential is.
   */
  it("mints only while the run's approval file exists and names this request", async () => {
    const { sb, env } = setup();
    sb.write(
      "home/.config/downscope/config.yaml",
      `version: 1\nservices:\n  aws:\n    downscope_mode: sts_policy\n    role_arn: ${ROLE}\n    source_profile: default\n    allowed_hosts: [127.0.0.1]\n    default_action: review\n`,
    );
    const { parseCredentialProcessArgs, requestFor } = await import("../../src/cli/credential-process.js");
    const { mintCacheKey } = await import("../../src/credentials/aws.js");
    const approval = join(sb.root, "run", "aws-approved-run");
    const base = ["credential-process", "--service", "aws", "--layer", "user"];
    const key = mintCacheKey(
      (
        await requestFor(
          parseCredentialProcessArgs([...base.slice(1), "--expect-key", "k", "--approved-run", approval]),
          {
            cwd: sb.project,
            env,
          },
        )
      ).req,
    );
    const args = [...base, "--expect-key", key];
    const plain = node(DOWNSCOPE, args, env, sb.project);
    expect(plain.code).toBe(77);
    expect(plain.stderr).toContain("default_action review");
    const missing = node(DOWNSCOPE, [...args, "--approved-run", approval], env, sb.project);
    expect(missing.code).toBe(77);
    expect(missing.stderr).toContain("the approval for this command is gone");
    sb.write(approval, "some-other-key\n", 0o600);
    expect(node(DOWNSCOPE, [...args, "--approved-run", approval], env, sb.project).code).toBe(77);
    sb.write(approval, `${key}\n`);
    chmodSync(approval, 0o644);
    expect(node(DOWNSCOPE, [...args, "--approved-run", approval], env, sb.project).code).toBe(77); // not private
    expect(assumedRoles(await moto.data())).toHaveLength(0);
    sb.write(approval, `${key}\n`, 0o600);
    chmodSync(approval, 0o600);
    const ok = node(DOWNSCOPE, [...args, "--approved-run", approval], env, sb.project);
    expect(ok.code, ok.stderr).toBe(0);
    expect(assumedRoles(await moto.data())).toHaveLength(1);
  });
});
