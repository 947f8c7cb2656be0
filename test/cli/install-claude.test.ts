import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const EXISTING = `{
    "model": "opus",
    "permissions": { "allow": ["Bash(npm test:*)"], "deny": [] },
    "hooks": {
        "PreToolUse": [
            { "matcher": "Write", "hooks": [ { "type": "command", "command": "my-linter" } ] }
        ],
        "Stop": []
    },
    "env": { "FOO": "1" }
}`;

async function cli(sb: ReturnType<typeof sandbox>, ...argv: string[]) {
  return runCli(argv, { env: sb.env, cwd: sb.project });
}

describe("downscope install claude", () => {
  it.each([
    ["user", (sb: ReturnType<typeof sandbox>) => join(sb.home, ".claude/settings.json")],
    ["project", (sb: ReturnType<typeof sandbox>) => join(sb.project, ".claude/settings.json")],
    ["local", (sb: ReturnType<typeof sandbox>) => join(sb.project, ".claude/settings.local.json")],
  ])("--scope %s: round trip leaves existing settings byte-identical", async (scope, path) => {
    const sb = sandbox();
    const file = sb.write(path(sb), EXISTING);
    expect((await cli(sb, "install", "claude", "--scope", scope)).code).toBe(0);
    const installed = JSON.parse(readFileSync(file, "utf8"));
    expect(installed.model).toBe("opus");
    expect(installed.env).toEqual({ FOO: "1" });
    expect(installed.hooks.Stop).toEqual([]);
    expect(installed.hooks.PreToolUse[0]).toEqual({
      matcher: "Write",
      hooks: [{ type: "command", command: "my-linter" }],
    });
    expect(installed.hooks.PreToolUse[1]).toEqual({
      matcher: "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob",
      hooks: [
        {
          type: "command",
          command: expect.stringMatching(/bin\/downscope\.js hook \|\| exit 2$/),
          timeout: 10,
          // A crash or a timeout of the hook blocks the tool (without it, Claude Code runs it).
          onFailure: "block",
        },
      ],
    });
    expect(installed.hooks.SessionStart[0].hooks).toEqual([
      {
        type: "command",
        command: expect.stringMatching(/bin\/downscope\.js session-start \|\| exit 2$/),
        timeout: 10,
        onFailure: "block",
      },
    ]);
    // The masking hook after every tool call (docs/masking.md).
    for (const event of ["PostToolUse", "PostToolUseFailure"])
      expect(installed.hooks[event]).toEqual([
        {
          matcher: "*",
          hooks: [
            {
              type: "command",
              command: expect.stringMatching(/bin\/downscope\.js post-tool-use \|\| exit 2$/),
              timeout: 10,
              onFailure: "block",
            },
          ],
        },
      ]);
    expect(readFileSync(`${file}.downscope-backup`, "utf8")).toBe(EXISTING);
    // idempotent
    const once = readFileSync(file, "utf8");
    expect((await cli(sb, "install", "claude", "--scope", scope)).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(once);
    expect((await cli(sb, "uninstall", "claude", "--scope", scope)).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(EXISTING);
  });

  it("creates the file when missing and uninstall removes it again", async () => {
    const sb = sandbox();
    const file = join(sb.project, ".claude/settings.json");
    await cli(sb, "install", "claude", "--scope", "project");
    expect(JSON.parse(readFileSync(file, "utf8")).hooks.PreToolUse).toHaveLength(1);
    await cli(sb, "uninstall", "claude", "--scope", "project");
    expect(existsSync(file)).toBe(false);
  });

  it("uninstall after the user edited the file removes only downscope's entries", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/settings.json"), EXISTING);
    await cli(sb, "install", "claude", "--scope", "project");
    const edited = JSON.parse(readFileSync(file, "utf8"));
    edited.theme = "dark";
    sb.write(file, JSON.stringify(edited, null, 4) + "\n");
    await cli(sb, "uninstall", "claude", "--scope", "project");
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after).toEqual({ ...JSON.parse(EXISTING), theme: "dark" });
  });

  it("adds mcp__.* to the matcher when the policy has MCP services", async () => {
    const sb = sandbox();
    sb.write(
      "etc/downscope/config.yaml",
      "version: 1\nservices:\n  gh-mcp: { server: github, downscope_mode: none }\n",
    );
    await cli(sb, "install", "claude", "--scope", "project");
    const s = JSON.parse(readFileSync(join(sb.project, ".claude/settings.json"), "utf8"));
    expect(s.hooks.PreToolUse[0].matcher).toBe(
      "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob|mcp__.*",
    );
  });

  it("--dry-run prints a diff and writes nothing", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/settings.json"), EXISTING);
    const r = await cli(sb, "install", "claude", "--scope", "project", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\+ +"matcher": "Bash\|Write\|Edit\|MultiEdit\|NotebookEdit\|Read\|NotebookRead\|Grep\|Glob",$/m,
    );
    expect(r.stdout).toMatch(/^ +"model": "opus",$/m);
    expect(readFileSync(file, "utf8")).toBe(EXISTING);
    expect(existsSync(`${file}.downscope-backup`)).toBe(false);
  });

  it.each([
    [["install", "claude", "--scope", "global"], 64, "--scope must be user, project or local"],
    [["install", "claude", "--bogus"], 64, "usage: downscope install claude"],
    [["install", "nope"], 64, "claude"],
  ])("bad usage %j → %i", async (argv, code, text) => {
    const r = await cli(sandbox(), ...argv);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(text);
  });

  it("settings that are not a JSON object: one clear message, file untouched", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/settings.local.json"), "[1]\n");
    const r = await cli(sb, "install", "claude", "--scope", "local");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${file}: expected a JSON object`);
    expect(readFileSync(file, "utf8")).toBe("[1]\n");
  });

  it("uninstall with nothing installed says so and changes nothing", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/settings.json"), EXISTING);
    const r = await cli(sb, "uninstall", "claude", "--scope", "project");
    expect(r).toMatchObject({ code: 0, stderr: expect.stringContaining("nothing to remove") });
    expect(readFileSync(file, "utf8")).toBe(EXISTING);
  });

  it("invalid settings JSON: one clear message, file untouched", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/settings.json"), "{ nope");
    const r = await cli(sb, "install", "claude", "--scope", "project");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${file}: not valid JSON`);
    expect(readFileSync(file, "utf8")).toBe("{ nope");
  });
});

