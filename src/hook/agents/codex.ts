/**
 * Codex CLI's PreToolUse hook (openai/codex codex-rs/hooks: events/
 * pre_tool_use.rs, engine/output_parser.rs; run for real as 0.171.0 in
 * test/e2e/codex-cli.test.ts), as a thin adapter over the shared decision.
 *
 * In: {session_id, turn_id, transcript_path, cwd, hook_event_name:
 * "PreToolUse", model, permission_mode, tool_name, tool_input, tool_use_id}.
 * The shell tool (exec_command) arrives as `Bash` with tool_input.command;
 * `apply_patch` with the patch text in tool_input.command, read for the
 * paths it touches (src/hook/apply-patch.ts; a patch that cannot be read is
 * denied); MCP tools as `mcp__<server>__<tool>`. Every other tool keeps its
 * name (no opinion).
 *
 * Out (exit 0): `hookSpecificOutput.permissionDecision: "deny"` with a
 * reason blocks; a rewrite is `permissionDecision: "allow"` with
 * `updatedInput` (the whole tool input, only `command` changed) — Codex
 * ignores updatedInput without allow, and allow does not skip its own
 * sandbox or approval policy. `"ask"` is rejected by Codex as unsupported
 * and the call then RUNS (seen with 0.171.0), so a review is answered with
 * a deny telling the model to ask the user, and never carries the approval.
 * No opinion is no output.
 *
 * Fail closed: every error path answers the JSON deny (exit 0); a failure of
 * node itself is turned into exit 2 with a reason on stderr by the command
 * line `install codex` writes (src/agents/codex.ts).
 */
import type { HookResult } from "../decide.js";
import { patchPaths } from "../apply-patch.js";
import { PATCH_TOOL, PayloadError, type HookPayload, type HookProtocol, type ProtocolAnswer } from "../protocol.js";
import { jsonObject } from "./json-payload.js";

export function parseCodexPayload(text: string): HookPayload {
  const p = jsonObject(text, "codex");
  if (p.hook_event_name !== undefined && p.hook_event_name !== "PreToolUse")
    throw new PayloadError(
      `the hook input is a Codex CLI ${JSON.stringify(p.hook_event_name)} event; \`downscope hook --agent codex\` answers PreToolUse only`,
    );
  if (typeof p.tool_name !== "string") throw new PayloadError("the Codex CLI hook input has no tool_name");
  const input = p.tool_input ?? {};
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new PayloadError("the Codex CLI hook input's tool_input is not an object");
  const i = input as Record<string, unknown>;
  const base = {
    hook_event_name: "PreToolUse",
    ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
    ...(typeof p.session_id === "string" ? { session_id: p.session_id } : {}),
  };
  if (p.tool_name === "apply_patch") {
    const patch = typeof i.command === "string" ? i.command : typeof i.input === "string" ? i.input : undefined;
    if (patch === undefined) throw new PayloadError("the Codex CLI apply_patch input holds no patch text");
    const paths = patchPaths(patch);
    if (paths instanceof Error) throw new PayloadError(`the apply_patch call cannot be checked: ${paths.message}`);
    return { ...base, tool_name: PATCH_TOOL, tool_input: { file_paths: paths } };
  }
  return { ...base, tool_name: p.tool_name, tool_input: i };
}

export interface CodexOutput {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision: "allow" | "deny";
    permissionDecisionReason?: string;
    updatedInput?: Record<string, unknown>;
  };
}

const deny = (reason: string): CodexOutput => ({
  hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason },
});

/** The answer, or undefined for "no opinion" (print nothing). */
export function toCodexOutput(result: HookResult, payload: HookPayload): CodexOutput | undefined {
  switch (result.decision) {
    case "none":
      return undefined;
    case "deny":
      return deny(result.reason);
    case "ask":
      // The approval in result.command is never shown: the model would run it without a person.
      return deny(
        `${result.reason}. This needs a person's approval, and Codex CLI cannot ask from a hook (it would run the call unasked), so the agent may not run it: ask the user to run it themselves in a terminal.`,
      );
    case "allow":
    case "rewrite":
      return {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "allow",
          updatedInput: { ...payload.tool_input, command: result.command },
        },
      };
  }
}

export function codexDeny(reason: string): ProtocolAnswer {
  return { stdout: `${JSON.stringify(deny(reason))}\n`, code: 0 };
}

export const codexProtocol: HookProtocol = {
  agent: "Codex CLI",
  parse: parseCodexPayload,
  answer(result, payload) {
    const o = toCodexOutput(result, payload);
    return o === undefined ? { code: 0 } : { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: codexDeny,
  shimsFromPathOnly: true,
};
