/**
 * `downscope install gemini [--scope user|project] [--dry-run]` and
 * `downscope uninstall gemini …`: a BeforeTool hook in Gemini CLI's
 * settings.json (~/.gemini/settings.json, or .gemini/settings.json in the
 * project; https://geminicli.com/docs/hooks/reference/) running
 * `downscope hook --agent gemini` (src/hook/agents/gemini.ts) on the shell,
 * file-writing and MCP tools, and an AfterTool hook running `downscope
 * post-tool-use --agent gemini` (src/hook/agents/gemini-after-tool.ts) on every
 * tool, which masks secrets in outputs. Round trip as `install claude`
 * (src/cli/agent-settings.ts).
 *
 * The command line: Gemini CLI runs it through a shell, lets the tool run
 * when a hook exits 1 or prints no JSON, and treats a non-JSON answer with an
 * exit code of 2 or more as a deny. The hook itself always answers JSON with
 * exit 0; `|| { …; exit 2; }` turns a crash of node itself into a deny too.
 * The timeout (milliseconds) sits above the hook's own deadline (4 s): a
 * timed-out hook lets the tool run in Gemini CLI.
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { quote } from "../shell/quote.js";
import { installCommand, isObj, uninstallCommand, type AgentSettings, type Json, type Obj } from "./agent-settings.js";

/** Milliseconds Gemini CLI waits for the hook. */
export const GEMINI_HOOK_TIMEOUT_MS = 10_000;
/** Anchored: Gemini CLI tests the matcher as an unanchored regular expression. */
export const GEMINI_MATCHER = "^(run_shell_command|write_file|replace|mcp_.+)$";

export function geminiHookCommand(): string {
  const bin = quote(join(packageRoot(), "bin", "downscope.js"));
  const deny = JSON.stringify({
    decision: "deny",
    reason: "downscope: the hook could not run, so the tool call is blocked. Run `downscope doctor`.",
  });
  return `${bin} hook --agent gemini || { printf '%s\\n' ${quote(deny)}; exit 2; }`;
}

/** The AfterTool masking hook: on error it denies, which withholds the output (Gemini CLI reads the JSON whatever the exit code). */
export function geminiAfterToolCommand(): string {
  const bin = quote(join(packageRoot(), "bin", "downscope.js"));
  const deny = JSON.stringify({
    decision: "deny",
    reason: "downscope: the masking hook could not run, so the tool's output is withheld. Run `downscope doctor`.",
  });
  return `${bin} post-tool-use --agent gemini || { printf '%s\\n' ${quote(deny)}; exit 2; }`;
}

const isOurs = (h: Json): boolean =>
  isObj(h) &&
  typeof h.command === "string" &&
  /downscope(\.js)?'?\s+(hook|post-tool-use)\s+--agent\s+gemini\b/.test(h.command);

function hooksOf(settings: Obj, file: string): Obj {
  if (settings.hooks === undefined) settings.hooks = {};
  if (!isObj(settings.hooks)) throw new ConfigError([{ file, path: "hooks", message: "expected an object" }]);
  return settings.hooks;
}

export function removeGemini(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (!isObj(hooks)) return false;
  let changed = false;
  for (const event of ["BeforeTool", "AfterTool"]) {
    const groups = hooks[event];
    if (!Array.isArray(groups)) continue;
    let here = false;
    const kept: Json[] = [];
    for (const g of groups) {
      if (isObj(g) && Array.isArray(g.hooks) && g.hooks.some(isOurs)) {
        here = true;
        const rest = g.hooks.filter((h) => !isOurs(h));
        if (rest.length > 0) kept.push({ ...g, hooks: rest });
      } else kept.push(g);
    }
    if (!here) continue;
    changed = true;
    if (kept.length > 0) hooks[event] = kept;
    else delete hooks[event];
  }
  if (changed && Object.keys(hooks).length === 0) delete settings.hooks;
  return changed;
}

export function addGemini(settings: Obj, file: string = "settings.json"): void {
  removeGemini(settings);
  const hooks = hooksOf(settings, file);
  if (hooks.BeforeTool !== undefined && !Array.isArray(hooks.BeforeTool))
    throw new ConfigError([{ file, path: "hooks.BeforeTool", message: "expected an array" }]);
  const before = (hooks.BeforeTool ??= []) as Json[];
  before.push({
    matcher: GEMINI_MATCHER,
    hooks: [
      {
        name: "downscope",
        type: "command",
        command: geminiHookCommand(),
        timeout: GEMINI_HOOK_TIMEOUT_MS,
        description: "downscope: least-privilege credentials per command (deny / ask / rewrite to downscope-exec)",
      },
    ],
  });
  if (hooks.AfterTool !== undefined && !Array.isArray(hooks.AfterTool))
    throw new ConfigError([{ file, path: "hooks.AfterTool", message: "expected an array" }]);
  ((hooks.AfterTool ??= []) as Json[]).push({
    matcher: ".*",
    hooks: [
      {
        name: "downscope-mask",
        type: "command",
        command: geminiAfterToolCommand(),
        timeout: GEMINI_HOOK_TIMEOUT_MS,
        description: "downscope: secrets in tool output replaced by [masked:<kind>] (docs/masking.md)",
      },
    ],
  });
}

export const GEMINI: AgentSettings = {
  agent: "Gemini CLI",
  target: "gemini",
  file: (scope, io) =>
    scope === "user" ? join(io.env.HOME ?? "", ".gemini", "settings.json") : join(io.cwd, ".gemini", "settings.json"),
  add: addGemini,
  remove: removeGemini,
  notes:
    "  Gemini CLI runs service commands rewritten to downscope-exec; a call nested in a string (bash -c '…') is asked,\n" +
    '  unless the shims are first on PATH in the shell Gemini CLI starts from (eval "$(downscope env)"). See docs/agents.md.\n',
};

export const install = installCommand(GEMINI);
export const uninstall = uninstallCommand(GEMINI);
