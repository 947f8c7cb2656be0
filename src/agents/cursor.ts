/**
 * Cursor (https://cursor.com/docs/hooks; closed source, verified from its
 * documentation only: docs/agents.md).
 *
 * Config directory: ~/.cursor. No variable that moves it is documented.
 *
 * Entries (hooks.json, user / project): `downscope hook --agent cursor`
 * (src/hook/agents/cursor.ts) on beforeShellExecution, beforeMCPExecution and
 * preToolUse for the shell and the file-writing tools, and `downscope
 * post-tool-use --agent cursor` on postToolUse (masks secrets in MCP tools'
 * output, the only output Cursor lets a hook replace). Each entry:
 *   - `failClosed: true`: without it Cursor lets the action run when the hook
 *     crashes, times out or answers invalid JSON;
 *   - `timeout: 10`, in seconds (the docs' per-script option table), above
 *     the hook's own deadline (4 s), which answers deny first;
 *   - first in its event's list: Cursor releases up to at least 2.1 ran only
 *     the first hook of a list (a forum report, acknowledged December 2025),
 *     so a hook placed after another tool's might never run.
 *
 * Protected besides the hooks: mcp.json, sandbox.json (it can widen Cursor's
 * terminal sandbox) and the Cursor CLI's permission files (cli-config.json,
 * a project's cli.json), which can allow commands without asking.
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { quote } from "../shell/quote.js";
import { homeOf, isObj, type AgentFiles, type InstallSpec, type Json, type Obj } from "./spec.js";

export const CURSOR_EVENTS = ["beforeShellExecution", "beforeMCPExecution", "preToolUse"] as const;

/** Seconds; above the hook's own deadline (settings.hook_deadline_ms, 4 s by default). */
export const CURSOR_TIMEOUT_S = 10;

/** The preToolUse matcher: the shell tool and the file-writing tools (src/hook/agents/cursor.ts maps each). */
export const CURSOR_PRETOOL_MATCHER = "Shell|Write|Delete|StrReplace|Edit|MultiEdit";

const HOOKS = "Cursor hooks that hold downscope's hooks";

export const CURSOR: AgentFiles = {
  target: "cursor",
  agent: "Cursor",
  defaultDir: (env) => join(homeOf(env), ".cursor"),
  settings: { user: "hooks.json", project: ".cursor/hooks.json" },
  protect: {
    user: [
      { path: "hooks.json", what: HOOKS },
      { path: "mcp.json", what: "Cursor's MCP servers" },
      { path: "sandbox.json", what: "Cursor's sandbox settings" },
      { path: "cli-config.json", what: "the Cursor CLI's permissions" },
    ],
    project: [
      { path: ".cursor/hooks.json", what: HOOKS },
      { path: ".cursor/mcp.json", what: "Cursor's MCP servers" },
      { path: ".cursor/sandbox.json", what: "Cursor's sandbox settings" },
      { path: ".cursor/cli.json", what: "the Cursor CLI's permissions" },
    ],
  },
};

export function cursorHookCommand(bin: string): string {
  return `${quote(bin)} hook --agent cursor`;
}

export const isCursorEntry = (h: Json): boolean =>
  isObj(h) &&
  typeof h.command === "string" &&
  /downscope(\.js)?'?\s+(hook|post-tool-use)\s+--agent\s+cursor\b/.test(h.command);

export function removeCursor(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (!isObj(hooks)) return false;
  let changed = false;
  for (const event of Object.keys(hooks)) {
    const list = hooks[event];
    if (!Array.isArray(list) || !list.some(isCursorEntry)) continue;
    changed = true;
    const rest = list.filter((h) => !isCursorEntry(h));
    if (rest.length > 0) hooks[event] = rest;
    else delete hooks[event];
  }
  if (!changed) return false;
  if (Object.keys(hooks).length === 0) {
    delete settings.hooks;
    // Only the version install wrote is left: the file install created goes away.
    if (Object.keys(settings).length === 1 && settings.version === 1) delete settings.version;
  }
  return true;
}

export function addCursor(settings: Obj, ctx: { bin: string; file: string }): void {
  removeCursor(settings);
  settings.version ??= 1;
  if (settings.hooks === undefined) settings.hooks = {};
  const hooks = settings.hooks;
  if (!isObj(hooks)) throw new ConfigError([{ file: ctx.file, path: "hooks", message: "expected an object" }]);
  const command = cursorHookCommand(ctx.bin);
  for (const event of CURSOR_EVENTS) {
    if (hooks[event] !== undefined && !Array.isArray(hooks[event]))
      throw new ConfigError([{ file: ctx.file, path: `hooks.${event}`, message: "expected an array" }]);
    const list = (hooks[event] ??= []) as Json[];
    list.unshift(
      event === "preToolUse"
        ? { command, matcher: CURSOR_PRETOOL_MATCHER, failClosed: true, timeout: CURSOR_TIMEOUT_S }
        : { command, failClosed: true, timeout: CURSOR_TIMEOUT_S },
    );
  }
  // postToolUse: the masking hook (src/hook/agents/cursor-post-tool-use.ts); Cursor lets a hook replace MCP output only.
  if (hooks.postToolUse !== undefined && !Array.isArray(hooks.postToolUse))
    throw new ConfigError([{ file: ctx.file, path: "hooks.postToolUse", message: "expected an array" }]);
  ((hooks.postToolUse ??= []) as Json[]).unshift({
    command: `${quote(ctx.bin)} post-tool-use --agent cursor`,
    failClosed: true,
    timeout: CURSOR_TIMEOUT_S,
  });
}

export const CURSOR_INSTALL: InstallSpec = {
  files: CURSOR,
  scopes: ["user", "project"],
  summary: "Cursor hooks (beforeShellExecution, beforeMCPExecution, preToolUse) in hooks.json",
  entries: { format: "json", add: addCursor, remove: removeCursor },
  notes:
    "  preToolUse rewrites a service call to downscope-exec and beforeShellExecution checks what runs; where Cursor\n" +
    "  does not apply the rewrite, the call is denied with the exact downscope-exec command to run instead. Calls\n" +
    "  nested in strings (bash -c 'gh …') need the shims on PATH: eval \"$(downscope env)\" in your shell profile.\n" +
    "  See docs/agents.md.\n",
};
