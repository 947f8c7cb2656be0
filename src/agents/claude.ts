/**
 * Claude Code (https://docs.claude.com/en/docs/claude-code/settings,
 * https://docs.claude.com/en/docs/claude-code/hooks).
 *
 * Config directory: CLAUDE_CONFIG_DIR, else ~/.claude. With the variable set,
 * the user's `.claude.json` (MCP servers, per-project state) moves inside it.
 *
 * Entries (settings.json, user / project / local):
 *   - PreToolUse, matcher `Bash` and the file-writing tools (Write, Edit,
 *     MultiEdit, NotebookEdit, and the reading tools Read, NotebookRead, Grep, Glob), plus `mcp__.*` when the policy has MCP
 *     services → `downscope hook`, timeout above the hook's own deadline;
 *   - SessionStart → `downscope session-start` (the shims first on PATH
 *     through CLAUDE_ENV_FILE);
 *   - PostToolUse and PostToolUseFailure, every tool → `downscope
 *     post-tool-use` (secrets in tool output masked before the model sees it).
 * Fail closed in Claude Code's terms: `"onFailure": "block"` makes a crash or
 * a timeout of the hook a block (without it, both let the tool run), and
 * `|| exit 2` turns a failure of node itself into Claude Code's blocking exit
 * code on versions that do not know onFailure.
 *
 * Contained mode (`install claude --contain`) adds the sandbox settings too:
 * src/cli/install-contain.ts, over src/contain/.
 */
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { quote } from "../shell/quote.js";
import { isServeHook } from "../serve/claude-hooks.js";
import { homeOf, isObj, type AgentFiles, type EntryContext, type InstallSpec, type Json, type Obj } from "./spec.js";

/** The PreToolUse matcher: Bash, the file-writing tools, and MCP tools when the policy has MCP services. */
export const HOOK_MATCHER = "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob";
export const HOOK_MATCHER_MCP = `${HOOK_MATCHER}|mcp__.*`;

/** Seconds Claude Code waits for the hook; the hook's own deadline (4 s by default) fires first. */
export const HOOK_TIMEOUT_SECONDS = 10;

const SETTINGS = "Claude Code settings that hold downscope's hooks";

export const CLAUDE: AgentFiles = {
  target: "claude",
  agent: "Claude Code",
  configVar: { name: "CLAUDE_CONFIG_DIR", names: "dir" },
  defaultDir: (env) => join(homeOf(env), ".claude"),
  settings: { user: "settings.json", project: ".claude/settings.json", local: ".claude/settings.local.json" },
  protect: {
    user: [
      { path: "settings.json", what: SETTINGS },
      { path: "settings.local.json", what: SETTINGS },
      { path: "session-env", what: "Claude Code's session environment files" },
      // Where CLAUDE_CONFIG_DIR puts it; the default ~/.claude.json is listed by protected-paths.ts.
      { path: ".claude.json", what: "Claude Code's user config (MCP servers)" },
    ],
    project: [
      { path: ".claude/settings.json", what: SETTINGS },
      { path: ".claude/settings.local.json", what: SETTINGS },
      { path: ".mcp.json", what: "the project's MCP servers" },
    ],
  },
};

/** The exact commands install writes (absolute, shell-quoted; exit 2 blocks the tool if node itself fails). */
export function claudeCommands(bin: string): { hook: string; sessionStart: string; postToolUse: string } {
  const b = quote(bin);
  return {
    hook: `${b} hook || exit 2`,
    sessionStart: `${b} session-start || exit 2`,
    postToolUse: `${b} post-tool-use || exit 2`,
  };
}

/** Every tool: any tool's output can carry a secret (Bash, Read, Grep, WebFetch, Edit's snippet, MCP results). */
export const POST_TOOL_MATCHER = "*";

/** A hook entry of downscope's, in any version install ever wrote (the decision service's http hook included). */
export const isClaudeEntry = (h: Json): boolean =>
  isServeHook(h) ||
  (isObj(h) &&
    typeof h.command === "string" &&
    /downscope(\.js)?'?\s+(hook|session-start|post-tool-use)\b/.test(h.command));

/** Removes downscope's hooks; prunes only containers it emptied. Returns whether anything changed. */
export function removeClaude(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (!isObj(hooks)) return false;
  let changed = false;
  for (const event of Object.keys(hooks)) {
    const groups = hooks[event];
    if (!Array.isArray(groups)) continue;
    const kept: Json[] = [];
    let emptiedHere = false;
    for (const g of groups) {
      if (isObj(g) && Array.isArray(g.hooks) && g.hooks.some(isClaudeEntry)) {
        const rest = g.hooks.filter((h) => !isClaudeEntry(h));
        changed = true;
        if (rest.length > 0) kept.push({ ...g, hooks: rest });
        else emptiedHere = true;
      } else kept.push(g);
    }
    if (kept.length !== groups.length || emptiedHere) {
      if (kept.length === 0) delete hooks[event];
      else hooks[event] = kept;
    }
  }
  if (changed && Object.keys(hooks).length === 0) delete settings.hooks;
  return changed;
}

/**
 * The hook entries, one per event. Other work adds its own events here (one
 * entry each): keep every entry `onFailure: "block"` and its command ending
 * in `|| exit 2`.
 */
export function claudeEntries(bin: string, mcp: boolean, preToolUseHooks?: Obj[]): Record<string, Obj> {
  const cmds = claudeCommands(bin);
  const entry = (command: string): Obj => ({
    type: "command",
    command,
    timeout: HOOK_TIMEOUT_SECONDS,
    onFailure: "block",
  });
  return {
    PreToolUse: { matcher: mcp ? HOOK_MATCHER_MCP : HOOK_MATCHER, hooks: preToolUseHooks ?? [entry(cmds.hook)] },
    SessionStart: { hooks: [entry(cmds.sessionStart)] },
    // The masking hook (src/cli/post-tool-use.ts, docs/masking.md). PostToolUse replaces the output the model
    // sees; PostToolUseFailure cannot (Claude Code 2.1.328), so there it records what the failed call returned.
    // onFailure changes nothing for these events in 2.1.328 (a failing hook leaves the output as it was): the
    // hook itself answers every error, withholding the output.
    PostToolUse: { matcher: POST_TOOL_MATCHER, hooks: [entry(cmds.postToolUse)] },
    PostToolUseFailure: { matcher: POST_TOOL_MATCHER, hooks: [entry(cmds.postToolUse)] },
  };
}

export function addClaude(settings: Obj, ctx: Pick<EntryContext, "bin" | "mcp" | "file" | "preToolUseHooks">): void {
  removeClaude(settings);
  if (settings.hooks === undefined) settings.hooks = {};
  const hooks = settings.hooks;
  if (!isObj(hooks)) throw new ConfigError([{ file: ctx.file, path: "hooks", message: "expected an object" }]);
  for (const [event, group] of Object.entries(claudeEntries(ctx.bin, ctx.mcp, ctx.preToolUseHooks))) {
    if (hooks[event] !== undefined && !Array.isArray(hooks[event]))
      throw new ConfigError([{ file: ctx.file, path: `hooks.${event}`, message: "expected an array" }]);
    const list = (hooks[event] ??= []) as Json[];
    list.push(group);
  }
}

export const CLAUDE_INSTALL: InstallSpec = {
  files: CLAUDE,
  scopes: ["user", "project", "local"],
  summary: "Claude Code hooks (PreToolUse, SessionStart, PostToolUse) in settings.json",
  entries: { format: "json", add: addClaude, remove: removeClaude },
  notes: "",
};
