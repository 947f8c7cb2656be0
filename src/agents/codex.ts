/**
 * Codex CLI (@openai/codex; hooks read in openai/codex codex-rs/hooks and run
 * for real as 0.171.0 in test/e2e/codex-cli.test.ts).
 *
 * Config directory: CODEX_HOME, else ~/.codex.
 *
 * Entries (config.toml, user scope only): a PreToolUse hook running
 * `downscope hook --agent codex` (src/hook/agents/codex.ts) on every tool
 * (the shell tool arrives as `Bash`, `apply_patch` with the patch text, MCP
 * tools as `mcp__<server>__<tool>`), and its trust record. Codex runs a
 * user hook only when `[hooks.state."<file>:pre_tool_use:<group>:<handler>"]`
 * holds `trusted_hash` = the sha256 of the hook's normalised identity
 * (codex-rs/hooks/src/engine/discovery.rs command_hook_hash, over
 * codex-rs/config fingerprint.rs version_for_toml: canonical JSON, keys
 * sorted); an untrusted hook is skipped without a word in `codex exec`. So
 * install writes the record that `/hooks` in Codex's TUI would, for exactly
 * the entry it adds, and `doctor` checks it still matches.
 *
 * The TOML is edited as text so that the user's comments and order survive:
 * downscope's entries are one block between marker comments at the end of
 * the file, and uninstall removes that block (src/cli/install-agent.ts).
 *
 * Fail closed in Codex's terms (0.171.0, run for real): a PreToolUse hook
 * blocks with `permissionDecision: "deny"` (exit 0) or with exit 2 and a
 * reason on stderr; exit 1, exit 2 without stderr, invalid JSON and a
 * timeout all let the tool run, and Codex has no setting that changes that.
 * So the hook answers deny on every error path, its deadline (4 s) fires
 * first, the watchdog kills a hung hook at 8 s (below the 10 s timeout
 * written here) and the command line turns any failure into exit 2 with a
 * reason on stderr.
 *
 * Only the user scope: the trust record can live only in the user's
 * config.toml (Codex ignores hook state in project layers), and a project's
 * .codex/ is a directory the agent can edit.
 */
import { join } from "node:path";
import { quote } from "../shell/quote.js";
import {
  guardedCommand,
  HOOK_FAILED,
  homeOf,
  isObj,
  type AgentFiles,
  type EntryContext,
  type InstallSpec,
  type Obj,
} from "./spec.js";

/** Seconds Codex waits for the hook (its default is 600). */
export const CODEX_TIMEOUT_S = 10;
/** Every tool: an unknown one is answered "no opinion" by the adapter; a missed one would be unchecked. */
export const CODEX_MATCHER = ".*";

const CONFIG = "Codex CLI settings that hold downscope's hook";

export const CODEX: AgentFiles = {
  target: "codex",
  agent: "Codex CLI",
  configVar: { name: "CODEX_HOME", names: "dir" },
  defaultDir: (env) => join(homeOf(env), ".codex"),
  settings: { user: "config.toml" },
  protect: {
    user: [
      // Hooks, their trust and enablement (hooks.state), features.hooks, sandbox and approval policy.
      { path: "config.toml", what: CONFIG },
      { path: "hooks.json", what: "Codex CLI's hooks" },
      // execpolicy rules: a `prefix_rule(…, decision="allow")` runs commands without asking.
      { path: "rules", what: "Codex CLI's command rules (execpolicy)" },
      // Profiles layered over config.toml (`-p NAME` reads $CODEX_HOME/NAME.config.toml).
      { path: "profiles", what: "Codex CLI's profiles" },
    ],
    project: [
      { path: ".codex/config.toml", what: "Codex CLI's project settings" },
      { path: ".codex/hooks.json", what: "Codex CLI's project hooks" },
      { path: ".codex/rules", what: "Codex CLI's command rules (execpolicy)" },
    ],
  },
};

export function codexHookCommand(ctx: Pick<EntryContext, "bin" | "watchdog">): string {
  return guardedCommand(
    `${quote(ctx.bin)} hook --agent codex`,
    ctx,
    CODEX_TIMEOUT_S - 2,
    `echo ${quote(HOOK_FAILED)} >&2`,
  );
}

/** The key Codex files a hook's state under (codex-rs/hooks hook_key): `<source>:<event>:<group>:<handler>`. */
export function codexHookKey(file: string, group: number): string {
  return `${file}:pre_tool_use:${group}:0`;
}

/** The normalised identity Codex hashes for a command hook's trust (keys sorted when serialised). */
export function codexHookIdentity(command: string): Obj {
  return {
    event_name: "pre_tool_use",
    matcher: CODEX_MATCHER,
    hooks: [{ type: "command", command, timeout: CODEX_TIMEOUT_S, async: false }],
  };
}

/** Canonical JSON as Codex's fingerprint serialises it: keys sorted at every level, no spaces. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The PreToolUse groups already in the file: downscope's comes after them (its index is in the trust key). */
export function codexGroupsBefore(doc: Obj): number {
  const hooks = doc.hooks;
  return isObj(hooks) && Array.isArray(hooks.PreToolUse) ? hooks.PreToolUse.length : 0;
}

/** TOML basic string. */
function str(s: string): string {
  return JSON.stringify(s);
}

/** The trust record's value: `sha256:<hex>` of the canonical identity (codex-rs/config fingerprint.rs). */
export function codexTrustedHash(command: string): string {
  // node:crypto loaded here, not at the top: the hook's bundles read this file's locations only.
  const { createHash } = process.getBuiltinModule("node:crypto");
  return `sha256:${createHash("sha256")
    .update(canonicalJson(codexHookIdentity(command)))
    .digest("hex")}`;
}

export function codexBlock(doc: Obj, ctx: EntryContext): string {
  const command = codexHookCommand(ctx);
  const key = codexHookKey(ctx.file, codexGroupsBefore(doc));
  return [
    "[[hooks.PreToolUse]]",
    `matcher = ${str(CODEX_MATCHER)}`,
    "",
    "[[hooks.PreToolUse.hooks]]",
    'type = "command"',
    `command = ${str(command)}`,
    `timeout = ${CODEX_TIMEOUT_S}`,
    "",
    `[hooks.state.${str(key)}]`,
    `trusted_hash = ${str(codexTrustedHash(command))}`,
  ].join("\n");
}

export const CODEX_INSTALL: InstallSpec = {
  files: CODEX,
  scopes: ["user"],
  scopeNote:
    "Codex CLI keeps a hook's trust only in the user's config.toml, and a project's .codex/ is the agent's to edit",
  summary: "Codex CLI PreToolUse hook (and its trust record) in config.toml",
  entries: { format: "toml", block: codexBlock },
  notes:
    "  Codex CLI runs service commands rewritten to downscope-exec. It cannot ask from a hook (it runs the call), so a\n" +
    "  review is denied with a message to ask you; a call nested in a string (bash -c '…') is denied unless the shims are\n" +
    '  first on PATH in the shell Codex starts from (eval "$(downscope env)"). See docs/agents.md.\n',
};
