import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readPins } from "../../src/exec/pins.js";
import { SHIMS_MARKER } from "../../src/paths.js";
import { defaultShimsDir, shimScript } from "../../src/exec/shims.js";
import { runCli } from "../helpers/run-cli.js";
import { EXEC_BIN, execSandbox } from "./helpers.js";

const CONFIG = (extra = "") => `
version: 1
services:
  gh: { token_slots: { ro: { env_var: GH_RO_SRC } }, default_slot: ro }
  kubectl: { token_slots: { v: { env_var: KUBE_SRC } }, default_slot: v }
  vault: { token_slots: { t: { env_var: VAULT_SRC, inject_as: VAULT_TOKEN } }, default_slot: t }
${extra}`;

describe("shims", () => {
  it("the packaged shims are the installed template", () => {
    for (const b of ["gh", "aws", "gcloud", "kubectl"])
      expect(readFileSync(join(EXEC_BIN, "../../shims", b), "utf8"), b).toBe(shimScript(b));
    expect(existsSync(join(EXEC_BIN, "../../shims", SHIMS_MARKER))).toBe(true);
  });

  it("shims install writes a shim per configured service (custom included), the marker and the link, and pins", async () => {
    const sb = execSandbox();
    sb.userConfig(CONFIG('  badname: { binary: "x;rm", token_slots: { t: { env_var: X } }, default_slot: t }\n'));
    const gh = sb.fake("gh");
    const dir = join(sb.root, "shims");
    const r = await runCli(["shims", "install", "--dir", dir], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readdirSync(dir).sort()).toEqual([SHIMS_MARKER, "downscope-exec", "gh", "kubectl", "vault"]);
    expect(readFileSync(join(dir, "vault"), "utf8")).toBe(shimScript("vault"));
    expect(lstatSync(join(dir, "gh")).mode & 0o777).toBe(0o755);
    expect(realpathSync(join(dir, "downscope-exec"))).toBe(realpathSync(EXEC_BIN));
    expect(r.stderr).toContain("x;rm: not a plain command name");
    expect(readPins(sb.env).get("gh")?.path).toBe(gh);
    expect(r.stderr).toMatch(/vault: not found on PATH/);
    // A second install keeps the pin even if PATH now finds another gh first.
    const evil = join(sb.root, "evil");
    sb.write(join(evil, "gh"), "#!/bin/sh\n", 0o755);
    await runCli(["shims", "install", "--dir", dir], {
      env: { ...sb.env, PATH: `${evil}:${sb.env.PATH}` },
      cwd: sb.project,
    });
    expect(readPins(sb.env).get("gh")?.path).toBe(gh);
  });

  it("does not pin a binary inside the project (a cloned repo's ./gh on PATH)", async () => {
    const sb = execSandbox();
    sb.userConfig(CONFIG());
    sb.write(join(sb.project, "bin/gh"), "#!/bin/sh\n", 0o755);
    const r = await runCli(["shims", "install", "--dir", join(sb.root, "shims")], {
      env: { ...sb.env, PATH: `./bin:${sb.env.PATH}` },
      cwd: sb.project,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/gh: .*bin\/gh is inside the project; not pinned/);
    expect(readPins(sb.env).has("gh")).toBe(false);
  });

  it("shims install without a subcommand is a usage error", async () => {
    const sb = execSandbox();
    expect((await runCli(["shims"], { env: sb.env, cwd: sb.project })).code).toBe(64);
  });

  it("env prints the export line for the default directory", async () => {
    const sb = execSandbox();
    sb.userConfig(CONFIG());
    const r = await runCli(["env"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`export PATH=${defaultShimsDir(sb.env)}":$PATH"\n`);
    expect(existsSync(join(defaultShimsDir(sb.env), "gh"))).toBe(true);
  });
});

describe("session-start", () => {
  const payload = JSON.stringify({ session_id: "s1", hook_event_name: "SessionStart", source: "startup" });

  it("installs the shims and appends the PATH line to CLAUDE_ENV_FILE once", async () => {
    const sb = execSandbox();
    sb.userConfig(CONFIG());
    const envFile = sb.write("claude-env", "export FOO=1");
    const env = { ...sb.env, CLAUDE_ENV_FILE: envFile };
    for (let i = 0; i < 2; i++) {
      const r = await runCli(["session-start"], { env, cwd: sb.project, stdin: payload });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
    }
    expect(readFileSync(envFile, "utf8")).toBe(`export FOO=1\nexport PATH=${defaultShimsDir(sb.env)}":$PATH"\n`);
  });

  it.each([
    ["CLAUDE_ENV_FILE unset", {}, payload, "version: 1\n"],
    ["a malformed payload", { CLAUDE_ENV_FILE: "" }, "{not json", "version: 1\n"],
    ["a broken config", { CLAUDE_ENV_FILE: "" }, payload, "version: 2\n"],
  ])("never fails: %s → message on stderr, exit 0, nothing written", async (_n, extra, stdin, config) => {
    const sb = execSandbox();
    sb.userConfig(config);
    const envFile = join(sb.root, "claude-env");
    const env: Record<string, string> = { ...sb.env, ...extra };
    if ("CLAUDE_ENV_FILE" in extra) env.CLAUDE_ENV_FILE = envFile;
    const r = await runCli(["session-start"], { env, cwd: sb.project, stdin });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^downscope session-start: /);
    expect(existsSync(envFile)).toBe(false);
  });
});
