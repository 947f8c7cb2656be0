/* eslint-disable @typescript-eslint/no-explicit-any -- parsed TOML and JSON of the agents' files */
/**
 * `downscope install codex|copilot|opencode|pi` and `uninstall`, through the
 * one driver (src/cli/install-agent.ts): the contract every agent keeps — a
 * byte-identical round trip, the user's comments and order kept (TOML), every
 * other key kept (JSON), idempotent, a diff on --dry-run, bad files refused
 * with one message naming file, line and column, a file downscope did not
 * write never replaced — and each agent's config-directory variable honoured
 * (CODEX_HOME, COPILOT_HOME, OPENCODE_CONFIG_DIR, PI_CODING_AGENT_DIR,
 * CLAUDE_CONFIG_DIR, GEMINI_CLI_HOME).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { codexHookKey, codexTrustedHash } from "../../src/agents/codex.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const cli = (sb: Sandbox, env: Record<string, string>, ...argv: string[]) =>
  runCli(argv, { env: { ...sb.env, ...env }, cwd: sb.project });

const CODEX_EXISTING = `# my Codex settings
model = "gpt-5.5"   # the model I like

[model_providers.corp]
name = "corp"
base_url = "https://llm.corp.example/v1"

# a hook of my own, first
[[hooks.PreToolUse]]
matcher = "^Bash$"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "~/bin/audit.sh"`; // no trailing newline, on purpose

describe("downscope install codex", () => {
  it("appends one block after the user's TOML, trusts exactly that hook, and uninstall gives back the bytes", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.home, ".codex/config.toml"), CODEX_EXISTING);
    const r = await cli(sb, {}, "install", "codex");
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, "utf8");
    // Comments and order: the original text is untouched, downscope's block follows it.
    expect(text.startsWith(CODEX_EXISTING)).toBe(true);
    const doc = parse(text) as any;
    expect(doc.model).toBe("gpt-5.5");
    expect(doc.hooks.PreToolUse).toHaveLength(2);
    const ours = doc.hooks.PreToolUse[1];
    expect(ours.matcher).toBe(".*");
    expect(ours.hooks[0]).toMatchObject({ type: "command", timeout: 10 });
    const command: string = ours.hooks[0].command;
    expect(command).toMatch(/bin\/downscope\.js'? hook --agent codex \|\| \{ echo .* >&2; exit 2; \}$/);
    // The trust record for the second group of this file, with the hash Codex computes for it.
    expect(doc.hooks.state).toEqual({ [codexHookKey(file, 1)]: { trusted_hash: codexTrustedHash(command) } });
    expect(readFileSync(`${file}.downscope-backup`, "utf8")).toBe(CODEX_EXISTING);
    expect((await cli(sb, {}, "install", "codex")).stderr).toContain("already installed");
    expect(readFileSync(file, "utf8")).toBe(text);
    expect((await cli(sb, {}, "uninstall", "codex")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(CODEX_EXISTING);
    expect(existsSync(`${file}.downscope-backup`)).toBe(false);
  });

  it("honours CODEX_HOME, creates the file when missing, and uninstall removes it", async () => {
    const sb = sandbox();
    const home = join(sb.root, "codex-home");
    const r = await cli(sb, { CODEX_HOME: home }, "install", "codex");
    expect(r.code, r.stderr).toBe(0);
    const file = join(home, "config.toml");
    const doc = parse(readFileSync(file, "utf8")) as any;
    expect(Object.keys(doc.hooks.state)).toEqual([codexHookKey(file, 0)]);
    expect(existsSync(join(sb.home, ".codex/config.toml"))).toBe(false);
    await cli(sb, { CODEX_HOME: home }, "uninstall", "codex");
    expect(existsSync(file)).toBe(false);
  });

  it("uninstall after the user edited the file removes only downscope's block", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.home, ".codex/config.toml"), `${CODEX_EXISTING}\n`);
    await cli(sb, {}, "install", "codex");
    sb.write(file, `# added later\n${readFileSync(file, "utf8")}`);
    await cli(sb, {}, "uninstall", "codex");
    expect(readFileSync(file, "utf8")).toBe(`# added later\n${CODEX_EXISTING}\n`);
  });

  it.each([
    ["not TOML", 'model = "unterminated\n', /config\.toml:1:\d+: /],
    ["hooks defined inline", "hooks = { PreToolUse = [] }\n", /cannot be appended/],
  ])("a file that is %s: one clear message, file untouched", async (_what, text, message) => {
    const sb = sandbox();
    const file = sb.write(join(sb.home, ".codex/config.toml"), text);
    const r = await cli(sb, {}, "install", "codex");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("--scope project is refused: the trust record lives in the user's config.toml", async () => {
    const r = await cli(sandbox(), {}, "install", "codex", "--scope", "project");
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("user scope only");
  });

  it("--dry-run prints the block as a diff and writes nothing", async () => {
    const sb = sandbox();
    const r = await cli(sb, {}, "install", "codex", "--dry-run");
    expect(r.stdout).toMatch(/\+\[\[hooks\.PreToolUse\]\]/);
    expect(existsSync(join(sb.home, ".codex/config.toml"))).toBe(false);
  });
});

const COPILOT_EXISTING = `{
    "banner": "never",
    "hooks": {
        "postToolUse": [ { "type": "command", "bash": "./log.sh" } ],
        "preToolUse": [ { "type": "command", "bash": "./mine.sh", "timeoutSec": 5 } ]
    }
}`;

describe("downscope install copilot", () => {
  it("puts the hook first in preToolUse, keeps the rest, and the round trip is byte-identical", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.home, ".copilot/settings.json"), COPILOT_EXISTING);
    expect((await cli(sb, {}, "install", "copilot")).code).toBe(0);
    const s = JSON.parse(readFileSync(file, "utf8"));
    expect(s.banner).toBe("never");
    expect(s.hooks.postToolUse).toEqual([{ type: "command", bash: "./log.sh" }]);
    expect(s.hooks.preToolUse[1]).toEqual({ type: "command", bash: "./mine.sh", timeoutSec: 5 });
    expect(s.hooks.preToolUse[0]).toMatchObject({ type: "command", timeoutSec: 10 });
    expect(s.hooks.preToolUse[0].bash).toMatch(/hook --agent copilot \|\| \{ printf '%s\\n' .*; exit 2; \}$/);
    await cli(sb, {}, "uninstall", "copilot");
    expect(readFileSync(file, "utf8")).toBe(COPILOT_EXISTING);
  });

  it("honours COPILOT_HOME", async () => {
    const sb = sandbox();
    const home = join(sb.root, "cp");
    await cli(sb, { COPILOT_HOME: home }, "install", "copilot");
    expect(existsSync(join(home, "settings.json"))).toBe(true);
    expect(existsSync(join(sb.home, ".copilot"))).toBe(false);
  });
});

describe.each([
  ["opencode", "OPENCODE_CONFIG_DIR", (sb: Sandbox) => join(sb.home, ".config/opencode/plugin/downscope.js")],
  ["pi", "PI_CODING_AGENT_DIR", (sb: Sandbox) => join(sb.home, ".pi/agent/extensions/downscope.js")],
] as const)("downscope install %s", (agent, variable, defaultFile) => {
  it("writes downscope's module, and uninstall removes it", async () => {
    const sb = sandbox();
    const file = defaultFile(sb);
    expect((await cli(sb, {}, "install", agent)).code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\/\/ downscope: /);
    expect(text).toContain(`"hook", "--agent", "${agent}"`);
    expect(text).toContain(JSON.stringify(process.execPath));
    // The module is valid JavaScript.
    expect(spawnSync(process.execPath, ["--check", "--input-type=module"], { input: text }).status).toBe(0);
    expect((await cli(sb, {}, "install", agent)).stderr).toContain("already installed");
    await cli(sb, {}, "uninstall", agent);
    expect(existsSync(file)).toBe(false);
  });

  it(`honours ${variable}`, async () => {
    const sb = sandbox();
    const dir = join(sb.root, "moved");
    await cli(sb, { [variable]: dir }, "install", agent);
    expect(existsSync(defaultFile(sb))).toBe(false);
    expect(existsSync(join(dir, agent === "pi" ? "extensions/downscope.js" : "plugin/downscope.js"))).toBe(true);
  });

  it("never replaces a file of that name downscope did not write", async () => {
    const sb = sandbox();
    const file = sb.write(defaultFile(sb), "export const Mine = async () => ({});\n");
    const r = await cli(sb, {}, "install", agent);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("was not written by downscope");
    expect(readFileSync(file, "utf8")).toBe("export const Mine = async () => ({});\n");
    expect((await cli(sb, {}, "uninstall", agent)).stderr).toContain("nothing to remove");
    expect(existsSync(file)).toBe(true);
  });
});

describe("the config-directory variables of Claude Code and Gemini CLI", () => {
  it("CLAUDE_CONFIG_DIR: install claude writes the settings.json Claude Code reads", async () => {
    const sb = sandbox();
    const dir = join(sb.root, "claude-config");
    expect((await cli(sb, { CLAUDE_CONFIG_DIR: dir }, "install", "claude")).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "settings.json"), "utf8")).hooks.PreToolUse).toHaveLength(1);
    expect(existsSync(join(sb.home, ".claude/settings.json"))).toBe(false);
    await cli(sb, { CLAUDE_CONFIG_DIR: dir }, "uninstall", "claude");
    expect(existsSync(join(dir, "settings.json"))).toBe(false);
  });

  it("GEMINI_CLI_HOME: install gemini writes $GEMINI_CLI_HOME/.gemini/settings.json", async () => {
    const sb = sandbox();
    const home = join(sb.root, "gemini-home");
    await cli(sb, { GEMINI_CLI_HOME: home }, "install", "gemini");
    expect(existsSync(join(home, ".gemini/settings.json"))).toBe(true);
    expect(existsSync(join(sb.home, ".gemini/settings.json"))).toBe(false);
  });
});

/*
 * Bypass: Codex CLI and Copilot CLI run a call whose hook exits 1 (Codex) or
 * times out (both); node failing to start is such an exit. Fix: the installed
 * command turns any failure into exit 2 with the agent's deny (Codex: the
 * reason on stderr; Copilot: the JSON deny). Proves: the exact command
 * install wrote, run through sh as the agent runs it, with node unrunnable,
 * blocks in the agent's terms.
 */
describe("the installed command fails closed when node cannot run it", () => {
  it("Codex CLI: exit 2 with the reason on stderr", async () => {
    const sb = sandbox();
    await cli(sb, {}, "install", "codex");
    const doc = parse(readFileSync(join(sb.home, ".codex/config.toml"), "utf8")) as any;
    const command: string = doc.hooks.PreToolUse[0].hooks[0].command;
    const r = spawnSync("/bin/sh", ["-c", command], { input: "{}", env: { PATH: "/nonexistent" }, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the hook could not run, so the tool call is blocked");
  });

  it("Copilot CLI: exit 2 and a JSON deny", async () => {
    const sb = sandbox();
    await cli(sb, {}, "install", "copilot");
    const command: string = JSON.parse(readFileSync(join(sb.home, ".copilot/settings.json"), "utf8")).hooks
      .preToolUse[0].bash;
    const r = spawnSync("/bin/sh", ["-c", command], { input: "{}", env: { PATH: "/nonexistent" }, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ permissionDecision: "deny" });
  });
});
