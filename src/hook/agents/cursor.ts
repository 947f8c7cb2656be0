/**
 * Cursor's agent hooks (https://cursor.com/docs/agent/hooks; Cursor is closed
 * source: see docs/agents.md for what was verified how), as a thin adapter
 * over the shared decision. Events:
 *   - beforeShellExecution {command, cwd, workspace_roots, conversation_id, …}
 *     → Bash (tool_input.command);
 *   - beforeMCPExecution {tool_name, tool_input (an object or its JSON text),
 *     command | url} → mcp__<server>__<tool>, the server named by the
 *     payload (mcp_server_name, where Cursor sends it), by
 *     `downscope mcp-proxy --server NAME` in the command, or found by its
 *     command line / url in .cursor/mcp.json or ~/.cursor/mcp.json; a server
 *     not found keeps `MCP:<tool>`, which no policy service matches;
 *   - preToolUse for the file-writing tools {tool_name, tool_input} → Write
 *     (Write, Delete) or Edit (StrReplace, Edit, MultiEdit), tool_input.file_path.
 *
 * Out (JSON on stdout): {"permission": "allow"|"deny"|"ask", "user_message",
 * "agent_message"}. beforeShellExecution cannot change the command, so where
 * the Claude Code hook would rewrite a call to `downscope-exec …`:
 *   - with the shims on this PATH (`eval "$(downscope env)"` in the shell
 *     profile Cursor starts from) the call is allowed and the shim routes it
 *     through downscope-exec, which decides again and scopes the credential;
 *   - without them it is denied, and the agent is told the exact command to
 *     run instead (the same rewrite), which the hook then lets through.
 * A review cannot carry its approval through an unchanged command, and an
 * approval the agent writes is refused, so a review is denied with "run it
 * yourself" rather than asked.
 *
 * Fail closed in Cursor's terms: exit 2 blocks, and so does any failure of a
 * hook installed with `failClosed: true` (`install cursor` writes it); without
 * it a crash or a timeout lets the action run. Every error path therefore
 * prints the deny and exits 2.
 */
import { existsSync, readFileSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { SHIMS_MARKER } from "../../paths.js";
import type { HookResult } from "../decide.js";
import { PayloadError, type HookPayload, type HookProtocol, type ProtocolAnswer } from "../protocol.js";

type Env = Record<string, string | undefined>;

/** Cursor's file-writing tools → the names the shared decision reads (a deletion is a write). */
const WRITE_TOOLS: Record<string, "Write" | "Edit"> = {
  Write: "Write",
  Delete: "Write",
  StrReplace: "Edit",
  Edit: "Edit",
  MultiEdit: "Edit",
};

/** The preToolUse matcher `install cursor` writes: exactly the tools above. */
export const CURSOR_WRITE_MATCHER = Object.keys(WRITE_TOOLS).join("|");

export function parseCursorPayload(text: string, ctx: { env: Env; cwd: string }): HookPayload {
  const p = objectOf(text);
  const roots = Array.isArray(p.workspace_roots) ? p.workspace_roots.filter((r) => typeof r === "string") : [];
  const cwd = typeof p.cwd === "string" && p.cwd !== "" ? p.cwd : roots[0];
  const base = {
    ...(cwd !== undefined ? { cwd } : {}),
    ...(roots[0] !== undefined && isAbsolute(roots[0]) ? { project_dir: roots[0] } : {}),
    ...(typeof p.conversation_id === "string" ? { session_id: p.conversation_id } : {}),
  };
  switch (p.hook_event_name) {
    case "beforeShellExecution":
      if (typeof p.command !== "string") throw new PayloadError("the Cursor beforeShellExecution input has no command");
      return { hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: p.command }, ...base };
    case "beforeMCPExecution": {
      if (typeof p.tool_name !== "string" || p.tool_name === "")
        throw new PayloadError("the Cursor beforeMCPExecution input has no tool_name");
      const input = mcpInput(p.tool_input);
      const server = mcpServer(p, roots, ctx);
      return {
        hook_event_name: "PreToolUse",
        tool_name: server === undefined ? `MCP:${p.tool_name}` : `mcp__${server}__${p.tool_name}`,
        tool_input: input,
        ...base,
      };
    }
    case "preToolUse": {
      if (typeof p.tool_name !== "string") throw new PayloadError("the Cursor preToolUse input has no tool_name");
      const input = p.tool_input ?? {};
      if (typeof input !== "object" || input === null || Array.isArray(input))
        throw new PayloadError("the Cursor preToolUse input's tool_input is not an object");
      const i = input as Record<string, unknown>;
      const mapped = WRITE_TOOLS[p.tool_name];
      if (mapped === undefined)
        return { hook_event_name: "PreToolUse", tool_name: p.tool_name, tool_input: i, ...base };
      const file = [i.file_path, i.path, i.target_file].find((v) => typeof v === "string");
      if (file === undefined) throw new PayloadError(`the Cursor ${p.tool_name} input names no file`);
      return { hook_event_name: "PreToolUse", tool_name: mapped, tool_input: { ...i, file_path: file }, ...base };
    }
    default:
      throw new PayloadError(
        `the hook input is a Cursor ${JSON.stringify(p.hook_event_name ?? null)} event; \`downscope hook --agent cursor\` answers beforeShellExecution, beforeMCPExecution and preToolUse`,
      );
  }
}

