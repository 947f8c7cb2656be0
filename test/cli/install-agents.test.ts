/**
 * `downscope install cursor|gemini` and `uninstall`: the same contract as
 * `install claude` (test/cli/install-claude.test.ts): a byte-identical round
 * trip at either scope, every other key and hook kept, idempotent, a diff on
 * --dry-run, bad files refused with one message and left untouched. And the
 * installed command is the one that fails closed in that agent: run as the
 * agent runs it (through sh), with node broken, it still answers deny.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GEMINI_MATCHER } from "../../src/agents/gemini.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const CURSOR_EXISTING = `{
    "version": 1,
    "hooks": {
        "afterFileEdit": [ { "command": "./hooks/format.sh" } ],
        "beforeShellExecution": [ { "command": "./hooks/audit.sh" } ]
    }
}`;

const GEMINI_EXISTING = `{
  "model": { "name": "gemini-2.5-pro" },
  "hooks": {
    "BeforeTool": [
      { "matcher": "write_file", "hooks": [ { "type": "command", "command": "./lint.sh" } ] }
    ],
    "SessionStart": []
  },
  "mcpServers": { "fs": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "."] } }
}
`;

const cli = (sb: Sandbox, ...argv: string[]) => runCli(argv, { env: sb.env, cwd: sb.project });

const files = {
  cursor: {
    user: (sb: Sandbox) => join(sb.home, ".cursor/hooks.json"),
    project: (sb: Sandbox) => join(sb.project, ".cursor/hooks.json"),
  },
  gemini: {
    user: (sb: Sandbox) => join(sb.home, ".gemini/settings.json"),
    project: (sb: Sandbox) => join(sb.project, ".gemini/settings.json"),
  },
};

describe.each([
  ["cursor", CURSOR_EXISTING],
  ["gemini", GEMINI_EXISTING],
] as const)("downscope install %s", (agent, existing) => {
  it.each(["user", "project"] as const)("--scope %s: round trip leaves the settings byte-identical", async (scope) => {
    const sb = sandbox();
    const file = sb.write(files[agent][scope](sb), existing);
    const r = await cli(sb, "install", agent, "--scope", scope);
    expect(r.code, r.stderr).toBe(0);
    const installed = JSON.parse(readFileSync(file, "utf8"));
    if (agent === "cursor") {
      expect(installed.version).toBe(1);
      expect(installed.hooks.afterFileEdit).toEqual([{ command: "./hooks/format.sh" }]);
      // Ours first (Cursor releases that run only a list's first hook), the user's kept after it.
      expect(installed.hooks.beforeShellExecution[1]).toEqual({ command: "./hooks/audit.sh" });
      for (const e of ["beforeShellExecution", "beforeMCPExecution", "preToolUse"]) {
        const ours = installed.hooks[e][0];
        expect(ours.command).toMatch(/bin\/downscope\.js'? hook --agent cursor$/);
        expect(ours.failClosed).toBe(true);
        expect(ours.timeout).toBe(10); // seconds
      }
      expect(installed.hooks.preToolUse[0].matcher).toBe("Shell|Write|Delete|StrReplace|Edit|MultiEdit");
      // The masking hook (docs/masking.md): Cursor lets it replace MCP tools' output.
      expect(installed.hooks.postToolUse).toEqual([
        {
          command: expect.stringMatching(/bin\/downscope\.js'? post-tool-use --agent cursor$/),
          failClosed: true,
          timeout: 10,
        },
      ]);
    } else {
      expect(installed.model).toEqual({ name: "gemini-2.5-pro" });
      expect(installed.mcpServers.fs.command).toBe("npx");
      expect(installed.hooks.SessionStart).toEqual([]);
      expect(installed.hooks.BeforeTool[0].matcher).toBe("write_file");
      const ours = installed.hooks.BeforeTool[1];
      expect(ours.matcher).toBe(GEMINI_MATCHER);
      expect(ours.hooks[0]).toMatchObject({ type: "command", name: "downscope", timeout: 10000 });
      expect(ours.hooks[0].command).toMatch(/bin\/downscope\.js'? hook --agent gemini \|\| \{ printf/);
      // The masking hook on every tool (docs/masking.md).
      expect(installed.hooks.AfterTool).toEqual([
        {
          matcher: ".*",
          hooks: [
            expect.objectContaining({
              type: "command",
              name: "downscope-mask",
              timeout: 10000,
              command: expect.stringMatching(/bin\/downscope\.js'? post-tool-use --agent gemini \|\| \{ printf/),
            }),
          ],
        },
      ]);
    }
    expect(readFileSync(`${file}.downscope-backup`, "utf8")).toBe(existing);
    const once = readFileSync(file, "utf8");
    expect((await cli(sb, "install", agent, "--scope", scope)).stderr).toContain("already installed");
    expect(readFileSync(file, "utf8")).toBe(once);
    expect((await cli(sb, "uninstall", agent, "--scope", scope)).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(existing);
    expect(existsSync(`${file}.downscope-backup`)).toBe(false);
  });

  it("creates the file when missing and uninstall removes it again", async () => {
    const sb = sandbox();
    const file = files[agent].project(sb);
    await cli(sb, "install", agent, "--scope", "project");
    expect(existsSync(file)).toBe(true);
    await cli(sb, "uninstall", agent, "--scope", "project");
    expect(existsSync(file)).toBe(false);
  });

  it("uninstall after the user edited the file removes only downscope's entries", async () => {
    const sb = sandbox();
    const file = sb.write(files[agent].project(sb), existing);
    await cli(sb, "install", agent, "--scope", "project");
    const edited = JSON.parse(readFileSync(file, "utf8"));
    edited.added = true;
    sb.write(file, JSON.stringify(edited, null, 2));
    await cli(sb, "uninstall", agent, "--scope", "project");
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after).toEqual({ ...JSON.parse(existing), added: true });
  });

  it("--dry-run prints a diff and writes nothing", async () => {
    const sb = sandbox();
    const file = sb.write(files[agent].project(sb), existing);
    const r = await cli(sb, "install", agent, "--scope", "project", "--dry-run");
    expect(r.stdout).toContain(`--- ${file}`);
    expect(r.stdout).toMatch(new RegExp(`\\+.*hook --agent ${agent}`));
    expect(readFileSync(file, "utf8")).toBe(existing);
  });

  it.each([
    ["not JSON", "{ nope"],
    ["not an object", "[1]"],
    ["hooks not an object", '{ "hooks": [] }'],
  ])("settings that are %s: one clear message, file untouched", async (_what, text) => {
    const sb = sandbox();
    const file = sb.write(files[agent].project(sb), text);
    const r = await cli(sb, "install", agent, "--scope", "project");
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(file);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("a bad --scope is a usage error", async () => {
    const r = await cli(sandbox(), "install", agent, "--scope", "local");
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("--scope must be user or project");
  });

  it("uninstall with nothing installed says so and changes nothing", async () => {
    const sb = sandbox();
    const file = sb.write(files[agent].project(sb), existing);
    expect((await cli(sb, "uninstall", agent, "--scope", "project")).stderr).toContain("nothing to remove");
    expect(readFileSync(file, "utf8")).toBe(existing);
  });
});

/*
 * Bypass: the hook's own catch cannot answer when node itself fails to start
 * (a broken install, node missing from PATH); Gemini CLI then lets the tool
 * run unless the failure looks like a block (exit 2). Fix: the installed
 * command turns any failure into exit 2 with a JSON deny. Proves: the exact
 * command install wrote, run through sh as Gemini CLI runs it, with the
 * downscope bin unrunnable, answers the deny and exits 2.
 */
