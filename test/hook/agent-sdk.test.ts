import type { PostToolUseHookInput, PreToolUseHookInput } from "@anthropic-ai/claude-agent-sdk";
import { describe, expect, it } from "vitest";
import { downscopeHook, downscopeHooks, downscopeMaskHook } from "../../src/index.js";
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
    expect(h.PostToolUse?.[0]?.matcher).toBeUndefined();
    expect(h.PostToolUse?.[0]?.hooks).toHaveLength(1);
  });
});

describe("Agent SDK PostToolUse callback (masking)", () => {
  const post = (stdout: string, cwd: string): PostToolUseHookInput => ({
    hook_event_name: "PostToolUse",
    session_id: "s",
    transcript_path: "/dev/null",
    cwd,
    tool_name: "Bash",
    tool_input: { command: "env" },
    tool_response: { stdout, stderr: "", interrupted: false, isImage: false },
    tool_use_id: "toolu_2",
  });

  it("masks as `downscope post-tool-use` does, answers nothing when there is nothing to mask, withholds on errors", async () => {
    const sb = sandbox();
    sb.write(
      "home/.config/downscope/config.yaml",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: RO } }\n",
    );
    const cb = downscopeMaskHook({ env: { ...sb.env, RO: "sdk-slot-token-0123456789" } });
    expect(await cb(post("RO=sdk-slot-token-0123456789", sb.project), "toolu_2", { signal })).toEqual({
      hookSpecificOutput: {
        hookEventName: "PostToolUse",
        updatedToolOutput: { stdout: "RO=[masked:slot:ro]", stderr: "", interrupted: false, isImage: false },
      },
    });
    expect(await cb(post("nothing here", sb.project), "toolu_2", { signal })).toEqual({});
    sb.write("home/.config/downscope/config.yaml", "version: [\n");
    expect(await cb(post("RO=sdk-slot-token-0123456789", sb.project), "toolu_2", { signal })).toMatchObject({
      hookSpecificOutput: {
        updatedToolOutput: { stdout: expect.stringMatching(/^downscope could not check this output/) },
      },
    });
  });
});