function mcpInput(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === "") return {};
  let v: unknown = raw;
  if (typeof raw === "string") {
    try {
      v = JSON.parse(raw) as unknown;
    } catch {
      throw new PayloadError("the Cursor beforeMCPExecution tool_input is text but not JSON");
    }
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new PayloadError("the Cursor beforeMCPExecution tool_input is not an object");
  return v as Record<string, unknown>;
}

/** Which MCP server a Cursor MCP call goes to; undefined when it cannot be told. */
function mcpServer(p: Record<string, unknown>, roots: string[], ctx: { env: Env; cwd: string }): string | undefined {
  for (const k of ["mcp_server_name", "server_name", "server"])
    if (typeof p[k] === "string" && p[k] !== "") return p[k];
  const command = typeof p.command === "string" ? p.command : undefined;
  const url = typeof p.url === "string" ? p.url : undefined;
  const proxied = command && /\bmcp-proxy\s+(?:.*\s)?--server(?:\s+|=)([^\s"']+)/.exec(command);
  if (proxied) return proxied[1];
  const files = [...roots.map((r) => join(r, ".cursor", "mcp.json")), join(ctx.env.HOME ?? "", ".cursor", "mcp.json")];
  const names = new Set<string>();
  for (const f of files) {
    for (const [name, e] of Object.entries(serversOf(f))) {
      if (typeof e !== "object" || e === null) continue;
      const entry = e as Record<string, unknown>;
      if (url !== undefined && entry.url === url) names.add(name);
      if (command === undefined || typeof entry.command !== "string") continue;
      const args = Array.isArray(entry.args) ? entry.args.filter((a) => typeof a === "string") : [];
      if ([entry.command, ...args].join(" ") === command) names.add(name);
    }
  }
  // Two names for one command line: a project file (which the agent can edit) could hide a server behind another name.
  if (names.size > 1)
    throw new PayloadError(
      `cannot tell which MCP server this call goes to: ${[...names].sort().join(", ")} in .cursor/mcp.json share its command line; give each server its own`,
    );
  return names.values().next().value;
}

function serversOf(file: string): Record<string, unknown> {
  try {
    const o = JSON.parse(readFileSync(file, "utf8")) as { mcpServers?: unknown };
    return typeof o.mcpServers === "object" && o.mcpServers !== null ? (o.mcpServers as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface CursorOutput {
  permission?: "allow" | "deny" | "ask";
  user_message?: string;
  agent_message?: string;
}

const APPROVAL_ENV = "DOWNSCOPE_APPROVAL";

/**
 * The answer. "No opinion" is `{}`: valid JSON (a hook installed with
 * failClosed must answer some), and no `permission`, so Cursor's own
 * approval settings decide as if there were no hook. `permission: "allow"`
 * is kept for what the Claude Code hook auto-approves (settings.auto_approve).
 */
export function toCursorOutput(result: HookResult, shimsOnPath: boolean): CursorOutput {
  const say = (permission: NonNullable<CursorOutput["permission"]>, m: string): CursorOutput => ({
    permission,
    user_message: m,
    agent_message: m,
  });
  switch (result.decision) {
    case "none":
      return {};
    case "deny":
      return say("deny", result.reason);
    case "ask":
      if (result.command === undefined) return say("ask", result.reason);
      if (result.command.includes(APPROVAL_ENV))
        return say(
          "deny",
          `${result.reason}. Cursor's hooks cannot carry a human approval into the command, so the agent may not run it: ask the user to run it themselves in a terminal.`,
        );
      return say("deny", `${result.reason}. ${rerun(result.command)}`);
    case "allow":
    case "rewrite":
      // The shims on PATH route the unchanged command through downscope-exec.
      if (shimsOnPath) return result.decision === "allow" ? { permission: "allow" } : {};
      return say("deny", `${result.reason}. ${rerun(result.command)}`);
  }
}

function rerun(command: string): string {
  return `Cursor's hooks cannot change a command, so downscope cannot route it through downscope-exec itself and the downscope shims are not on PATH. Run exactly this instead: ${command}`;
}

export function cursorDeny(reason: string): ProtocolAnswer {
  const o: CursorOutput = { permission: "deny", user_message: reason, agent_message: reason };
  return { stdout: `${JSON.stringify(o)}\n`, code: 2 };
}

/** A directory on PATH holds the shims (the agent's terminal starts from the same environment as its hooks). */
export function shimsOnPathDirs(env: Env): boolean {
  return (env.PATH ?? "").split(delimiter).some((d) => d !== "" && isAbsolute(d) && existsSync(join(d, SHIMS_MARKER)));
}

export const cursorProtocol: HookProtocol = {
  agent: "Cursor",
  parse: parseCursorPayload,
  answer: (result, _payload, ctx) => {
    const needsShims = result.decision === "allow" || result.decision === "rewrite";
    const o = toCursorOutput(result, needsShims && shimsOnPathDirs(ctx.env));
    return { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: cursorDeny,
  shimsFromPathOnly: true,
};

function objectOf(text: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError("the hook input is not JSON; `downscope hook --agent cursor` must be run by Cursor's hooks");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  return data as Record<string, unknown>;
}
