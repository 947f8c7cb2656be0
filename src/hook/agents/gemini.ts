/**
 * Gemini CLI's BeforeTool hook (https://geminicli.com/docs/hooks/reference/,
 * read in google-gemini/gemini-cli at 0.56.0-nightly.20260806 and run as
 * @google/gemini-cli 0.61.0 in test/e2e/gemini-cli.test.ts), as a thin
 * adapter over the shared decision.
 *
 * In: {session_id, cwd, hook_event_name: "BeforeTool", tool_name, tool_input,
 * mcp_context?: {server_name, tool_name, ...}}. Mapped to the Claude-shaped
 * payload: run_shell_command → Bash (tool_input.command), write_file → Write
 * and replace → Edit (tool_input.file_path), an MCP tool → mcp__<server>__<tool>
 * from mcp_context (the `mcp_<server>_<tool>` name is ambiguous when either
 * part holds an underscore). Every other tool keeps its name.
 *
 * Out (exit 0, JSON on stdout): {"decision": "deny", "reason"} blocks and the
 * reason goes to the model as the tool error; {"decision": "ask"} forces
 * Gemini CLI's own confirmation even in YOLO mode; hookSpecificOutput.tool_input
 * is merged over the model's arguments, so a rewrite sends {command} only.
 * "allow" does not skip Gemini CLI's own policy: downscope's allow is a rewrite.
 *
 * Fail closed in Gemini CLI's terms (packages/core/src/hooks/hookRunner.ts):
 * the CLI reads stdout as JSON whatever the exit code, a non-JSON text with an
 * exit code of 2 or more is a deny, exit 1 is only a warning and a timeout
 * lets the tool run. So every error path prints the JSON deny and exits 0,
 * the hook's own deadline (4 s) fires well before the timeout `install gemini`
 * writes (10 s), and the installed command turns a crash into exit 2 with a
 * deny (src/cli/install-gemini.ts).
 */
import type { HookResult } from "../decide.js";
import { PayloadError, type HookPayload, type HookProtocol, type ProtocolAnswer } from "../protocol.js";

/** Gemini CLI's tool names → the names the shared decision reads. */
const TOOLS: Record<string, string> = { run_shell_command: "Bash", write_file: "Write", replace: "Edit" };

export function parseGeminiPayload(text: string): HookPayload {
  const p = objectOf(text);
  if (p.hook_event_name !== undefined && p.hook_event_name !== "BeforeTool")
    throw new PayloadError(
      `the hook input is a Gemini CLI ${JSON.stringify(p.hook_event_name)} event; \`downscope hook --agent gemini\` answers BeforeTool only`,
    );
  if (typeof p.tool_name !== "string") throw new PayloadError("the Gemini CLI hook input has no tool_name");
  const input = p.tool_input ?? {};
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new PayloadError("the Gemini CLI hook input's tool_input is not an object");
  const mcp = p.mcp_context;
  let toolName = TOOLS[p.tool_name] ?? p.tool_name;
  if (typeof mcp === "object" && mcp !== null && !Array.isArray(mcp)) {
    const m = mcp as Record<string, unknown>;
    if (typeof m.server_name !== "string" || typeof m.tool_name !== "string" || m.server_name === "")
      throw new PayloadError("the Gemini CLI hook input's mcp_context has no server_name or tool_name");
    toolName = `mcp__${m.server_name}__${m.tool_name}`;
  } else if (p.tool_name.startsWith("mcp_"))
    // `mcp_<server>_<tool>` cannot be split when either name holds "_": without mcp_context the server is unknown.
    throw new PayloadError(
      `cannot tell which MCP server ${JSON.stringify(p.tool_name)} belongs to (the Gemini CLI hook input has no mcp_context)`,
    );
  return {
    hook_event_name: "PreToolUse",
    tool_name: toolName,
    tool_input: input as Record<string, unknown>,
    ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
    ...(typeof p.session_id === "string" ? { session_id: p.session_id } : {}),
  };
}

export interface GeminiOutput {
  decision?: "deny" | "ask";
  reason?: string;
  systemMessage?: string;
  hookSpecificOutput?: { hookEventName: "BeforeTool"; tool_input: { command: string } };
}

/** The answer, or undefined for "no opinion" (print nothing: Gemini CLI goes on with its own policy). */
export function toGeminiOutput(result: HookResult): GeminiOutput | undefined {
  const rewrite = (command: string) => ({
    hookSpecificOutput: { hookEventName: "BeforeTool" as const, tool_input: { command } },
  });
  switch (result.decision) {
    case "none":
      return undefined;
    case "deny":
      return { decision: "deny", reason: result.reason };
    case "ask":
      // The reason shows in the confirmation (systemMessage); the rewrite carries the approval nonce, if any.
      return {
        decision: "ask",
        reason: result.reason,
        systemMessage: result.reason,
        ...(result.command !== undefined ? rewrite(result.command) : {}),
      };
    case "allow":
    case "rewrite":
      return rewrite(result.command);
  }
}

export function geminiDeny(reason: string): ProtocolAnswer {
  return { stdout: `${JSON.stringify({ decision: "deny", reason } satisfies GeminiOutput)}\n`, code: 0 };
}

export const geminiProtocol: HookProtocol = {
  agent: "Gemini CLI",
  parse: parseGeminiPayload,
  answer(result) {
    const o = toGeminiOutput(result);
    return o === undefined ? { code: 0 } : { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: geminiDeny,
  shimsFromPathOnly: true,
};

function objectOf(text: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      "the hook input is not JSON; `downscope hook --agent gemini` must be run by Gemini CLI as a BeforeTool hook",
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  return data as Record<string, unknown>;
}