describe("the installed Gemini CLI command fails closed when node cannot run it", () => {
  it("exit 2 and a JSON deny", async () => {
    const sb = sandbox();
    await cli(sb, "install", "gemini", "--scope", "project");
    const command: string = JSON.parse(readFileSync(files.gemini.project(sb), "utf8")).hooks.BeforeTool[0].hooks[0]
      .command;
    // The command starts with the quoted bin path; a PATH without node makes the bin's `#!/usr/bin/env node` fail.
    const r = spawnSync("/bin/sh", ["-c", command], { input: "{}", env: { PATH: "/nonexistent" }, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ decision: "deny", reason: expect.stringContaining("could not run") });
  });

  it("the AfterTool masking command too: when node cannot run it, a deny (the output is withheld) and exit 2", async () => {
    const sb = sandbox();
    await cli(sb, "install", "gemini", "--scope", "project");
    const command: string = JSON.parse(readFileSync(files.gemini.project(sb), "utf8")).hooks.AfterTool[0].hooks[0]
      .command;
    const r = spawnSync("/bin/sh", ["-c", command], { input: "{}", env: { PATH: "/nonexistent" }, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ decision: "deny", reason: expect.stringContaining("output is withheld") });
  });

  it("and the same command answers normally when node runs", async () => {
    const sb = sandbox();
    await cli(sb, "install", "gemini", "--scope", "project");
    const command: string = JSON.parse(readFileSync(files.gemini.project(sb), "utf8")).hooks.BeforeTool[0].hooks[0]
      .command;
    const r = spawnSync("/bin/sh", ["-c", command], { input: "not json", env: { ...sb.env }, encoding: "utf8" });
    expect(r.status).toBe(0);
    // The built bundles (hook.cjs + hook-gemini.cjs), as Gemini CLI runs them: a bad payload is named as such.
    expect(JSON.parse(r.stdout)).toEqual({
      decision: "deny",
      reason: expect.stringMatching(/^downscope: the hook input is not JSON/),
    });
  });
});
