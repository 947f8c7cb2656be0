/**
 * What downscope knows about each agent it installs into, as data: where the
 * agent keeps its settings (and which environment variable moves them), which
 * of its files must stay out of the agent's own reach, and what `install
 * <agent>` writes. One file per agent beside this one; src/agents/index.ts is
 * the table.
 *
 * Two halves, kept apart so the hook's bundles carry only the first:
 *   - AgentFiles: locations only (read by the self-protection in
 *     src/protection/protected-paths.ts, by `doctor` and by the install driver);
 *   - InstallSpec: the entries install adds and removes (read by the install
 *     driver, src/cli/install-agent.ts, and by `doctor`).
 * Both are pure: no I/O, no library, nothing at module top level that runs.
 */
import { isAbsolute, join } from "node:path";
import { quote } from "../shell/quote.js";

export type Env = Readonly<Record<string, string | undefined>>;
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };
export const isObj = (v: Json | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** user: the agent's config directory; project: the project's own settings; local: Claude Code's settings.local.json. */
export type Scope = "user" | "project" | "local";

/** A file or directory (a directory protects everything below it), relative to its base. */
export interface ProtectedFile {
  path: string;
  /** What it is, for the deny message ("Codex settings that hold downscope's hook"). */
  what: string;
}

export interface AgentFiles {
  /** The install target and `--agent` name: claude, cursor, gemini, codex, opencode, copilot, pi. */
  target: string;
  /** "Claude Code", "Codex CLI", … */
  agent: string;
  /**
   * The environment variable that moves the agent's user configuration, and
   * what it names: the directory itself (CODEX_HOME) or a home the default
   * directory hangs off (GEMINI_CLI_HOME/.gemini). undefined: the agent has
   * none (documented as such in docs/agents.md).
   */
  configVar?: { name: string; names: "dir" | "home" };
  /** The default user config directory, from the environment (HOME, XDG_CONFIG_HOME). */
  defaultDir(env: Env): string;
  /** The file `install --scope <scope>` writes, from the config directory (user) or the project. */
  settings: Partial<Record<Scope, string>>;
  /**
   * What must stay out of the agent's reach: the files holding downscope's
   * hook, and those that could switch it off or widen the agent's own
   * sandbox or approvals. `user` entries are relative to the config
   * directory, `project` ones to the project.
   */
  protect: { user: ProtectedFile[]; project: ProtectedFile[] };
}

export function homeOf(env: Env): string {
  return env.HOME ?? "";
}

/** The XDG config home (the spec says a relative value is invalid and ignored). */
export function xdgConfigHome(env: Env): string {
  const v = env.XDG_CONFIG_HOME;
  return v && isAbsolute(v) ? v : join(homeOf(env), ".config");
}

/** The directory the agent reads its user configuration from, honouring its variable when it is absolute. */
export function configDir(a: AgentFiles, env: Env): string {
  const v = a.configVar === undefined ? undefined : env[a.configVar.name];
  if (v === undefined || v === "" || !isAbsolute(v) || a.configVar === undefined) return a.defaultDir(env);
  if (a.configVar.names === "dir") return v;
  return a.defaultDir({ ...env, HOME: v });
}

/**
 * Every config directory to protect: the one the variable names (what this
 * agent uses now) and the default one (what a session started without the
 * variable uses).
 */
export function configDirs(a: AgentFiles, env: Env): string[] {
  const now = configDir(a, env);
  const usual = a.defaultDir(env);
  return now === usual ? [now] : [now, usual];
}

/** The settings file install writes for `scope`, or undefined when the agent has no such scope. */
export function settingsFile(a: AgentFiles, scope: Scope, io: { env: Env; cwd: string }): string | undefined {
  const rel = a.settings[scope];
  if (rel === undefined) return undefined;
  return scope === "user" ? join(configDir(a, io.env), rel) : join(io.cwd, rel);
}

/** What `install` writes into a file (src/cli/install-agent.ts reads and writes the file). */
export type Entries =
  | {
      /** A JSON settings file: add and remove downscope's entries in the parsed object. */
      format: "json";
      /** Adds downscope's entries (after removing any old ones); throws ConfigError naming `file` on a bad shape. */
      add(settings: Obj, ctx: EntryContext): void;
      /** Removes downscope's entries, pruning only containers it emptied; returns whether anything changed. */
      remove(settings: Obj): boolean;
    }
  | {
      /**
       * A TOML file whose comments and order must survive: downscope's entries
       * are one block of text between marker comments, appended at the end and
       * removed whole. `block` is given the parsed document (to number its
       * entries after the user's) and returns the TOML text.
       */
      format: "toml";
      block(doc: Obj, ctx: EntryContext): string;
    }
  | {
      /** A file that is downscope's alone (a plugin or extension module): written whole, removed whole. */
      format: "file";
      content(ctx: EntryContext): string;
    };

export interface EntryContext {
  /** The file being written (absolute). */
  file: string;
  /** The absolute path of downscope's bin/downscope.js. */
  bin: string;
  /** The node running downscope (absolute), for entries started without a shell PATH. */
  node: string;
  /** The policy names MCP services (Claude Code's matcher then covers mcp__.*). */
  mcp: boolean;
  /**
   * coreutils `timeout` (absolute), where found: agents that let a tool run
   * when their hook times out (Codex CLI, Gemini CLI, Copilot CLI) get the
   * hook started under it, so a hook that hangs is killed and its failure
   * blocks before the agent's own timeout lets the call through.
   */
  watchdog?: string;
  env: Env;
  /** Claude Code: the PreToolUse hooks instead of the process hook (`install claude --serve`: the decision service's http hook). */
  preToolUseHooks?: Obj[];
}

/**
 * The hook's command line for an agent that blocks on a non-zero exit with a
 * message (the agent's own terms are in each file): the watchdog first where
 * there is one, killing the hook `seconds` after it started, then the
 * fallback when anything failed.
 */
/** What a hook that could not run says when it blocks the call. */
export const HOOK_FAILED = "downscope: the hook could not run, so the tool call is blocked. Run `downscope doctor`.";

/** A shell command that prints one JSON answer (the fail-closed tail of a hook's command line). */
export const printJson = (v: unknown): string => `printf '%s\\n' ${quote(JSON.stringify(v))}`;

export function guardedCommand(
  hook: string,
  ctx: Pick<EntryContext, "watchdog">,
  seconds: number,
  onFailure: string,
): string {
  const start = ctx.watchdog === undefined ? hook : `${quote(ctx.watchdog)} -s KILL ${seconds} ${hook}`;
  return `${start} || { ${onFailure}; exit 2; }`;
}

export interface InstallSpec {
  files: AgentFiles;
  /** Scopes `install` offers (the first is the default). */
  scopes: readonly Scope[];
  /** Why a scope is not offered, for the usage message. */
  scopeNote?: string;
  entries: Entries;
  /** The events or extension points the entries use, for `install`'s summary line. */
  summary: string;
  /** Lines for the user after install (what the hook can and cannot do in this agent). */
  notes: string;
}

/** The marker downscope's text blocks and files start with; uninstall removes exactly what it marks. */
export const MARK = "downscope:";

/**
 * Every protected location of the agents in `agents`, absolute: the
 * project's first (a relative `.claude/settings.json` names the project's
 * file), then each config directory's (the one the agent's variable names,
 * and the default one).
 */
export function agentProtectedFiles(
  agents: readonly AgentFiles[],
  env: Env,
  project: string,
): { path: string; what: string }[] {
  const out: { path: string; what: string }[] = [];
  for (const a of agents) for (const f of a.protect.project) out.push({ path: join(project, f.path), what: f.what });
  for (const a of agents)
    for (const dir of configDirs(a, env))
      for (const f of a.protect.user) out.push({ path: join(dir, f.path), what: f.what });
  return out;
}
