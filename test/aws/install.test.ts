import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { installText, uninstallText, unifiedDiff } from "../../src/cli/install-aws.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const opts = {
  profile: "ai-readonly",
  sourceProfile: "default",
  node: "/usr/bin/node",
  bin: "/opt/downscope/bin/downscope.js",
};

const STARTS: [string, string][] = [
  ["empty", ""],
  ["no final newline", "[default]\nregion = eu-west-1"],
  [
    "comments and other profiles",
    "# mine\n; also mine\n[default]\nregion = eu-west-1\n\n[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = default\n   # odd indent\n",
  ],
  ["trailing blank lines", "[default]\nregion = us-east-1\n\n\n"],
  ["CRLF", "[default]\r\nregion = us-east-1\r\n"],
];

describe("install aws: pure text round trip", () => {
  it.each(STARTS)("%s: install then uninstall is byte-identical; install twice changes nothing", (_n, text) => {
    const once = installText(text, true, opts);
    expect(once).toContain(
      "[profile ai-readonly]\ncredential_process = /usr/bin/node /opt/downscope/bin/downscope.js credential-process --source-profile default\n",
    );
    expect(once.startsWith(text)).toBe(true);
    expect(installText(once, true, opts)).toBe(once);
    expect(uninstallText(once, "ai-readonly")).toBe(text);
    // An update (new policy) replaces the block in place and still uninstalls cleanly.
    const updated = installText(once, true, {
      ...opts,
      policy: "s3-write-reports",
      roleArn: "arn:aws:iam::1:role/a b",
    });
    expect(updated).toContain("--policy s3-write-reports --role-arn 'arn:aws:iam::1:role/a b'");
    expect(uninstallText(updated, "ai-readonly")).toBe(text);
  });

  it("copies the source profile's region", () => {
    expect(installText("[default]\nregion = eu-west-1\n", true, opts)).toContain("\nregion = eu-west-1\n# <<<");
  });

  it("refuses to take over a profile it did not add", () => {
    expect(() => installText("[profile ai-readonly]\nregion = x\n", true, opts)).toThrow(
      /already exists and was not added by downscope/,
    );
  });

  it("leaves what the user added after the block", () => {
    const once = installText("[default]\n", true, opts) + "[profile later]\nregion = x\n";
    expect(uninstallText(once, "ai-readonly")).toBe("[default]\n[profile later]\nregion = x\n");
    expect(uninstallText("[default]\n", "ai-readonly")).toBeUndefined();
  });

  it("a unified diff", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\nc\n", "x", "y")).toBe("--- x\n+++ y\n@@ -1,3 +1,4 @@\n a\n b\n+c\n \n");
    expect(unifiedDiff("a\n", "a\n", "x", "y")).toBe("");
  });
});

describe("downscope install aws / uninstall aws (files)", () => {
  it("edits $AWS_CONFIG_FILE with a backup, shows a diff on --dry-run, and round-trips byte-identically", async () => {
    const sb = sandbox();
    const original = "# keep me\n[default]\nregion = eu-west-1\n\n[profile dev]\noutput = json\n";
    const file = sb.write("aws/config", original, 0o600);
    const env = { ...sb.env, AWS_CONFIG_FILE: file };
    const args = ["aws", "--profile", "ai-readonly", "--source-profile", "default", "--policy", "read-only"];
    const dry = await runCli(["install", ...args, "--dry-run"], { env, cwd: sb.project });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^--- .*config\n\+\+\+ .*\n@@ /);
    expect(dry.stdout).toContain("+[profile ai-readonly]\n");
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(existsSync(`${file}.downscope-backup`)).toBe(false);

    const inst = await runCli(["install", ...args], { env, cwd: sb.project });
    expect(inst.code, inst.stderr).toBe(0);
    expect(readFileSync(`${file}.downscope-backup`, "utf8")).toBe(original);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const installed = readFileSync(file, "utf8");
    expect(installed).toContain(`credential-process --source-profile default --policy read-only`);
    expect(installed).toContain(join("bin", "downscope.js"));

    const again = await runCli(["install", ...args], { env, cwd: sb.project });
    expect(again.stderr).toContain("already up to date");
    const un = await runCli(["uninstall", "aws", "--profile", "ai-readonly"], { env, cwd: sb.project });
    expect(un.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(original);
  });

  it("creates the file when missing and removes it again on uninstall", async () => {
    const sb = sandbox();
    const env = { ...sb.env };
    const file = join(sb.home, ".aws", "config");
    expect(
      (await runCli(["install", "aws", "--profile", "ai", "--source-profile", "default"], { env, cwd: sb.project }))
        .code,
    ).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect((await runCli(["uninstall", "aws", "--profile", "ai"], { env, cwd: sb.project })).code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it.each([
    [["aws", "--profile", "x"], /usage: downscope install aws/],
    [["aws", "--profile", "a b", "--source-profile", "default"], /profile names/],
    [["aws", "--profile", "same", "--source-profile", "same"], /must differ/],
    [["aws", "--profile", "x", "--source-profile", "d", "--role-arn", "role"], /must be an ARN/],
    [["aws", "--profile", "x", "--source-profile", "d", "--duration", "60"], /between 900 and 43200/],
    [["aws", "--bogus"], /Unknown option/],
  ])("bad input %j", async (argv, expected) => {
    const sb = sandbox();
    const r = await runCli(["install", ...argv], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(expected);
  });
});
