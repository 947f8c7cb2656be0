/* eslint-disable @typescript-eslint/no-explicit-any -- recorded JSON of external protocols */
/**
 * `downscope hook --agent cursor|gemini` end to end in-process: recorded
 * payloads (test/fixtures/agents/: Gemini CLI's recorded from the real CLI
 * 0.61.0, Cursor's from its documentation) → the agent's answer and exit
 * code, and every error path → that agent's deny.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hook } from "../../src/cli/hook.js";
import type { Io } from "../../src/io.js";
import { parseCursorPayload } from "../../src/hook/agents/cursor.js";
import { parseGeminiPayload } from "../../src/hook/agents/gemini.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
  github-mcp:
    server: github
    rules:
      - { name: no repo deletion, match: { tools: [delete_repository] }, action: deny }
      - { name: issues need a human, match: { tools: [create_issue] }, action: review }
`;

const fixtures = join(import.meta.dirname, "..", "fixtures", "agents");
const fixture = (rel: string) => JSON.parse(readFileSync(join(fixtures, rel), "utf8")) as Record<string, any>;

function setup(policy = POLICY) {
  const sb = sandbox();
  sb.write("etc/downscope/config.yaml", policy);
  return sb;
}

async function runHook(agent: "cursor" | "gemini", sb: ReturnType<typeof sandbox>, payload: unknown) {
  const stdin = typeof payload === "string" ? payload : JSON.stringify(payload);
  const r = await runCli(["hook", "--agent", agent], { env: sb.env, cwd: sb.project, stdin });
  return { ...r, json: r.stdout === "" ? undefined : JSON.parse(r.stdout) };
}

const cursorShell = (command: string, sb: ReturnType<typeof sandbox>) => ({
  ...fixture("cursor/before-shell-execution.json"),
  command,
  cwd: sb.project,
  workspace_roots: [sb.project],
});
const cursorPreShell = (command: string, sb: ReturnType<typeof sandbox>) => ({
  ...fixture("cursor/pre-tool-use-shell.json"),
  tool_input: { command, working_directory: sb.project },
  cwd: sb.project,
  workspace_roots: [sb.project],
});
const geminiShell = (command: string, sb: ReturnType<typeof sandbox>) => {
  const f = fixture("gemini/shell.json");
  return { ...f, cwd: sb.project, tool_input: { ...f.tool_input, command } };
};

describe("recorded payloads → the Claude-shaped payload the decision reads", () => {
  const ctx = { env: { HOME: "/nonexistent" }, cwd: "/" };
  it.each([
    ["gemini/shell.json", { tool_name: "Bash", tool_input: { command: "echo hi > a.txt", description: "scripted" } }],
    [
      "gemini/write-file.json",
      { tool_name: "Write", tool_input: { file_path: "/work/project/b.txt", content: "hello\n" } },
    ],
    [
      "gemini/replace.json",
      { tool_name: "Edit", tool_input: expect.objectContaining({ file_path: "/work/project/b.txt" }) },
    ],
    ["gemini/mcp.json", { tool_name: "mcp__fs__list_directory", tool_input: { path: "/work/project" } }],
  ])("Gemini CLI %s", (file, expected) => {
    const p = parseGeminiPayload(readFileSync(join(fixtures, file), "utf8"));
    expect(p).toMatchObject({ ...expected, cwd: "/work/project", session_id: "8850d14b-b223-4e93-ba44-bdf35d775fb9" });
  });

  it.each([
    ["cursor/before-shell-execution.json", { tool_name: "Bash", tool_input: { command: "gh pr list" } }],
    [
      "cursor/pre-tool-use-shell.json",
      {
        tool_name: "Bash",
        tool_input: { command: "gh pr list", working_directory: "/work/project" },
        agent_event: "preToolUse",
      },
    ],
    [
      "cursor/pre-tool-use-write.json",
      { tool_name: "Write", tool_input: expect.objectContaining({ file_path: "/work/project/src/main.ts" }) },
    ],
    // The server is not named in the payload and not in any mcp.json here: MCP:<tool>, which no service matches.
    ["cursor/before-mcp-execution.json", { tool_name: "MCP:delete_repository", tool_input: { owner: "o", repo: "r" } }],
  ])("Cursor %s", (file, expected) => {
    const p = parseCursorPayload(readFileSync(join(fixtures, file), "utf8"), ctx);
    expect(p).toMatchObject({ ...expected, cwd: "/work/project", session_id: "668320d2-2fd8-4888-b33c-2a466fec86e7" });
  });

  it("Cursor: the MCP server is found by its command line in .cursor/mcp.json, or named by downscope mcp-proxy", () => {
    const sb = sandbox();
    sb.write(
      join(sb.project, ".cursor", "mcp.json"),
      JSON.stringify({
        mcpServers: { github: { command: "npx", args: ["-y", "@modelcontextprotocol/server-github"] } },
      }),
    );
    const f = { ...fixture("cursor/before-mcp-execution.json"), workspace_roots: [sb.project] };
    expect(parseCursorPayload(JSON.stringify(f), { env: sb.env, cwd: "/" }).tool_name).toBe(
      "mcp__github__delete_repository",
    );
    const proxied = { ...f, workspace_roots: [], command: "downscope mcp-proxy --server github -- npx -y x" };
    expect(parseCursorPayload(JSON.stringify(proxied), { env: sb.env, cwd: "/" }).tool_name).toBe(
      "mcp__github__delete_repository",
    );
  });
});

describe("downscope hook --agent gemini", () => {
  it("no service: prints nothing, exit 0", async () => {
    expect(await runHook("gemini", setup(), geminiShell("ls -la", sandbox()))).toMatchObject({ code: 0, stdout: "" });
  });
  it("deny: decision deny with the rule as the reason, exit 0", async () => {
    const sb = setup();
    const r = await runHook("gemini", sb, geminiShell("gh repo delete o/r", sb));
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      decision: "deny",
      reason: expect.stringContaining('denied by rule "repo deletion denied"'),
    });
  });
  it("rewrite: hookSpecificOutput.tool_input carries only the rewritten command", async () => {
    const sb = setup();
    const r = await runHook("gemini", sb, geminiShell("gh pr list", sb));
    expect(r.json).toEqual({
      hookSpecificOutput: {
        hookEventName: "BeforeTool",
        tool_input: { command: expect.stringMatching(/downscope-exec(\.js'?)? gh pr list$/) },
      },
    });
  });
  it("review: decision ask, the rewrite bound to a hook-made approval", async () => {
    const sb = setup();
    const r = await runHook("gemini", sb, geminiShell("gh pr merge 12", sb));
    expect(r.json.decision).toBe("ask");
    expect(r.json.systemMessage).toContain("review required");
    expect(r.json.hookSpecificOutput.tool_input.command).toMatch(/^DOWNSCOPE_APPROVAL=\S+ \S+ gh pr merge 12$/);
  });
  it("MCP: the server comes from mcp_context", async () => {
    const sb = setup();
    const f = fixture("gemini/mcp.json");
    const r = await runHook("gemini", sb, {
      ...f,
      cwd: sb.project,
      mcp_context: { ...f.mcp_context, server_name: "github", tool_name: "delete_repository" },
    });
    expect(r.json).toMatchObject({ decision: "deny", reason: expect.stringContaining("github/delete_repository") });
    const ask = await runHook("gemini", sb, {
      ...f,
      cwd: sb.project,
      mcp_context: { server_name: "github", tool_name: "create_issue" },
    });
    expect(ask.json.decision).toBe("ask");
  });
});

describe("downscope hook --agent cursor", () => {
  it("no service: no opinion ({}, so Cursor's own settings decide), exit 0", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorShell("ls -la", sb));
    expect(r).toMatchObject({ code: 0, stdout: "{}\n" });
  });
  it("deny: permission deny, the reason to the agent and the user", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorShell("gh repo delete o/r", sb));
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ permission: "deny", agent_message: expect.stringContaining("not for agents") });
  });
  it("beforeShellExecution cannot rewrite: an unrewritten call is denied, naming the downscope-exec command to run instead", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorShell("gh pr list", sb));
    expect(r.json.permission).toBe("deny");
    const cmd = /Run exactly this instead: (.*)$/.exec(r.json.agent_message)![1]!;
    expect(cmd).toMatch(/downscope-exec(\.js'?)? gh pr list$/);
    // The agent runs what it was told: the hook lets it through.
    expect((await runHook("cursor", sb, cursorShell(cmd, sb))).json).toEqual({});
  });
  it("beforeShellExecution, an unrewritten review: deny with run-it-yourself (an approval cannot ride on an unchanged command)", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorShell("gh pr merge 12", sb));
    expect(r.json.permission).toBe("deny");
    expect(r.json.agent_message).toContain("ask the user to run it themselves");
    expect(r.json.agent_message).not.toContain("DOWNSCOPE_APPROVAL=");
  });
  it("preToolUse for Shell: the rewrite in updated_input (the rest of the tool input kept)", async () => {
    const sb = setup();
    // Not auto-approved (it writes a file): no permission, so Cursor's own approval settings decide.
    const plain = await runHook("cursor", sb, cursorPreShell("gh pr list > prs.txt", sb));
    expect(Object.keys(plain.json)).toEqual(["updated_input"]);
    expect(plain.json.updated_input.command).toMatch(/downscope-exec(\.js'?)? gh pr list > prs.txt$/);
    // Auto-approved (settings.auto_approve, as in Claude Code): permission allow with the rewrite.
    const r = await runHook("cursor", sb, cursorPreShell("gh pr list", sb));
    expect(r.code).toBe(0);
    expect(r.json.permission).toBe("allow");
    expect(r.json.updated_input).toEqual({
      command: expect.stringMatching(/downscope-exec(\.js'?)? gh pr list$/),
      working_directory: sb.project,
    });
    // The rewritten command, shown to beforeShellExecution, passes.
    expect((await runHook("cursor", sb, cursorShell(r.json.updated_input.command, sb))).json).toEqual({});
    expect((await runHook("cursor", sb, cursorPreShell("ls -la", sb))).json).toEqual({});
  });
  it("preToolUse for Shell: deny with the rule's reason", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorPreShell("gh repo delete o/r", sb));
    expect(r.json).toMatchObject({ permission: "deny", agent_message: expect.stringContaining("not for agents") });
  });
  it("preToolUse for Shell, a review: a gated approval in the rewrite, which beforeShellExecution asks about once", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorPreShell("gh pr merge 12", sb));
    const rewritten: string = r.json.updated_input.command;
    expect(rewritten).toMatch(/^DOWNSCOPE_APPROVAL=[A-Za-z0-9_-]{32} .*downscope-exec(\.js'?)? gh pr merge 12$/);
    expect(r.json.permission).toBeUndefined();
    const asked = await runHook("cursor", sb, cursorShell(rewritten, sb));
    expect(asked.json).toMatchObject({
      permission: "ask",
      user_message: expect.stringContaining("pr merge needs a human"),
    });
    // Shown again (a second hook run, a replay): it was already put to the human, so it is the agent's now → deny.
    expect((await runHook("cursor", sb, cursorShell(rewritten, sb))).json.permission).toBe("deny");
  });
  it("preToolUse for Shell, a review that is not a command of its own → deny, saying so", async () => {
    const sb = setup();
    const r = await runHook("cursor", sb, cursorPreShell("gh pr checks 12 && gh pr merge 12", sb));
    expect(r.json).toMatchObject({ permission: "deny", agent_message: expect.stringContaining("command of its own") });
  });
  it("MCP review → ask; MCP deny → deny (server named in .cursor/mcp.json)", async () => {
    const sb = setup();
    sb.write(
      join(sb.project, ".cursor", "mcp.json"),
      JSON.stringify({
        mcpServers: { github: { command: "npx", args: ["-y", "@modelcontextprotocol/server-github"] } },
      }),
    );
    const f = { ...fixture("cursor/before-mcp-execution.json"), workspace_roots: [sb.project] };
    expect((await runHook("cursor", sb, f)).json).toMatchObject({ permission: "deny" });
    expect((await runHook("cursor", sb, { ...f, tool_name: "create_issue" })).json).toMatchObject({
      permission: "ask",
    });
  });
  it("a file write goes through the shared decision (Write), and has no opinion when nothing objects", async () => {
    const sb = setup();
    const f = { ...fixture("cursor/pre-tool-use-write.json"), workspace_roots: [sb.project], cwd: sb.project };
    expect((await runHook("cursor", sb, f)).json).toEqual({});
  });
  it("the server named by the payload (mcp_server_name) wins", async () => {
    const sb = setup();
    const f = {
      ...fixture("cursor/before-mcp-execution.json"),
      mcp_server_name: "github",
      workspace_roots: [sb.project],
    };
    expect((await runHook("cursor", sb, f)).json).toMatchObject({ permission: "deny" });
  });
});

/*
 * Bypass: each agent fails open in its own way — Cursor lets the action run
 * when a hook crashes, times out or prints nothing (unless failClosed), Gemini
 * CLI when a hook exits 1, prints no JSON, or times out. Fix: every error path
 * answers that agent's deny (Cursor: JSON deny and exit 2; Gemini CLI: JSON
 * deny, exit 0, which it reads whatever the exit code). Proves: bad payloads,
 * a broken policy, an internal error and the deadline all end in the deny.
 */