describe("Claude Code plugin files", () => {
  it("plugin.json carries the package version and hooks.json runs the same commands as install", () => {
    const root = join(import.meta.dirname, "..", "..");
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const plugin = JSON.parse(readFileSync(join(root, ".claude-plugin", "plugin.json"), "utf8"));
    expect(plugin).toMatchObject({ name: "downscope", version: pkg.version });
    const hooks = JSON.parse(readFileSync(join(root, "hooks", "hooks.json"), "utf8")).hooks;
    expect(hooks.PreToolUse[0].hooks[0].command).toBe('node "${CLAUDE_PLUGIN_ROOT}/bin/downscope.js" hook || exit 2');
    expect(hooks.SessionStart[0].hooks[0].command).toMatch(/ session-start \|\| exit 2$/);
    // The plugin's entries fail closed as install's do.
    for (const event of ["PreToolUse", "SessionStart"]) expect(hooks[event][0].hooks[0].onFailure).toBe("block");
    for (const event of ["PostToolUse", "PostToolUseFailure"])
      expect(hooks[event][0]).toEqual({
        matcher: "*",
        hooks: [
          {
            type: "command",
            command: 'node "${CLAUDE_PLUGIN_ROOT}/bin/downscope.js" post-tool-use || exit 2',
            timeout: 10,
            onFailure: "block",
          },
        ],
      });
  });
});

describe("install claude pins the real binaries", () => {
  it("writes the shims with their marker and the pins file", async () => {
    const sb = sandbox();
    sb.write("etc/downscope/config.yaml", "version: 1\nservices:\n  gh: { downscope_mode: none }\n");
    const r = await cli(sb, "install", "claude", "--scope", "project");
    expect(r.code).toBe(0);
    expect(existsSync(join(sb.home, ".local/share/downscope/shims/.downscope-shims"))).toBe(true);
    expect(existsSync(join(sb.home, ".local/share/downscope/shims/gh"))).toBe(true);
    expect(r.stderr).toContain("shims");
  });
});
