/**
 * `downscope install cursor [--scope user|project] [--dry-run]` and
 * `downscope uninstall cursor …`: hooks in Cursor's hooks.json
 * (~/.cursor/hooks.json, or .cursor/hooks.json in the project;
 * https://cursor.com/docs/agent/hooks) running `downscope hook --agent cursor`
 * (src/hook/agents/cursor.ts) on beforeShellExecution, beforeMCPExecution and
 * preToolUse for the file-writing tools. Round trip as `install claude`
 * (src/cli/agent-settings.ts).
 *
 * `failClosed: true` on each: without it Cursor lets the action run when the
 * hook crashes, times out or answers nothing. No `timeout` is written: the
 * copies of Cursor's docs read for this disagree on its unit (seconds or
 * milliseconds), and a value read in the wrong unit would block every call;
 * the hook's own deadline (4 s) answers deny first.
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { CURSOR_WRITE_MATCHER } from "../hook/agents/cursor.js";
import { packageRoot } from "../package-root.js";
import { quote } from "../shell/quote.js";
import { installCommand, isObj, uninstallCommand, type AgentSettings, type Json, type Obj } from "./agent-settings.js";

export const CURSOR_EVENTS = ["beforeShellExecution", "beforeMCPExecution", "preToolUse"] as const;

export function cursorHookCommand(): string {
  return `${quote(join(packageRoot(), "bin", "downscope.js"))} hook --agent cursor`;
}

const isOurs = (h: Json): boolean =>
  isObj(h) && typeof h.command === "string" && /downscope(\.js)?'?\s+hook\s+--agent\s+cursor\b/.test(h.command);

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
    list.push(
      event === "preToolUse"
        ? { command, matcher: CURSOR_WRITE_MATCHER, failClosed: true }
        : { command, failClosed: true },
    );
  }
}

export const CURSOR: AgentSettings = {
  agent: "Cursor",
  target: "cursor",
  file: (scope, io) =>
    scope === "user" ? join(io.env.HOME ?? "", ".cursor", "hooks.json") : join(io.cwd, ".cursor", "hooks.json"),
  add: addCursor,
  remove: removeCursor,
  notes:
    "  Cursor's hooks cannot change a command: a service call is denied with the exact downscope-exec command to run\n" +
    '  instead, unless the shims are first on PATH in the environment Cursor starts from (eval "$(downscope env)" in\n' +
    "  your shell profile), where the shims route it. Reviews are denied: run those yourself. See docs/agents.md.\n",
};

export const install = installCommand(CURSOR);
export const uninstall = uninstallCommand(CURSOR);
