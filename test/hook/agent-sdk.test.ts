import type { PreToolUseHookInput } from "@anthropic-ai/claude-agent-sdk";
import { describe, expect, it } from "vitest";
import { downscopeHook, downscopeHooks } from "../../src/index.js";
import { sandbox } from "../helpers/sandbox.js";

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny }
`;

function input(command: string, cwd: string): PreToolUseHookInput {
  return {
    hook_event_name: "PreToolUse",
    session_id: "s",
    transcript_path: "/dev/null",
    cwd,
    tool_name: "Bash",
    tool_input: { command, description: "d" },
    tool_use_id: "toolu_1",
  };
}

const signal = new AbortController().signal;

describe("Agent SDK PreToolUse callback", () => {
  it("shares the hook's decisions", async () => {
    const sb = sandbox();
    sb.write("etc/downscope/config.yaml", POLICY);
    const cb = downscopeHook({ env: sb.env });
    expect(await cb(input("ls", sb.project), "toolu_1", { signal })).toEqual({});
    expect(await cb(input("gh repo delete o/r", sb.project), "toolu_1", { signal })).toMatchObject({
      hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny" },
    });
    expect(await cb(input("gh pr list", sb.project), "toolu_1", { signal })).toMatchObject({
      hookSpecificOutput: {
        permissionDecision: "allow",
        updatedInput: { command: expect.stringMatching(/ gh pr list$/), description: "d" },
      },
    });
  });

  it("fails closed on a bad policy", async () => {
    const sb = sandbox();
    sb.write("etc/downscope/config.yaml", "version: 2\n");
    const r = await downscopeHook({ env: sb.env })(input("ls", sb.project), "toolu_1", { signal });
    expect(r).toMatchObject({
      hookSpecificOutput: {
        permissionDecision: "deny",
        permissionDecisionReason: expect.stringContaining("config.yaml"),
      },
    });
  });

  it("downscopeHooks() wires it on Bash and MCP tools", () => {
    const h = downscopeHooks();
    expect(h.PreToolUse?.[0]?.matcher).toBe(
      "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob|mcp__.*",
    );
    expect(h.PreToolUse?.[0]?.hooks).toHaveLength(1);
  });
});
