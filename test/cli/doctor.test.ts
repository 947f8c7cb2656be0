import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { claudeEntries } from "../../src/agents/claude.js";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const POLICY = `version: 1
services:
  gh:
    token_slots:
      ro: { env_var: DOCTOR_TEST_GH_RO, inject_as: GH_TOKEN }
      rw: { file: ~/secrets/gh-rw }
    default_slot: ro
    rules:
      - { name: writes, match: { command: [pr, create] }, action: allow, slot: rw }
  aws:
    downscope_mode: sts_policy
    policy_file: aws/does-not-exist.json
`;

function fakeBin(sb: Sandbox, dir: string, name: string): string {
  const d = join(sb.root, dir);
  mkdirSync(d, { recursive: true });
  const p = join(d, name);
  writeFileSync(p, "#!/bin/sh\nexit 0\n");
  chmodSync(p, 0o755);
  return d;
}

interface Finding {
  level: string;
  check: string;
  message: string;
  fix?: string;
}

async function doctor(sb: Sandbox, env: Record<string, string>) {
  const r = await runCli(["doctor", "--json"], { env, cwd: sb.project });
  const out = JSON.parse(r.stdout) as { findings: Finding[]; errors: number; warnings: number };
  const has = (level: string, check: string, text: string) =>
    out.findings.some((f) => f.level === level && f.check === check && f.message.includes(text));
  return { ...r, out, has };
}