describe("every error path ends in the agent's deny", () => {
  const expectDeny = (agent: "cursor" | "gemini", r: { code: number; stdout: string }, text: string | RegExp) => {
    const json = JSON.parse(r.stdout);
    if (agent === "cursor") {
      expect(r.code).toBe(2);
      expect(json).toMatchObject({ permission: "deny", agent_message: expect.stringMatching(text) });
    } else {
      expect(r.code).toBe(0);
      expect(json).toEqual({ decision: "deny", reason: expect.stringMatching(text) });
    }
    expect(r.stdout).not.toMatch(/\n\s+at /);
  };
  const agents = ["cursor", "gemini"] as const;

  it.each(agents)("%s: input that is not JSON", async (agent) => {
    expectDeny(agent, await runHook(agent, setup(), "not json"), /not JSON/);
  });
  it.each(agents)("%s: a JSON array", async (agent) => {
    expectDeny(agent, await runHook(agent, setup(), "[]"), /not a JSON object/);
  });
  it.each(agents)("%s: an event it does not answer", async (agent) => {
    expectDeny(agent, await runHook(agent, setup(), { hook_event_name: "stop", tool_name: "x" }), /event/);
  });
  it.each(agents)("%s: a shell call without a command", async (agent) => {
    const p =
      agent === "cursor"
        ? { hook_event_name: "beforeShellExecution" }
        : { hook_event_name: "BeforeTool", tool_input: [] };
    expectDeny(agent, await runHook(agent, setup(), p), /command|tool_name|tool_input/);
  });
  it("gemini: an MCP tool without mcp_context (its server cannot be told from the name)", async () => {
    const f = fixture("gemini/mcp.json");
    const { mcp_context: _drop, ...noContext } = f;
    expectDeny(
      "gemini",
      await runHook("gemini", setup(), noContext),
      /cannot tell which MCP server "mcp_fs_list_directory"/,
    );
  });
  it.each(agents)("%s: a broken policy", async (agent) => {
    const sb = setup("version: 1\nservices: [\n");
    const p = agent === "cursor" ? cursorShell("gh pr list", sb) : geminiShell("gh pr list", sb);
    expectDeny(agent, await runHook(agent, sb, p), /policy cannot be loaded/);
  });
  it.each(agents)("%s: an internal error", async (agent) => {
    const sb = setup();
    let stdout = "";
    const io: Io = {
      env: sb.env,
      cwd: sb.project,
      stdout: (t) => void (stdout += t),
      stderr: () => {},
      stdin: async () => {
        throw new Error("boom");
      },
    };
    const code = await hook(["--agent", agent], io);
    expectDeny(agent, { code, stdout }, /internal error \(boom\)/);
  });
  it.each(agents)("%s: the deadline", async (agent) => {
    const sb = setup();
    let stdout = "";
    const io: Io = {
      env: { ...sb.env, DOWNSCOPE_HOOK_DEADLINE_MS: "150" },
      cwd: sb.project,
      stdout: (t) => void (stdout += t),
      stderr: () => {},
      stdin: () => new Promise<string>(() => {}),
    };
    const code = await hook(["--agent", agent], io);
    expectDeny(
      agent,
      { code, stdout },
      new RegExp(`did not finish within 150 ms.*${agent === "cursor" ? "Cursor" : "Gemini CLI"}'s settings`),
    );
  });
  it("an unknown --agent is a deny (in Claude Code's terms), not a pass", async () => {
    const r = await runCli(["hook", "--agent", "windsurf"], { env: setup().env, cwd: "/", stdin: "{}" });
    expect(JSON.parse(r.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: "deny" });
  });
});

