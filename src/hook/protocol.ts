/**
 * Claude Code's PreToolUse hook protocol: the payload on stdin and the answer
 * on stdout. https://docs.claude.com/en/docs/claude-code/hooks
 *
 * Answer shape (exit 0): {"hookSpecificOutput": {"hookEventName": "PreToolUse",
 * "permissionDecision": "allow"|"deny"|"ask", "permissionDecisionReason": "…",
 * "updatedInput": {…}}}. `updatedInput` replaces the whole tool input, so it is
 * a full copy with only `command` changed. Without a permissionDecision the
 * rewritten command goes through the user's own permission rules.
 */
import type { HookResult } from "./decide.js";

export interface HookPayload {
  hook_event_name?: string;
  tool_name: string;
  tool_input: Record<string, unknown>;
  cwd?: string;
  session_id?: string;
  permission_mode?: string;
  tool_use_id?: string;
  /**
   * The project the agent works in, when its payload names it (Cursor's
   * workspace_roots[0]); the self-protection reads it as CLAUDE_PROJECT_DIR.
   */
  project_dir?: string;
  /** The agent's own event name, where one adapter answers several (Cursor's preToolUse vs beforeShellExecution). */
  agent_event?: string;
}

/**
 * The name adapters give a patch tool (Codex CLI's and OpenCode's
 * apply_patch; src/hook/apply-patch.ts reads the paths out of the patch),
 * with `tool_input.file_paths`: every path the patch adds, changes, moves or
 * deletes. src/hook/answer.ts checks each as a file write.
 */
export const PATCH_TOOL = "ApplyPatch";

/** Bad hook input. Matched by name too: each agent's adapter is its own bundle with its own copy of this class. */
export class PayloadError extends Error {
  override name = "PayloadError";
}

export function isPayloadError(e: unknown): e is PayloadError {
  return e instanceof PayloadError || (e instanceof Error && e.name === "PayloadError");
}

export function parsePayload(text: string): HookPayload {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      "the hook input is not JSON; `downscope hook` must be run by Claude Code as a PreToolUse hook",
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  const p = data as Record<string, unknown>;
  if (typeof p.tool_name !== "string") throw new PayloadError("the hook input has no tool_name");
  const input = p.tool_input ?? {};
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new PayloadError("the hook input's tool_input is not an object");
  return {
    ...(typeof p.hook_event_name === "string" ? { hook_event_name: p.hook_event_name } : {}),
    tool_name: p.tool_name,
    tool_input: input as Record<string, unknown>,
    ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
    ...(typeof p.session_id === "string" ? { session_id: p.session_id } : {}),
    ...(typeof p.tool_use_id === "string" ? { tool_use_id: p.tool_use_id } : {}),
  };
}

export interface HookOutput {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision?: "allow" | "deny" | "ask";
    permissionDecisionReason?: string;
    updatedInput?: Record<string, unknown>;
  };
}

/** The JSON answer, or undefined for "no opinion" (print nothing). */
export function toOutput(result: HookResult, toolInput: Record<string, unknown>): HookOutput | undefined {
  const withCommand = (command: string) => ({ ...toolInput, command });
  switch (result.decision) {
    case "none":
      return undefined;
    case "deny":
      return out({ permissionDecision: "deny", permissionDecisionReason: result.reason });
    case "ask":
      return out({
        permissionDecision: "ask",
        permissionDecisionReason: result.reason,
        ...(result.command !== undefined ? { updatedInput: withCommand(result.command) } : {}),
      });
    case "allow":
      return out({
        permissionDecision: "allow",
        permissionDecisionReason: result.reason,
        updatedInput: withCommand(result.command),
      });
    case "rewrite":
      return out({ updatedInput: withCommand(result.command) });
  }
}

/**
 * One agent's hook protocol around the shared decision (src/hook/answer.ts):
 * its payload in, its answer out. Claude Code's is below; Cursor's and Gemini
 * CLI's live in src/hook/agents/. Every answer is stdout text (undefined:
 * print nothing) and an exit code, because the agents read exit codes
 * differently (docs/agents.md).
 */
export interface HookProtocol {
  /** The agent's name in messages ("Claude Code"). */
  agent: string;
  /** The agent's payload → the Claude-shaped payload the decision reads; throws PayloadError. */
  parse(text: string, ctx: { env: Record<string, string | undefined>; cwd: string }): HookPayload;
  answer(result: HookResult, payload: HookPayload, ctx: { env: Record<string, string | undefined> }): ProtocolAnswer;
  /** The agent's deny for an error path (bad payload, policy error, internal error, deadline). */
  deny(reason: string): ProtocolAnswer;
  /** The agent has no SessionStart PATH line: only the hook's own PATH shows whether the shims are there. */
  shimsFromPathOnly?: boolean;
  /** The agent's rewriting hook cannot ask: approvals are gated (AnswerOptions.gatedApprovals). */
  gatedApprovals?: boolean;
}

export interface ProtocolAnswer {
  stdout?: string;
  code: number;
}

export const claudeProtocol: HookProtocol = {
  agent: "Claude Code",
  parse: parsePayload,
  answer(result, payload) {
    const o = toOutput(result, payload.tool_input);
    return o === undefined ? { code: 0 } : { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: (reason) => ({ stdout: `${JSON.stringify(denyOutput(reason))}\n`, code: 0 }),
};

export function denyOutput(reason: string): HookOutput {
  return out({ permissionDecision: "deny", permissionDecisionReason: reason });
}

function out(o: Omit<HookOutput["hookSpecificOutput"], "hookEventName">): HookOutput {
  return { hookSpecificOutput: { hookEventName: "PreToolUse", ...o } };
}
