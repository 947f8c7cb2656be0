/**
 * `downscope install cursor [--scope user|project] [--dry-run]` and
 * `downscope uninstall cursor …`: hooks in Cursor's hooks.json
 * (~/.cursor/hooks.json, or .cursor/hooks.json in the project;
 * https://cursor.com/docs/hooks) running `downscope hook --agent cursor`
 * (src/hook/agents/cursor.ts) on beforeShellExecution, beforeMCPExecution and
 * preToolUse for the shell and the file-writing tools, and `downscope
 * post-tool-use --agent cursor` on postToolUse (masks secrets in MCP tools'
 * output, the only output Cursor lets a hook replace). Round trip as
 * `install claude` (src/cli/agent-settings.ts).
 *
 * Each entry:
 *   - `failClosed: true`: without it Cursor lets the action run when the hook
 *     crashes, times out or answers invalid JSON;
 *   - `timeout: 10`, in seconds (the docs' per-script option table), above
 *     the hook's own deadline (4 s), which answers deny first;
 *   - first in its event's list: Cursor releases up to at least 2.1 ran only
 *     the first hook of a list (a forum report, acknowledged December 2025),
 *     so a hook placed after another tool's might never run.
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { CURSOR_PRETOOL_MATCHER } from "../hook/agents/cursor.js";
import { packageRoot } from "../package-root.js";
import { quote } from "../shell/quote.js";
import { installCommand, isObj, uninstallCommand, type AgentSettings, type Json, type Obj } from "./agent-settings.js";

export const CURSOR_EVENTS = ["beforeShellExecution", "beforeMCPExecution", "preToolUse"] as const;

/** Seconds; above the hook's own deadline (settings.hook_deadline_ms, 4 s by default). */
export const CURSOR_TIMEOUT_S = 10;

export function cursorHookCommand(): string {
  return `${quote(join(packageRoot(), "bin", "downscope.js"))} hook --agent cursor`;
}

/** postToolUse: the masking hook (src/hook/agents/cursor-post-tool-use.ts). */
export function cursorPostToolUseCommand(): string {
  return `${quote(join(packageRoot(), "bin", "downscope.js"))} post-tool-use --agent cursor`;
}

const isOurs = (h: Json): boolean =>
  isObj(h) &&
  typeof h.command === "string" &&
  /downscope(\.js)?'?\s+(hook|post-tool-use)\s+--agent\s+cursor\b/.test(h.command);

export function removeCursor(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (!isObj(hooks)) return false;
  let changed = false;
  for (const event of Object.keys(hooks)) {
    const list = hooks[event];
    if (!Array.isArray(list) || !list.some(isOurs)) continue;
    changed = true;
    const rest = list.filter((h) => !isOurs(h));
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

export function addCursor(settings: Obj, file: string = "hooks.json"): void {
  removeCursor(settings);
  settings.version ??= 1;
  if (settings.hooks === undefined) settings.hooks = {};
  const hooks = settings.hooks;
  if (!isObj(hooks)) throw new ConfigError([{ file, path: "hooks", message: "expected an object" }]);
  const command = cursorHookCommand();
  for (const event of CURSOR_EVENTS) {
    if (hooks[event] !== undefined && !Array.isArray(hooks[event]))
      throw new ConfigError([{ file, path: `hooks.${event}`, message: "expected an array" }]);
    const list = (hooks[event] ??= []) as Json[];
    list.unshift(
      event === "preToolUse"
        ? { command, matcher: CURSOR_PRETOOL_MATCHER, failClosed: true, timeout: CURSOR_TIMEOUT_S }
        : { command, failClosed: true, timeout: CURSOR_TIMEOUT_S },
    );
  }
  if (hooks.postToolUse !== undefined && !Array.isArray(hooks.postToolUse))
    throw new ConfigError([{ file, path: "hooks.postToolUse", message: "expected an array" }]);
  ((hooks.postToolUse ??= []) as Json[]).unshift({
    command: cursorPostToolUseCommand(),
    failClosed: true,
    timeout: CURSOR_TIMEOUT_S,
  });
}

export const CURSOR: AgentSettings = {
  agent: "Cursor",
  target: "cursor",
  file: (scope, io) =>
    scope === "user" ? join(io.env.HOME ?? "", ".cursor", "hooks.json") : join(io.cwd, ".cursor", "hooks.json"),
  add: addCursor,
  remove: removeCursor,
  notes:
    "  preToolUse rewrites a service call to downscope-exec and beforeShellExecution checks what runs; where Cursor\n" +
    "  does not apply the rewrite, the call is denied with the exact downscope-exec command to run instead. Calls\n" +
    "  nested in strings (bash -c 'gh …') need the shims on PATH: eval \"$(downscope env)\" in your shell profile.\n" +
    "  See docs/agents.md.\n",
};

export const install = installCommand(CURSOR);
export const uninstall = uninstallCommand(CURSOR);
