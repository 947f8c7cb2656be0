/**
 * GitHub Copilot CLI's preToolUse hook (docs.github.com "Copilot CLI hooks
 * reference"; run for real as 1.0.102, offline through its BYOK provider
 * variables, in test/e2e/copilot-cli.test.ts), as a thin adapter over the
 * shared decision.
 *
 * In (camelCase event name): {sessionId, timestamp, cwd, toolName, toolArgs}
 * (toolArgs an object; older releases sent its JSON text). Tools: `bash`
 * {command, description, mode, …} → Bash; `create` {path, file_text} →
 * Write; `edit` {path, …} → Edit. Every other tool keeps its name.
 *
 * Out (exit 0, JSON): `permissionDecision: "deny"` with
 * `permissionDecisionReason`; a rewrite is `modifiedArgs` (the whole
 * arguments, only `command` changed) — Copilot CLI 1.0.102 applies
 * modifiedArgs and ignores `updatedInput`, the field users report as
 * ignored; `permissionDecision: "ask"` puts the call to the user in Copilot
 * CLI's own prompt (denied in -p mode: "no one to approve"), the rewrite
 * carrying the approval. No opinion is no output.
 *
 * Fail closed: Copilot CLI denies a call whose hook exits non-zero ("hook
 * errored"), but runs it after a timeout or an answer that is empty or not
 * JSON. Every error path answers the JSON deny; the command line `install
 * copilot` writes (src/agents/copilot.ts) adds the watchdog and exit 2.
 */
import type { HookResult } from "../decide.js";
import { PayloadError, type HookPayload, type HookProtocol, type ProtocolAnswer } from "../protocol.js";
import { jsonObject } from "./json-payload.js";

const WRITES: Record<string, "Write" | "Edit"> = { create: "Write", edit: "Edit" };

export function parseCopilotPayload(text: string): HookPayload {
  const p = jsonObject(text, "copilot");
  const name = p.toolName ?? p.tool_name;
  if (typeof name !== "string") throw new PayloadError("the Copilot CLI hook input has no toolName");
  let args: unknown = p.toolArgs ?? p.tool_input ?? {};
  if (typeof args === "string") {
    try {
      args = JSON.parse(args) as unknown;
    } catch {
      throw new PayloadError("the Copilot CLI hook input's toolArgs is text but not JSON");
    }
  }
  if (typeof args !== "object" || args === null || Array.isArray(args))
    throw new PayloadError("the Copilot CLI hook input's toolArgs is not an object");
  const a = args as Record<string, unknown>;
  const base = {
    hook_event_name: "PreToolUse",
    ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
    ...(typeof p.sessionId === "string" ? { session_id: p.sessionId } : {}),
  };
  if (name === "bash") return { ...base, tool_name: "Bash", tool_input: a };
  const write = WRITES[name];
  if (write !== undefined) {
    if (typeof a.path !== "string" || a.path === "")
      throw new PayloadError(`the Copilot CLI ${name} input names no path`);
    return { ...base, tool_name: write, tool_input: { ...a, file_path: a.path } };
  }
  return { ...base, tool_name: name, tool_input: a };
}

export interface CopilotOutput {
  permissionDecision?: "allow" | "deny" | "ask";
  permissionDecisionReason?: string;
  modifiedArgs?: Record<string, unknown>;
}

export function toCopilotOutput(result: HookResult, args: Record<string, unknown>): CopilotOutput | undefined {
  const modified = (command: string) => ({ modifiedArgs: { ...args, command } });
  switch (result.decision) {
    case "none":
      return undefined;
    case "deny":
      return { permissionDecision: "deny", permissionDecisionReason: result.reason };
    case "ask":
      return {
        permissionDecision: "ask",
        permissionDecisionReason: result.reason,
        ...(result.command !== undefined ? modified(result.command) : {}),
      };
    case "allow":
      return { permissionDecision: "allow", permissionDecisionReason: result.reason, ...modified(result.command) };
    case "rewrite":
      return modified(result.command);
  }
}

export function copilotDeny(reason: string): ProtocolAnswer {
  const o: CopilotOutput = { permissionDecision: "deny", permissionDecisionReason: reason };
  return { stdout: `${JSON.stringify(o)}\n`, code: 0 };
}

export const copilotProtocol: HookProtocol = {
  agent: "Copilot CLI",
  parse: parseCopilotPayload,
  answer(result, payload) {
    const o = toCopilotOutput(result, payload.tool_input);
    return o === undefined ? { code: 0 } : { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: copilotDeny,
  shimsFromPathOnly: true,
};