/*
 * Bypass: Cursor names an MCP call's server only by its command line, and a
 * project's .cursor/mcp.json is a file the agent can edit: a second entry with
 * the same command line under a name no rule covers would take the call out
 * of the github server's rules. Fix: two names for one command line cannot be
 * told apart, and the call is denied. Proves: the shadowing entry ends in a deny.
 */
describe("Cursor MCP server names cannot be shadowed", () => {
  it("a second entry with the same command line under another name → deny", async () => {
    const sb = setup();
    const line = { command: "npx", args: ["-y", "@modelcontextprotocol/server-github"] };
    sb.write(join(sb.home, ".cursor", "mcp.json"), JSON.stringify({ mcpServers: { github: line } }));
    sb.write(join(sb.project, ".cursor", "mcp.json"), JSON.stringify({ mcpServers: { harmless: line } }));
    const f = { ...fixture("cursor/before-mcp-execution.json"), workspace_roots: [sb.project] };
    const r = await runHook("cursor", sb, f);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ permission: "deny", agent_message: expect.stringContaining("github, harmless") });
  });
});

describe("the built bundles (bin/downscope.js → dist/hook.cjs + dist/hook-<agent>.cjs)", () => {
  const bin = join(import.meta.dirname, "..", "..", "bin", "downscope.js");
  it.each([
    [
      "cursor",
      2,
      {
        permission: "deny",
        user_message: "downscope: the hook input is not a JSON object",
        agent_message: "downscope: the hook input is not a JSON object",
      },
    ],
    ["gemini", 0, { decision: "deny", reason: "downscope: the hook input is not a JSON object" }],
  ] as const)("%s: a bad payload is a deny naming the payload, exit %d", (agent, code, answer) => {
    const sb = setup();
    const r = spawnSync(process.execPath, [bin, "hook", "--agent", agent], {
      input: "[]",
      env: sb.env,
      encoding: "utf8",
    });
    expect(r.status).toBe(code);
    expect(JSON.parse(r.stdout)).toEqual(answer);
  });
  it("gemini: a real answer from the bundle", () => {
    const sb = setup();
    const r = spawnSync(process.execPath, [bin, "hook", "--agent", "gemini"], {
      input: JSON.stringify(geminiShell("gh repo delete o/r", sb)),
      env: sb.env,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: "deny", reason: expect.stringContaining("not for agents") });
  });
});

