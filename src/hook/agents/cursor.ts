/**
 * Cursor's agent hooks (https://cursor.com/docs/hooks; Cursor is closed
 * source: see docs/agents.md for what was verified how), as a thin adapter
 * over the shared decision. Events:
 *   - preToolUse for Shell {tool_name: "Shell", tool_input: {command,
 *     working_directory}} → Bash: the rewriting hook (`updated_input`), which
 *     cannot ask;
 *   - beforeShellExecution {command, cwd, workspace_roots, conversation_id, …}
 *     → Bash (tool_input.command): the enforcing hook, which can ask but not
 *     rewrite, and sees every command whatever preToolUse did;
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
 * "agent_message", "updated_input" (preToolUse only)}.
 *
 * preToolUse rewrites the call to `downscope-exec …` as the Claude Code hook
 * does. beforeShellExecution then decides on the command it is given:
 *   - the rewritten one names downscope-exec and passes;
 *   - an unrewritten one (an older Cursor, or one that shows this hook the
 *     command as the model wrote it) with the shims on this PATH passes, the
 *     shim routing it through downscope-exec; without them it is denied, and
 *     the agent is told the exact command to run instead.
 * So a rewrite Cursor did not apply costs a model turn, never a credential.
 *
 * A review: preToolUse puts a gated approval in the rewrite (worth nothing
 * until asked, src/approval/approval.ts); beforeShellExecution, given exactly
 * that command, answers `ask` and so opens it. The human approves in Cursor's
 * prompt. Where beforeShellExecution sees no such command, the review is
 * denied with "ask the user to run it themselves".
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

/** The preToolUse matcher `install cursor` writes (src/agents/cursor.ts): the shell tool and the file-writing tools above. */
export { CURSOR_PRETOOL_MATCHER } from "../../agents/cursor.js";

export function parseCursorPayload(text: string, ctx: { env: Env; cwd: string }): HookPayload {
  const p = objectOf(text);
  const roots = Array.isArray(p.workspace_roots) ? p.workspace_roots.filter((r) => typeof r === "string") : [];
  const cwd = typeof p.cwd === "string" && p.cwd !== "" ? p.cwd : roots[0];
  const base = {
    ...(cwd !== undefined ? { cwd } : {}),
    ...(roots[0] !== undefined && isAbsolute(roots[0]) ? { project_dir: roots[0] } : {}),
    ...(typeof p.conversation_id === "string" ? { session_id: p.conversation_id } : {}),
  };
  const agent_event = typeof p.hook_event_name === "string" ? p.hook_event_name : "";
  switch (p.hook_event_name) {
    case "beforeShellExecution":
      if (typeof p.command !== "string") throw new PayloadError("the Cursor beforeShellExecution input has no command");
      return {
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: p.command },
        ...base,
        agent_event,
      };
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
        agent_event,
      };
    }
    case "preToolUse": {
      if (typeof p.tool_name !== "string") throw new PayloadError("the Cursor preToolUse input has no tool_name");
      const input = p.tool_input ?? {};
      if (typeof input !== "object" || input === null || Array.isArray(input))
        throw new PayloadError("the Cursor preToolUse input's tool_input is not an object");
      const i = input as Record<string, unknown>;
      if (p.tool_name === "Shell") {
        if (typeof i.command !== "string") throw new PayloadError("the Cursor Shell tool input has no command");
        const dir =
          typeof i.working_directory === "string" && isAbsolute(i.working_directory) ? i.working_directory : undefined;
        // The whole tool input is kept: updated_input is a copy of it with only the command changed.
        return {
          hook_event_name: "PreToolUse",
          tool_name: "Bash",
          tool_input: i,
          ...base,
          ...(dir !== undefined ? { cwd: dir } : {}),
          agent_event,
        };
      }
      const mapped = WRITE_TOOLS[p.tool_name];
      if (mapped === undefined)
        return { hook_event_name: "PreToolUse", tool_name: p.tool_name, tool_input: i, ...base, agent_event };
      const file = [i.file_path, i.path, i.target_file].find((v) => typeof v === "string");
      if (file === undefined) throw new PayloadError(`the Cursor ${p.tool_name} input names no file`);
      return {
        hook_event_name: "PreToolUse",
        tool_name: mapped,
        tool_input: { ...i, file_path: file },
        ...base,
        agent_event,
      };
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
  updated_input?: Record<string, unknown>;
}

const APPROVAL_ENV = "DOWNSCOPE_APPROVAL";

/**
 * The answer. "No opinion" is `{}`: valid JSON (a hook installed with
 * failClosed must answer some), and no `permission`, so Cursor's own
 * approval settings decide as if there were no hook. `permission: "allow"`
 * is kept for what the Claude Code hook auto-approves (settings.auto_approve).
 */
export function toCursorOutput(result: HookResult, shimsOnPath: boolean): CursorOutput {
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
          `${result.reason}. This hook cannot carry a human approval into the command (Cursor's preToolUse hook, which can, did not rewrite it), so the agent may not run it: ask the user to run it themselves in a terminal.`,
        );
      return say("deny", `${result.reason}. ${rerun(result.command)}`);
    case "allow":
    case "rewrite":
      // The shims on PATH route the unchanged command through downscope-exec.
      if (shimsOnPath) return result.decision === "allow" ? { permission: "allow" } : {};
      return say("deny", `${result.reason}. ${rerun(result.command)}`);
  }
}

/**
 * preToolUse for Shell: the rewrite, as the Claude Code hook answers it
 * (`permission: "allow"` only for what downscope auto-approves; a rewrite
 * alone leaves Cursor's own approval to decide). This event cannot ask:
 * whatever needs asking is left to beforeShellExecution, with the gated
 * approval in the rewrite where there is one.
 */
export function toCursorPreToolOutput(result: HookResult, toolInput: Record<string, unknown>): CursorOutput {
  const updated = (command: string) => ({ updated_input: { ...toolInput, command } });
  switch (result.decision) {
    case "none":
      return {};
    case "deny":
      return say("deny", result.reason);
    case "ask":
      return result.command === undefined ? {} : updated(result.command);
    case "allow":
      return { permission: "allow", ...updated(result.command) };
    case "rewrite":
      return updated(result.command);
  }
}

function say(permission: NonNullable<CursorOutput["permission"]>, m: string): CursorOutput {
  return { permission, user_message: m, agent_message: m };
}

function rerun(command: string): string {
  return `This hook cannot change a command (Cursor's preToolUse hook, which can, did not rewrite it), so downscope cannot route it through downscope-exec itself and the downscope shims are not on PATH. Run exactly this instead: ${command}`;
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
  answer: (result, payload, ctx) => {
    if (payload.agent_event === "preToolUse" && payload.tool_name === "Bash")
      return { stdout: `${JSON.stringify(toCursorPreToolOutput(result, payload.tool_input))}\n`, code: 0 };
    const needsShims = result.decision === "allow" || result.decision === "rewrite";
    const o = toCursorOutput(result, needsShims && shimsOnPathDirs(ctx.env));
    return { stdout: `${JSON.stringify(o)}\n`, code: 0 };
  },
  deny: cursorDeny,
  shimsFromPathOnly: true,
  gatedApprovals: true,
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
