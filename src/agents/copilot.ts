/**
 * GitHub Copilot CLI (@github/copilot; run for real as 1.0.102 offline, with
 * its documented BYOK provider variables, in test/e2e/copilot-cli.test.ts).
 *
 * Config directory: COPILOT_HOME, else ~/.copilot (`copilot help
 * environment`). Hooks: `hooks` in its settings.json (user) or
 * .github/hooks/*.json (repository), `{type: "command", bash, timeoutSec}`
 * per event (`copilot help config`; docs.github.com "Copilot CLI hooks
 * reference").
 *
 * Entries (settings.json, user scope): a preToolUse hook running `downscope
 * hook --agent copilot` (src/hook/agents/copilot.ts). Copilot CLI runs it for
 * every tool (preToolUse takes no matcher there).
 *
 * Fail closed in Copilot CLI's terms (1.0.102, run for real): a hook that
 * exits non-zero denies the call ("hook errored"); a timeout, an empty or a
 * non-JSON answer let it run. So the hook answers JSON on every path, its
 * deadline (4 s) fires first, the watchdog kills a hung hook at 8 s (below
 * the 10 s timeout written here), and the command line exits 2 when anything
 * failed.
 *
 * Only the user scope: a repository's .github/hooks/ is a directory the agent
 * edits, and the user settings hold the hook for every repository.
 * Protected besides settings.json: config.json (older settings), the MCP
 * servers, and a repository's .github/hooks/ and .github/copilot/ settings
 * (`disableAllHooks`, permissions).
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

export const COPILOT_TIMEOUT_S = 10;

const SETTINGS = "Copilot CLI settings that hold downscope's hook";

export const COPILOT: AgentFiles = {
  target: "copilot",
  agent: "Copilot CLI",
  configVar: { name: "COPILOT_HOME", names: "dir" },
  defaultDir: (env) => join(homeOf(env), ".copilot"),
  settings: { user: "settings.json" },
  protect: {
    user: [
      { path: "settings.json", what: SETTINGS },
      { path: "config.json", what: "Copilot CLI's settings" },
      { path: "mcp-config.json", what: "Copilot CLI's MCP servers" },
      { path: "hooks", what: "Copilot CLI's hooks" },
    ],
    project: [
      { path: ".github/hooks", what: "the repository's Copilot CLI hooks" },
      { path: ".github/copilot", what: "the repository's Copilot CLI settings" },
    ],
  },
};

export function copilotHookCommand(ctx: Pick<EntryContext, "bin" | "watchdog">): string {
  return guardedCommand(
    `${quote(ctx.bin)} hook --agent copilot`,
    ctx,
    COPILOT_TIMEOUT_S - 2,
    printJson({ permissionDecision: "deny", permissionDecisionReason: HOOK_FAILED }),
  );
}

export const isCopilotEntry = (h: Json): boolean =>
  isObj(h) && typeof h.bash === "string" && /downscope(\.js)?'?\s+hook\s+--agent\s+copilot\b/.test(h.bash);

export function removeCopilot(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (!isObj(hooks) || !Array.isArray(hooks.preToolUse) || !hooks.preToolUse.some(isCopilotEntry)) return false;
  const rest = hooks.preToolUse.filter((h) => !isCopilotEntry(h));
  if (rest.length > 0) hooks.preToolUse = rest;
  else delete hooks.preToolUse;
  if (Object.keys(hooks).length === 0) delete settings.hooks;
  return true;
}

export function addCopilot(settings: Obj, ctx: EntryContext): void {
  removeCopilot(settings);
  if (settings.hooks === undefined) settings.hooks = {};
  const hooks = settings.hooks;
  if (!isObj(hooks)) throw new ConfigError([{ file: ctx.file, path: "hooks", message: "expected an object" }]);
  if (hooks.preToolUse !== undefined && !Array.isArray(hooks.preToolUse))
    throw new ConfigError([{ file: ctx.file, path: "hooks.preToolUse", message: "expected an array" }]);
  const list = (hooks.preToolUse ??= []) as Json[];
  // First: a deny from any hook blocks, but an earlier hook's failure must not keep ours from answering.
  list.unshift({ type: "command", bash: copilotHookCommand(ctx), timeoutSec: COPILOT_TIMEOUT_S });
}

export const COPILOT_INSTALL: InstallSpec = {
  files: COPILOT,
  scopes: ["user"],
  scopeNote:
    "a repository's .github/hooks/ is the agent's to edit; the user settings hold the hook for every repository",
  summary: "Copilot CLI preToolUse hook in settings.json",
  entries: { format: "json", add: addCopilot, remove: removeCopilot },
  notes:
    "  Copilot CLI runs service commands rewritten to downscope-exec (modifiedArgs); a review asks you in Copilot CLI's\n" +
    "  own prompt (denied in -p mode, where no one can answer). See docs/agents.md.\n",
};