describe("downscope doctor", () => {
  it("finds the problems of a fresh setup, each with a fix, and exits 1", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), POLICY);
    sb.write(join(sb.home, ".aws/credentials"), "[default]\n");
    const realDir = fakeBin(sb, "real", "gh");
    sb.write(join(sb.env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "", 0o644);
    const env = { ...sb.env, PATH: realDir, GH_TOKEN: "fake-gh-token-ambient-1" };
    const d = await doctor(sb, env);
    expect(d.code).toBe(1);
    expect(d.has("error", "hook", "no PreToolUse hook")).toBe(true);
    expect(d.has("warn", "session-start", "no SessionStart hook")).toBe(true);
    expect(d.has("error", "trust", "is not trusted (never trusted)")).toBe(true);
    expect(d.has("error", "source", "DOCTOR_TEST_GH_RO is not set")).toBe(true);
    expect(d.has("error", "source", "token file")).toBe(true);
    expect(d.has("error", "source", "policy_file aws/does-not-exist.json not found")).toBe(true);
    expect(d.has("ok", "binary", `gh: real binary ${join(realDir, "gh")}`)).toBe(true);
    expect(d.has("error", "binary", "aws: the real binary is not found")).toBe(true);
    expect(d.has("warn", "shims", "no directory with the downscope shims")).toBe(true);
    expect(d.has("warn", "exposure", "GH_TOKEN holds a credential and is set")).toBe(true);
    expect(d.has("warn", "exposure", "~/.aws/credentials is readable")).toBe(true);
    expect(d.has("warn", "audit", "audit.jsonl is accessible to other users (mode 644)")).toBe(true);
    for (const f of d.out.findings.filter((f) => f.level !== "ok")) expect(f.fix, f.message).toBeTruthy();
    // Values are never printed.
    expect(d.stdout).not.toContain("fake-gh-token-ambient-1");
  });

  it("is clean once the hook is installed, the policy trusted, sources present and files denied", async () => {
    const sb = sandbox();
    sb.write(
      join(sb.project, ".claude/downscoping.yaml"),
      POLICY.replace("aws/does-not-exist.json", "aws/read-only.json"),
    );
    sb.write(join(sb.home, "secrets/gh-rw"), "fake-gh-token-rw-123\n", 0o600);
    sb.write(join(sb.home, ".aws/credentials"), "[default]\n");
    const shims = fakeBin(sb, "shims", "gh");
    fakeBin(sb, "shims", "aws");
    writeFileSync(join(shims, ".downscope-shims"), "");
    const real = fakeBin(sb, "real", "gh");
    fakeBin(sb, "real", "aws");
    const env = { ...sb.env, PATH: `${shims}:${real}`, DOCTOR_TEST_GH_RO: "fake-gh-token-ro-123" };
    expect((await runCli(["trust"], { env, cwd: sb.project })).code).toBe(0);
    // What `downscope install claude` writes (test/cli/install-claude.test.ts covers the installer itself).
    const entries = claudeEntries(join(packageRoot(), "bin", "downscope.js"), false);
    sb.write(
      join(sb.home, ".claude/settings.json"),
      JSON.stringify({ hooks: { PreToolUse: [entries.PreToolUse], SessionStart: [entries.SessionStart] } }),
    );
    sb.write(
      join(sb.project, ".claude/settings.json"),
      JSON.stringify({ permissions: { deny: ["Read(~/.aws/credentials)"] } }),
    );
    const d = await doctor(sb, env);
    expect(d.out.findings.filter((f) => f.level === "error")).toEqual([]);
    expect(d.code).toBe(0);
    expect(d.has("ok", "hook", "PreToolUse hook runs `downscope hook`")).toBe(true);
    expect(d.has("ok", "shims", `shims on PATH: ${shims}`)).toBe(true);
    expect(d.has("ok", "binary", `gh: real binary ${join(real, "gh")}`)).toBe(true);
    expect(d.has("ok", "exposure", "~/.aws/credentials exists and Claude Code settings deny reading it")).toBe(true);
    // The env_var slot works, and doctor warns that the agent's environment holds it.
    expect(d.has("warn", "exposure", "DOCTOR_TEST_GH_RO is exported here")).toBe(true);
    expect(d.stdout).not.toContain("fake-gh-token-ro-123");
    expect(d.stdout).not.toContain("fake-gh-token-rw-123");
  });

  it("flags shims behind the real binary, broken settings JSON and a broken policy", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    sb.write(join(sb.project, ".claude/settings.local.json"), "{ not json");
    const shims = fakeBin(sb, "shims", "gh");
    writeFileSync(join(shims, ".downscope-shims"), "");
    const real = fakeBin(sb, "real", "gh");
    const d = await doctor(sb, { ...sb.env, PATH: `${real}:${shims}` });
    expect(d.code).toBe(1);
    expect(d.has("error", "settings", "settings.local.json: not valid JSON")).toBe(true);
    expect(d.has("error", "policy", "services.gh.default_action")).toBe(true);
    // With the policy fixed, the PATH order is the problem.
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: { downscope_mode: none }\n");
    const d2 = await doctor(sb, { ...sb.env, PATH: `${real}:${shims}` });
    expect(d2.has("error", "shims", `${join(real, "gh")} comes before the downscope shims`)).toBe(true);
    const text = await runCli(["doctor"], { env: { ...sb.env, PATH: `${real}:${shims}` }, cwd: sb.project });
    expect(text.stdout).toMatch(/^ERROR shims: .*\n {6}fix: put .* first on PATH/m);
    expect(text.stdout).toMatch(/\d+ errors?, \d+ warnings?\n$/);
  });

  it("reports the Cursor and Gemini CLI hooks install wrote, and warns where one would fail open", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: { downscope_mode: none }\n");
    expect((await runCli(["install", "cursor"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    expect((await runCli(["install", "gemini", "--scope", "project"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    const d = await doctor(sb, sb.env);
    expect(d.has("ok", "cursor", "Cursor hooks run `downscope hook --agent cursor`")).toBe(true);
    expect(d.has("ok", "gemini", "Gemini CLI BeforeTool hook runs `downscope hook --agent gemini`")).toBe(true);
    // Someone drops failClosed and shortens the timeout: both fail open now.
    const cursorFile = join(sb.home, ".cursor/hooks.json");
    writeFileSync(cursorFile, readFileSync(cursorFile, "utf8").replaceAll('"failClosed": true', '"failClosed": false'));
    const geminiFile = join(sb.project, ".gemini/settings.json");
    writeFileSync(geminiFile, readFileSync(geminiFile, "utf8").replace('"timeout": 10000', '"timeout": 1000'));
    const d2 = await doctor(sb, sb.env);
    expect(d2.has("warn", "cursor", "has no failClosed: true")).toBe(true);
    expect(d2.has("warn", "gemini", "times out before its own 4000 ms deadline")).toBe(true);
  });

  it("warns where Cursor's hooks would not rewrite, or might not run (not first in their list)", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: { downscope_mode: none }\n");
    expect((await runCli(["install", "cursor"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    const file = join(sb.home, ".cursor/hooks.json");
    const installed = JSON.parse(readFileSync(file, "utf8"));
    installed.hooks.preToolUse[0].matcher = "Write|Delete";
    installed.hooks.beforeShellExecution.unshift({ command: "./audit.sh" });
    writeFileSync(file, JSON.stringify(installed));
    const d = await doctor(sb, sb.env);
    expect(d.has("warn", "cursor", "no downscope preToolUse hook for Shell")).toBe(true);
    expect(d.has("warn", "cursor", "beforeShellExecution hook is not first in its list")).toBe(true);
    expect(d.has("ok", "cursor", "")).toBe(false);
    // The asking and enforcing hook removed, the rewriting one kept: what it leaves to the other goes unchecked.
    delete installed.hooks.beforeShellExecution;
    writeFileSync(file, JSON.stringify(installed));
    expect((await doctor(sb, sb.env)).has("warn", "cursor", "no downscope beforeShellExecution hook")).toBe(true);
  });

  it("says nothing about agents downscope is not installed in", async () => {
    const sb = sandbox();
    sb.write(
      join(sb.home, ".cursor/hooks.json"),
      '{"version":1,"hooks":{"beforeShellExecution":[{"command":"./x.sh"}]}}',
    );
    const d = await doctor(sb, sb.env);
    expect(d.out.findings.filter((f) => f.check === "cursor" || f.check === "gemini")).toEqual([]);
  });

  it("checks the GitHub App private key's presence and mode without reading it", async () => {
    const sb = sandbox();
    const key = join(sb.home, "app.pem");
    sb.write(
      join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      `version: 1
services:
  gh:
    downscope_mode: github_app
    app_id: 1
    installation_id: 2
    private_key: { file: ${key} }
    permissions: { contents: read }
    repositories: from_command
`,
    );
    expect((await doctor(sb, sb.env)).has("error", "source", `the GitHub App private key ${key} is not readable`)).toBe(
      true,
    );
    sb.write(key, "not read by doctor", 0o644);
    expect((await doctor(sb, sb.env)).has("warn", "source", "is readable by other users")).toBe(true);
    chmodSync(key, 0o600);
    expect((await doctor(sb, sb.env)).has("ok", "source", `the GitHub App private key ${key} is readable`)).toBe(true);
  });
});

/**
 * Issue 20: doctor said nothing about credential variables under unknown
 * names, and warned that ~/.aws/credentials was readable in a contained
 * session, where the sandbox hides it (a false alarm). Proves: every
 * credential variable is listed (by name, never value), as kept out or not
 * when contained; the stores the sandbox hides are reported as hidden; a
 * pinned binary the user can write is reported.
 */
describe("doctor, credential variables and contained mode", () => {
  it("lists credential variables of any name, and reports hidden stores as hidden when contained", async () => {
    const sb = sandbox();
    sb.write(join(sb.home, ".aws/credentials"), "[default]\n");
    const { writeContainedState } = await import("../../src/protection/contained-state.js");
    writeContainedState(sb.env, {
      version: 1,
      settingsFile: join(sb.home, ".claude/settings.json"),
      exec: "/usr/bin/node /x/downscope-exec.js",
      denyRules: [],
      keptOut: ["GH_TOKEN"],
    });
    const env = { ...sb.env, MY_GH_PAT: "ghp_cccccccccccccccccccccccccccccccccccc", GH_TOKEN: "fake-kept" };
    const r = await runCli(["doctor", "--json"], { env, cwd: sb.project });
    const findings = (JSON.parse(r.stdout) as { findings: { level: string; check: string; message: string }[] })
      .findings;
    const has = (level: string, text: string) =>
      findings.some((f) => f.level === level && f.check === "exposure" && f.message.includes(text));
    expect(has("error", "MY_GH_PAT holds a credential and is not kept out of the sandbox")).toBe(true);
    expect(has("ok", "GH_TOKEN holds a credential; the sandbox keeps it out")).toBe(true);
    expect(has("ok", "~/.aws/credentials exists; the sandbox hides it")).toBe(true);
    expect(findings.some((f) => f.message.includes("~/.aws/credentials is readable"))).toBe(false);
    expect(r.stdout).not.toContain("ghp_ccc");
  });

  it("reports a pinned binary the user can write", async () => {
    const { writablePins } = await import("../../src/cli/doctor.js");
    const { writePins } = await import("../../src/exec/pins.js");
    const sb = sandbox();
    const gh = sb.write(join(sb.home, ".local/bin/gh"), "#!/bin/sh\n", 0o755);
    writePins(sb.env, new Map([["gh", gh]]));
    // As root every file is writable: the check counts only what root does not own, which a test file is not.
    if (process.getuid?.() === 0) {
      const { chownSync } = await import("node:fs");
      chownSync(gh, 1000, 1000);
    }
    expect(
      writablePins(sb.env, true)
        .map((x) => x.message)
        .join("\n"),
    ).toMatch(/gh: the pinned .* is writable by you/);
  });
});

describe("doctor, the decision service", () => {
  it("reports a service that is set up but not running as an error (every tool call is then blocked)", async () => {
    const { ensureServeConfig } = await import("../../src/serve/config.js");
    const sb = sandbox();
    sb.write("home/.config/downscope/config.yaml", "version: 1\nservices: {}\n");
    await ensureServeConfig(sb.env, async () => 1029); // a port nothing listens on here
    const r = await runCli(["doctor", "--json"], { env: sb.env, cwd: sb.project });
    const findings = (JSON.parse(r.stdout) as { findings: { level: string; check: string; message: string }[] })
      .findings;
    expect(findings.find((f) => f.check === "serve")).toMatchObject({
      level: "error",
      message: expect.stringMatching(/decision service is not running on 127\.0\.0\.1:1029 .*blocks every tool call/),
    });
  });
});
