import { describe, expect, it } from "vitest";
import { consumeApproval } from "../../src/approval/approval.js";
import { hook } from "../../src/cli/hook.js";
import type { Io } from "../../src/io.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

function setup(policy = POLICY) {
  const sb = sandbox();
  sb.write("etc/downscope/config.yaml", policy);
  return sb;
}

const payload = (command: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    hook_event_name: "PreToolUse",
    tool_name: "Bash",
    tool_input: { command, description: "d", timeout: 5000, run_in_background: false, ...extra },
    session_id: "s",
  });

async function runHook(sb: ReturnType<typeof sandbox>, stdin: string) {
  const r = await runCli(["hook"], { env: sb.env, cwd: sb.project, stdin });
  return { ...r, json: r.stdout === "" ? undefined : JSON.parse(r.stdout) };
}

describe("downscope hook (in-process)", () => {
  it("prints nothing for commands that invoke no service", async () => {
    const r = await runHook(setup(), payload("ls -la"));
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  it("returns a full copy of tool_input with only command changed", async () => {
    const r = await runHook(setup(), payload("gh pr list", { extra_field: [1] }));
    expect(r.code).toBe(0);
    const out = r.json.hookSpecificOutput;
    expect(out.hookEventName).toBe("PreToolUse");
    expect(out.permissionDecision).toBe("allow");
    expect(out.updatedInput).toEqual({
      command: expect.stringMatching(/ gh pr list$/),
      description: "d",
      timeout: 5000,
      run_in_background: false,
      extra_field: [1],
    });
  });

  it("denies with the rule", async () => {
    const r = await runHook(setup(), payload("gh repo delete o/r"));
    expect(r.json.hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining('rule "repo deletion denied"'),
    });
  });

  it("asks for review with an approval that downscope-exec can consume exactly once for that argv", async () => {
    const sb = setup();
    const r = await runHook(sb, payload("gh pr merge 12"));
    const out = r.json.hookSpecificOutput;
    expect(out.permissionDecision).toBe("ask");
    const m = /^DOWNSCOPE_APPROVAL=([A-Za-z0-9_-]+) \S+ gh pr merge 12$/.exec(out.updatedInput.command);
    expect(m).not.toBeNull();
    const nonce = m![1]!;
    expect(consumeApproval(nonce, "gh", ["pr", "merge", "13"], sb.env)).toMatchObject({ ok: false });
    const sb2 = await runHook(sb, payload("gh pr merge 12"));
    const nonce2 = /DOWNSCOPE_APPROVAL=(\S+)/.exec(sb2.json.hookSpecificOutput.updatedInput.command)![1]!;
    expect(consumeApproval(nonce2, "gh", ["pr", "merge", "12"], sb.env)).toEqual({ ok: true });
    expect(consumeApproval(nonce2, "gh", ["pr", "merge", "12"], sb.env)).toMatchObject({ ok: false });
  });

  it("a bad config denies with file:line:col and how to fix it", async () => {
    const sb = setup("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const r = await runHook(sb, payload("ls"));
    expect(r.code).toBe(0);
    const reason: string = r.json.hookSpecificOutput.permissionDecisionReason;
    expect(r.json.hookSpecificOutput.permissionDecision).toBe("deny");
    expect(reason).toMatch(/config\.yaml:4:\d+/);
    expect(reason).toContain("downscope lint");
    expect(reason).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    ["not json", "is not JSON"],
    ["[]", "not a JSON object"],
    ['{"tool_input":{}}', "no tool_name"],
  ])("malformed payload %j → deny, exit 0", async (stdin, text) => {
    const r = await runHook(setup(), stdin);
    expect(r.code).toBe(0);
    expect(r.json.hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining(text),
    });
  });

  it("other tools pass untouched; MCP tools are decided", async () => {
    const sb = setup(
      POLICY +
        "  gh-mcp:\n    server: github\n    rules: [ { name: no, match: { tools: [delete_repo] }, action: deny } ]\n",
    );
    const read = await runHook(sb, JSON.stringify({ tool_name: "Read", tool_input: { file_path: "/x" } }));
    expect(read.stdout).toBe("");
    const mcp = await runHook(sb, JSON.stringify({ tool_name: "mcp__github__delete_repo", tool_input: {} }));
    expect(mcp.json.hookSpecificOutput.permissionDecision).toBe("deny");
  });

  /*
   * Bypass: a hook that hangs past Claude Code's timeout lets the command run.
   * Fix: an internal deadline answers deny first. Proves: stdin that never
   * closes ends in a deny with exit 0.
   */
  it("answers deny when the internal deadline fires", async () => {
    const sb = setup();
    let stdout = "";
    const io: Io = {
      env: { ...sb.env, DOWNSCOPE_HOOK_DEADLINE_MS: "150" },
      cwd: sb.project,
      stdout: (t) => void (stdout += t),
      stderr: () => {},
      stdin: () => new Promise<string>(() => {}),
    };
    expect(await hook([], io)).toBe(0);
    expect(JSON.parse(stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining("did not finish within 150 ms"),
    });
  });

  /*
   * Bypass: an unexpected exception crashes the hook (exit 1) and Claude Code
   * runs the command. Fix: the top-level catch answers deny. Proves: a throwing
   * stdin ends in a deny on stdout, exit 0, and no stack trace.
   */
  it("catches internal errors: deny, exit 0, no stack", async () => {
    const sb = setup();
    let stdout = "";
    let stderr = "";
    const io: Io = {
      env: sb.env,
      cwd: sb.project,
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      stdin: async () => {
        throw new Error("boom");
      },
    };
    expect(await hook([], io)).toBe(0);
    const out = JSON.parse(stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toContain("internal error (boom)");
    expect(stdout).not.toMatch(/\n\s+at /);
    expect(stderr).toBe("");
  });
});