/*
 * Bypass: an agent switches downscope off in its own agent by editing the
 * settings file that holds the hook (Cursor's hooks.json, Gemini CLI's
 * settings.json), with its file tools or a shell command, or by running
 * downscope's own management commands. Fix: every adapter sends every call,
 * file writes included, through the shared core's self-protection, which
 * knows these files; Cursor's project comes from its workspace_roots.
 * Proves: each attempt, through each adapter, ends in that agent's deny.
 */
describe("the agent cannot switch downscope off in its own agent", () => {
  it.each([
    ["write_file", ".gemini/settings.json", { content: "{}" }],
    ["replace", ".gemini/settings.json", { old_string: "downscope", new_string: "x" }],
    ["write_file", ".cursor/hooks.json", { content: "{}" }],
  ])("Gemini CLI %s of %s → deny", async (tool, rel, extra) => {
    const sb = setup();
    const r = await runHook("gemini", sb, {
      ...fixture("gemini/write-file.json"),
      cwd: sb.project,
      tool_name: tool,
      tool_input: { file_path: join(sb.project, rel), ...extra },
    });
    expect(r.json).toMatchObject({ decision: "deny", reason: expect.stringContaining("only the user may change") });
  });

  it("Gemini CLI: a relative path and the user-scope file are protected too", async () => {
    const sb = setup();
    const write = (file_path: string) => ({
      ...fixture("gemini/write-file.json"),
      cwd: sb.project,
      tool_input: { file_path, content: "{}" },
    });
    expect((await runHook("gemini", sb, write(".gemini/settings.json"))).json.decision).toBe("deny");
    expect((await runHook("gemini", sb, write(join(sb.home, ".gemini/settings.json")))).json.decision).toBe("deny");
    expect((await runHook("gemini", sb, write("src/main.ts"))).stdout).toBe("");
  });

  it.each(["downscope uninstall gemini", "rm .gemini/settings.json"])(
    "Gemini CLI shell: %s → deny",
    async (command) => {
      const sb = setup();
      const r = await runHook("gemini", sb, geminiShell(command, sb));
      expect(r.json.decision).toBe("deny");
    },
  );

  it.each([
    ["Write", ".cursor/hooks.json"],
    ["StrReplace", ".cursor/hooks.json"],
    ["Delete", ".cursor/hooks.json"],
    ["Write", ".cursor/mcp.json"],
  ])("Cursor %s of %s, from a subdirectory of the workspace → deny", async (tool, rel) => {
    const sb = setup();
    const r = await runHook("cursor", sb, {
      ...fixture("cursor/pre-tool-use-write.json"),
      workspace_roots: [sb.project],
      cwd: join(sb.project, "src"),
      tool_name: tool,
      tool_input: { file_path: join(sb.project, rel) },
    });
    expect(r.json).toMatchObject({
      permission: "deny",
      agent_message: expect.stringContaining("only the user may change"),
    });
  });

  it.each([
    "downscope uninstall cursor",
    "downscope trust",
    "echo '{}' > .cursor/hooks.json",
    "rm ~/.cursor/hooks.json",
  ])("Cursor shell: %s → deny, in beforeShellExecution and in preToolUse", async (command) => {
    const sb = setup();
    expect((await runHook("cursor", sb, cursorShell(command, sb))).json.permission).toBe("deny");
    const pre = await runHook("cursor", sb, cursorPreShell(command, sb));
    expect(pre.json.permission).toBe("deny");
    expect(pre.json.updated_input).toBeUndefined();
  });

  it("Claude Code's hook protects the other agents' files as well", async () => {
    const sb = setup();
    const r = await runCli(["hook"], {
      env: sb.env,
      cwd: sb.project,
      stdin: JSON.stringify({
        hook_event_name: "PreToolUse",
        tool_name: "Write",
        tool_input: { file_path: join(sb.home, ".cursor/hooks.json"), content: "{}" },
        cwd: sb.project,
      }),
    });
    expect(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
  });
});
