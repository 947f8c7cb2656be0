/**
 * Gemini CLI (https://geminicli.com/docs/hooks/reference/; run for real in
 * test/e2e/gemini-cli.test.ts).
 *
 * Config directory: $GEMINI_CLI_HOME/.gemini, else ~/.gemini (the variable
 * names a home, as read in the CLI's bundle: `GEMINI_CLI_HOME || homedir()`).
 *
 * Entries (settings.json, user / project): a BeforeTool hook running
 * `downscope hook --agent gemini` (src/hook/agents/gemini.ts) on the shell,
 * file-writing and MCP tools. The command line: Gemini CLI runs it through a
 * shell, lets the tool run when a hook exits 1 or prints no JSON, and treats
 * a non-JSON answer with an exit code of 2 or more as a deny. The hook itself
 * always answers JSON with exit 0; `|| { …; exit 2; }` turns a crash of node
 * itself into a deny too. The timeout (milliseconds) sits above the hook's
 * own deadline (4 s): a timed-out hook lets the tool run in Gemini CLI, which
 * has no setting to make it block, so the hook starts under coreutils
 * `timeout` where there is one (killed at 8 s, then the deny and exit 2).
 *
 * And an AfterTool hook running `downscope post-tool-use --agent gemini`
 * (src/hook/agents/gemini-after-tool.ts) on every tool, which masks secrets
 * in outputs (docs/masking.md); on error it denies, which withholds the
 * output (Gemini CLI reads the JSON whatever the exit code).
 *
 * Protected besides settings.json: policies/ (Gemini CLI's policy engine
 * rules, which can allow tools without confirmation).
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { quote } from "../shell/quote.js";
import {
  guardedCommand,
  HOOK_FAILED,
  homeOf,
  printJson,
  isObj,
  type AgentFiles,
  type EntryContext,
  type InstallSpec,
  type Json,
  type Obj,
} from "./spec.js";

/** Milliseconds Gemini CLI waits for the hook. */
export const GEMINI_HOOK_TIMEOUT_MS = 10_000;
/** Anchored: Gemini CLI tests the matcher as an unanchored regular expression. */
export const GEMINI_MATCHER = "^(run_shell_command|write_file|replace|mcp_.+)$";

const SETTINGS = "Gemini CLI settings that hold downscope's hooks";

export const GEMINI: AgentFiles = {
  target: "gemini",
  agent: "Gemini CLI",
  configVar: { name: "GEMINI_CLI_HOME", names: "home" },
  defaultDir: (env) => join(homeOf(env), ".gemini"),
  settings: { user: "settings.json", project: ".gemini/settings.json" },
  protect: {
    user: [
      { path: "settings.json", what: SETTINGS },
      { path: "policies", what: "Gemini CLI's policy rules" },
    ],
    project: [
      { path: ".gemini/settings.json", what: SETTINGS },
      { path: ".gemini/policies", what: "Gemini CLI's policy rules" },
    ],
  },
};

export function geminiHookCommand(ctx: Pick<EntryContext, "bin" | "watchdog">): string {
  return guardedCommand(
    `${quote(ctx.bin)} hook --agent gemini`,
    ctx,
    GEMINI_HOOK_TIMEOUT_MS / 1000 - 2,
    printJson({ decision: "deny", reason: HOOK_FAILED }),
  );
}

/** The AfterTool masking hook's command line: a failure of node itself denies, which withholds the output. */
export function geminiAfterToolCommand(ctx: Pick<EntryContext, "bin" | "watchdog">): string {
  const reason = "downscope: the masking hook could not run, so the tool's output is withheld. Run `downscope doctor`.";
  return guardedCommand(
    `${quote(ctx.bin)} post-tool-use --agent gemini`,
    ctx,
    GEMINI_HOOK_TIMEOUT_MS / 1000 - 2,
    printJson({ decision: "deny", reason }),
  );
}

export const isGeminiEntry = (h: Json): boolean =>
  isObj(h) &&
  typeof h.command === "string" &&
  /downscope(\.js)?'?\s+(hook|post-tool-use)\s+--agent\s+gemini\b/.test(h.command);

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
      if (isObj(g) && Array.isArray(g.hooks) && g.hooks.some(isGeminiEntry)) {
        here = true;
        const rest = g.hooks.filter((h) => !isGeminiEntry(h));
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

export function addGemini(settings: Obj, ctx: Pick<EntryContext, "bin" | "file" | "watchdog">): void {
  removeGemini(settings);
  if (settings.hooks === undefined) settings.hooks = {};
  const hooks = settings.hooks;
  if (!isObj(hooks)) throw new ConfigError([{ file: ctx.file, path: "hooks", message: "expected an object" }]);
  if (hooks.BeforeTool !== undefined && !Array.isArray(hooks.BeforeTool))
    throw new ConfigError([{ file: ctx.file, path: "hooks.BeforeTool", message: "expected an array" }]);
  const before = (hooks.BeforeTool ??= []) as Json[];
  before.push({
    matcher: GEMINI_MATCHER,
    hooks: [
      {
        name: "downscope",
        type: "command",
        command: geminiHookCommand(ctx),
        timeout: GEMINI_HOOK_TIMEOUT_MS,
        description: "downscope: least-privilege credentials per command (deny / ask / rewrite to downscope-exec)",
      },
    ],
  });
  if (hooks.AfterTool !== undefined && !Array.isArray(hooks.AfterTool))
    throw new ConfigError([{ file: ctx.file, path: "hooks.AfterTool", message: "expected an array" }]);
  ((hooks.AfterTool ??= []) as Json[]).push({
    matcher: ".*",
    hooks: [
      {
        name: "downscope-mask",
        type: "command",
        command: geminiAfterToolCommand(ctx),
        timeout: GEMINI_HOOK_TIMEOUT_MS,
        description: "downscope: secrets in tool output replaced by [masked:<kind>] (docs/masking.md)",
      },
    ],
  });
}

export const GEMINI_INSTALL: InstallSpec = {
  files: GEMINI,
  scopes: ["user", "project"],
  summary: "Gemini CLI BeforeTool hook and AfterTool masking hook in settings.json",
  entries: { format: "json", add: addGemini, remove: removeGemini },
  notes:
    "  Gemini CLI runs service commands rewritten to downscope-exec; a call nested in a string (bash -c '…') is asked,\n" +
    '  unless the shims are first on PATH in the shell Gemini CLI starts from (eval "$(downscope env)"). See docs/agents.md.\n',
};
