/**
 * Gemini CLI's AfterTool hook (https://geminicli.com/docs/hooks/reference/;
 * read in @google/gemini-cli 0.61.0's bundle, packages/core
 * scheduler/tool-executor and hooks/types, and run for real in
 * test/e2e/gemini-cli.test.ts), as a thin adapter over the shared masking.
 *
 * In: {session_id, cwd, hook_event_name: "AfterTool", tool_name, tool_input,
 * tool_response: {llmContent, returnDisplay, error}, mcp_context?}.
 * `llmContent` is what the model gets: a string, a Part ({text}) or Parts.
 *
 * Gemini CLI gives an AfterTool hook no way to replace the output. What it
 * has: `{"decision": "deny", "reason"}` replaces the result with
 * "Tool result blocked: <reason>" as a failed call (hookSpecificOutput's
 * additionalContext only appends; tailToolCallRequest runs another tool).
 * So an output that held a secret is answered with a deny whose reason is
 * the masked output; an output without one gets no answer and goes through.
 *
 * Fail safe in Gemini CLI's terms: JSON on stdout is read whatever the exit
 * code, a timeout lets the output through: every error path answers the deny
 * with the output withheld, exit 0, well before the 10 s timeout `install
 * gemini` writes.
 */
import type { PostResult, PostToolPayload, PostToolProtocol } from "../post-tool-use.js";
import { PayloadError } from "../protocol.js";

const TOOLS: Record<string, string> = { run_shell_command: "Bash", write_file: "Write", replace: "Edit" };

export function parseGeminiAfterTool(text: string): PostToolPayload {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      "the hook input is not JSON; `downscope post-tool-use --agent gemini` must be run by Gemini CLI as an AfterTool hook",
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  const p = data as Record<string, unknown>;
  if (p.hook_event_name !== undefined && p.hook_event_name !== "AfterTool")
    throw new PayloadError(
      `the hook input is a Gemini CLI ${JSON.stringify(p.hook_event_name)} event; \`downscope post-tool-use --agent gemini\` answers AfterTool only`,
    );
  if (typeof p.tool_name !== "string") throw new PayloadError("the Gemini CLI hook input has no tool_name");
  const input = p.tool_input;
  const mcp = p.mcp_context as Record<string, unknown> | undefined;
  const name =
    typeof mcp === "object" && mcp !== null && typeof mcp.server_name === "string" && typeof mcp.tool_name === "string"
      ? `mcp__${mcp.server_name}__${mcp.tool_name}`
      : (TOOLS[p.tool_name] ?? p.tool_name);
  const response = p.tool_response as Record<string, unknown> | undefined;
  return {
    event: "PostToolUse",
    tool_name: name,
    tool_input:
      typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {},
    // What the model gets is llmContent; returnDisplay is the user's view and is replaced along with it.
    ...(response !== undefined && response !== null ? { tool_response: response.llmContent ?? "" } : {}),
    ...(typeof p.session_id === "string" ? { session_id: p.session_id } : {}),
    ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
  };
}

/** llmContent as the text the model reads: a string, a Part's text, Parts' texts one after another. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map(textOf).join("\n");
  if (typeof content === "object" && content !== null) {
    const t = (content as { text?: unknown }).text;
    return typeof t === "string" ? t : JSON.stringify(content);
  }
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

export const geminiAfterToolProtocol: PostToolProtocol = {
  agent: "Gemini CLI",
  parse: parseGeminiAfterTool,
  answer(_p, r: PostResult) {
    if (r.kind === "unchanged") return { code: 0 };
    const reason =
      r.kind === "masked"
        ? `downscope replaced secrets in this tool's output with [masked:<kind>]; the call ran, and this is its output:\n${textOf(r.output)}`
        : r.reason;
    return { stdout: `${JSON.stringify({ decision: "deny", reason })}\n`, code: 0 };
  },
  failure: (reason) => ({
    stdout: `${JSON.stringify({ decision: "deny", reason: `${reason}; the tool's output is withheld.` })}\n`,
    code: 0,
  }),
};
