/**
 * Cursor's postToolUse hook (https://cursor.com/docs/hooks; Cursor is closed
 * source and was not run: see docs/agents.md), as a thin adapter over the
 * shared masking.
 *
 * In: {hook_event_name: "postToolUse", tool_name, tool_input, tool_output
 * (the output as JSON text), tool_use_id, cwd, conversation_id,
 * workspace_roots, …}; MCP tools are named `MCP:<tool>`.
 *
 * Out: `{"updated_mcp_tool_output": <output>}` replaces an MCP tool's output;
 * the documentation offers no way to replace any other tool's output
 * (Shell's, Read's: `additional_context` only appends, and
 * afterShellExecution's answer is not read). So MCP outputs are masked here,
 * and other tools' outputs are recorded but reach the model as they were.
 * `{}` is "no change". Every error path answers with the MCP output withheld;
 * `install cursor` writes `failClosed: true`.
 */
import type { PostResult, PostToolPayload, PostToolProtocol } from "../post-tool-use.js";
import { PayloadError } from "../protocol.js";

const isMcp = (name: string) => name.startsWith("MCP:") || name.startsWith("mcp__");

export function parseCursorPostToolUse(text: string): PostToolPayload {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      "the hook input is not JSON; `downscope post-tool-use --agent cursor` must be run by Cursor as a postToolUse hook",
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  const p = data as Record<string, unknown>;
  if (p.hook_event_name !== undefined && p.hook_event_name !== "postToolUse")
    throw new PayloadError(
      `the hook input is a Cursor ${JSON.stringify(p.hook_event_name)} event; \`downscope post-tool-use --agent cursor\` answers postToolUse only`,
    );
  if (typeof p.tool_name !== "string") throw new PayloadError("the Cursor hook input has no tool_name");
  let output: unknown = p.tool_output;
  if (typeof output === "string") {
    try {
      output = JSON.parse(output);
    } catch {
      // plain text output: masked as text
    }
  }
  let input: unknown = p.tool_input;
  if (typeof input === "string") {
    try {
      input = JSON.parse(input);
    } catch {
      input = {};
    }
  }
  const roots = Array.isArray(p.workspace_roots) ? p.workspace_roots.filter((r) => typeof r === "string") : [];
  const cwd = typeof p.cwd === "string" && p.cwd !== "" ? p.cwd : roots[0];
  return {
    event: "PostToolUse",
    tool_name: p.tool_name === "Shell" ? "Bash" : p.tool_name,
    tool_input:
      typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {},
    ...(output !== undefined ? { tool_response: output } : {}),
    ...(typeof p.tool_use_id === "string" ? { tool_use_id: p.tool_use_id } : {}),
    ...(typeof p.conversation_id === "string" ? { session_id: p.conversation_id } : {}),
    ...(cwd !== undefined ? { cwd } : {}),
  };
}

export const cursorPostToolUseProtocol: PostToolProtocol = {
  agent: "Cursor",
  parse: parseCursorPostToolUse,
  answer(p: PostToolPayload, r: PostResult) {
    if (r.kind === "unchanged" || !isMcp(p.tool_name)) return { stdout: "{}\n", code: 0 };
    return { stdout: `${JSON.stringify({ updated_mcp_tool_output: r.output })}\n`, code: 0 };
  },
  // No payload, no output to withhold: exit 2 blocks where Cursor lets a hook block.
  failure: () => ({ stdout: "{}\n", code: 2 }),
};
