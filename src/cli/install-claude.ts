/**
 * `downscope install claude [--scope user|project|local] [--dry-run]` and
 * `downscope uninstall claude …`: merge downscope's hooks into Claude Code's
 * settings (https://docs.claude.com/en/docs/claude-code/settings,
 * https://docs.claude.com/en/docs/claude-code/hooks):
 *   - PreToolUse, matcher `Bash` and the file-writing tools (Write, Edit,
 *     MultiEdit, NotebookEdit: writes to downscope's own files and to these
 *     settings are denied), plus `mcp__.*` when the policy has MCP services →
 *     `downscope hook`, with a timeout above the hook's own deadline;
 *   - SessionStart → `downscope session-start` (puts the shims first on PATH
 *     through CLAUDE_ENV_FILE).
 * Idempotent; keeps every other key and hook; backs the file up; shows a diff
 * on --dry-run. It also writes the shims and pins the real binaries
 * (`downscope shims install`); uninstall leaves those, other entry points share them. Uninstall removes exactly what install added: if the file is
 * unchanged since install, the backup's bytes come back.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { containSettings, type ContainSettings } from "../contain/settings.js";
import { containedState, removeContainedState, writeContainedState } from "../contain/state.js";
import { expandHome, inside } from "../paths.js";
import { ConfigError, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { loadPolicy } from "../policy/index.js";
import { quote } from "../shell/quote.js";
import { formatShimsReport } from "../exec/shims.js";
import {
  backupOf,
  diff,
  format,
  parseObject,
  readSettings,
  writeAtomic,
  type Json,
  type Obj,
} from "./agent-settings.js";
import type { Command, Io } from "./io.js";
import { ensureShims } from "./shims.js";

/** The PreToolUse matcher: Bash, the file-writing tools, and MCP tools when the policy has MCP services. */
export const HOOK_MATCHER = "Bash|Write|Edit|MultiEdit|NotebookEdit";
export const HOOK_MATCHER_MCP = `${HOOK_MATCHER}|mcp__.*`;

/** Seconds Claude Code waits for the hook; the hook's own deadline (4 s by default) fires first. */
export const HOOK_TIMEOUT_SECONDS = 10;

type Scope = "user" | "project" | "local";

interface Options {
  scope: Scope;
  dryRun: boolean;
  contain: boolean;
}

function parseOptions(argv: string[], kind: "install" | "uninstall"): Options {
  let scope: Scope = "user";
  let dryRun = false;
  let contain = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--dry-run") dryRun = true;
    else if (a === "--contain" && kind === "install") contain = true;
    else if (a === "--scope" || a.startsWith("--scope=")) {
      const v = a === "--scope" ? argv[++i] : a.slice(8);
      if (v !== "user" && v !== "project" && v !== "local")
        throw new UsageError(`--scope must be user, project or local (got ${JSON.stringify(v ?? "")})`);
      scope = v;
    } else
      throw new UsageError(
        `usage: downscope ${kind} claude [--scope user|project|local]${kind === "install" ? " [--contain]" : ""} [--dry-run]`,
      );
  }
  if (contain && scope !== "user")
    throw new UsageError(
      "--contain writes the sandbox settings into your user settings (--scope user): a project's own settings could loosen them",
    );
  return { scope, dryRun, contain };
}

export function settingsPath(scope: Scope, io: Pick<Io, "env" | "cwd">): string {
  if (scope === "user") return join(io.env.HOME ?? "", ".claude", "settings.json");
  return join(io.cwd, ".claude", scope === "project" ? "settings.json" : "settings.local.json");
}

/** The exact commands install writes (absolute, shell-quoted; exit 2 blocks the tool if node itself fails). */
export function hookCommands(): { hook: string; sessionStart: string; postToolUse: string } {
  const bin = quote(join(packageRoot(), "bin", "downscope.js"));
  return {
    hook: `${bin} hook || exit 2`,
    sessionStart: `${bin} session-start`,
    postToolUse: `${bin} post-tool-use || exit 2`,
  };
}

const isOurs = (h: Json): boolean =>
  typeof h === "object" &&
  h !== null &&
  !Array.isArray(h) &&
  typeof h.command === "string" &&
  /downscope(\.js)?'?\s+(hook|session-start|post-tool-use)\b/.test(h.command);

/** Removes downscope's hooks; prunes only containers it emptied. Returns whether anything changed. */
export function removeOurs(settings: Obj): boolean {
  const hooks = settings.hooks;
  if (typeof hooks !== "object" || hooks === null || Array.isArray(hooks)) return false;
  let changed = false;
  for (const event of Object.keys(hooks)) {
    const groups = hooks[event];
    if (!Array.isArray(groups)) continue;
    const kept: Json[] = [];
    let emptiedHere = false;
    for (const g of groups) {
      if (typeof g === "object" && g !== null && !Array.isArray(g) && Array.isArray(g.hooks) && g.hooks.some(isOurs)) {
        const rest = g.hooks.filter((h) => !isOurs(h));
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

export function addOurs(settings: Obj, opts: { mcp: boolean; contain?: ContainSettings }): void {
  removeOurs(settings);
  if (opts.contain) addContainment(settings, opts.contain);
  const cmds = hookCommands();
  const hooks: Obj =
    typeof settings.hooks === "object" && settings.hooks !== null && !Array.isArray(settings.hooks)
      ? settings.hooks
      : (settings.hooks = {});
  const pre = Array.isArray(hooks.PreToolUse) ? hooks.PreToolUse : (hooks.PreToolUse = []);
  pre.push({
    matcher: opts.mcp ? HOOK_MATCHER_MCP : HOOK_MATCHER,
    hooks: [{ type: "command", command: cmds.hook, timeout: HOOK_TIMEOUT_SECONDS }],
  });
  const start = Array.isArray(hooks.SessionStart) ? hooks.SessionStart : (hooks.SessionStart = []);
  start.push({ hooks: [{ type: "command", command: cmds.sessionStart, timeout: HOOK_TIMEOUT_SECONDS }] });
  addPostToolUse(hooks, cmds.postToolUse);
}

/**
 * After every tool call, the masking hook (src/cli/post-tool-use.ts, docs/masking.md). PostToolUse
 * replaces the output the model sees; PostToolUseFailure cannot (Claude Code 2.1.328), so there it
 * records what the failed call returned. `onFailure: "block"` changes nothing for these events in
 * 2.1.328 (a failing hook leaves the output as it was): the hook itself answers every error.
 */
function addPostToolUse(hooks: Obj, command: string): void {
  for (const event of ["PostToolUse", "PostToolUseFailure"]) {
    const list = Array.isArray(hooks[event]) ? hooks[event] : (hooks[event] = []);
    list.push({
      matcher: POST_TOOL_MATCHER,
      hooks: [{ type: "command", command, timeout: HOOK_TIMEOUT_SECONDS, onFailure: "block" }],
    });
  }
}

/** Every tool: any tool's output can carry a secret (Bash, Read, Grep, WebFetch, Edit's snippet, MCP results). */
export const POST_TOOL_MATCHER = "*";

/** The sandbox settings and permission rules of contained mode (src/contain/settings.ts). */
function addContainment(settings: Obj, c: ContainSettings): void {
  settings.sandbox = c.sandbox;
  const perms: Obj =
    typeof settings.permissions === "object" && settings.permissions !== null && !Array.isArray(settings.permissions)
      ? settings.permissions
      : (settings.permissions = {});
  const deny = Array.isArray(perms.deny) ? perms.deny : (perms.deny = []);
  for (const r of c.denyRules) if (!deny.includes(r)) deny.push(r);
}

/** Removes what addContainment added: the sandbox key and the recorded deny rules (pruning what it emptied). */
function removeContainment(settings: Obj, rules: readonly string[]): void {
  delete settings.sandbox;
  const perms = settings.permissions;
  if (typeof perms !== "object" || perms === null || Array.isArray(perms) || !Array.isArray(perms.deny)) return;
  perms.deny = perms.deny.filter((r) => !(typeof r === "string" && rules.includes(r)));
  if (perms.deny.length === 0) delete perms.deny;
  if (Object.keys(perms).length === 0) delete settings.permissions;
}

/** Absolute paths Claude Code's excludedCommands can match without quoting. */
const UNQUOTED = /^\/[A-Za-z0-9_\-./+@]+$/;

async function containmentFor(io: Io, file: string, existing: Obj): Promise<ContainSettings> {
  if (existing.sandbox !== undefined && !existingIsOurs(io, file))
    throw new ConfigError([
      {
        file,
        path: "sandbox",
        message:
          "already has sandbox settings; contained mode writes its own. Move yours aside (or merge them by hand after reading docs/security-model.md), then run install --contain again",
      },
    ]);
  const node = process.execPath;
  const script = join(packageRoot(), "bin", "downscope-exec.js");
  for (const p of [node, script])
    if (!UNQUOTED.test(p))
      throw new ConfigError([
        {
          file: p,
          path: "",
          message:
            "contained mode needs downscope-exec and node at absolute paths of plain characters (Claude Code matches its excludedCommands on the command as written); install downscope where its path needs no quoting",
        },
      ]);
  if (
    // Where a sandboxed command can write: the project, and Claude Code's TMPDIR (/tmp/claude-<uid>).
    /^\/tmp\/claude-/.test(script) ||
    inside(resolve(io.cwd), dirname(dirname(script))) ||
    inside(script, resolve(io.cwd))
  )
    throw new ConfigError([
      {
        file: script,
        path: "",
        message:
          "downscope is installed where a sandboxed agent can write it (a temp directory or this project); in contained mode its code runs outside the sandbox, so install it globally (npm install -g downscope)",
      },
    ]);
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  const slotFiles: string[] = [];
  const slotVars: string[] = [];
  for (const layer of policy.layers)
    for (const svc of Object.values(layer.config.services)) {
      for (const slot of Object.values(svc.token_slots ?? {})) {
        if (slot.file !== undefined) slotFiles.push(resolve(expandHome(slot.file, io.env)));
        if (slot.env_var !== undefined) slotVars.push(slot.env_var);
      }
      // A GitHub App's private key is read by downscope-exec only, outside the sandbox.
      if (svc.private_key?.file !== undefined) slotFiles.push(resolve(expandHome(svc.private_key.file, io.env)));
    }
  return containSettings({ env: io.env, exec: `${node} ${script}`, slotFiles, slotVars });
}

function existingIsOurs(io: Io, file: string): boolean {
  return containedState(io.env)?.settingsFile === file;
}

async function policyHasMcp(io: Io): Promise<boolean> {
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  return policy.layers.some((l) => Object.values(l.config.services).some((s) => s.server !== undefined));
}

export const install: Command = async (argv, io) => {
  const opts = parseOptions(argv, "install");
  const file = settingsPath(opts.scope, io);
  const { text, obj } = readSettings(file);
  const previous = containedState(io.env);
  if (!opts.contain && previous?.settingsFile === file) removeContainment(obj, previous.denyRules);
  const contain = opts.contain ? await containmentFor(io, file, obj) : undefined;
  if (contain && previous?.settingsFile === file) removeContainment(obj, previous.denyRules);
  addOurs(obj, { mcp: await policyHasMcp(io), ...(contain ? { contain } : {}) });
  const next = format(obj, text);
  if (opts.dryRun) {
    io.stdout(diff(text ?? "", next, file));
    return 0;
  }
  if (next === text) {
    io.stderr(`downscope: already installed in ${file}\n`);
    return 0;
  }
  mkdirSync(dirname(file), { recursive: true });
  // The backup is of the file as it was before downscope: a re-install keeps the first one.
  const hadOurs = text !== undefined && removeOurs(readSettingsText(text) ?? {});
  if (text !== undefined && !(hadOurs && existsSync(backupOf(file)))) writeFileSync(backupOf(file), text);
  else if (text === undefined) rmSync(backupOf(file), { force: true });
  writeAtomic(file, next);
  if (contain) {
    for (const d of contain.preCreate) mkdirSync(d, { recursive: true, mode: 0o700 });
    writeContainedState(io.env, {
      version: 1,
      settingsFile: file,
      exec: (contain.sandbox.excludedCommands as string[])[0]!.replace(/ \*$/, ""),
      denyRules: contain.denyRules,
    });
    io.stderr(
      `downscope: contained mode: Bash runs in Claude Code's sandbox; only \`${file}\`'s excluded downscope-exec call leaves it.\n` +
        "  Needs bubblewrap and socat on Linux (apt install bubblewrap socat); Claude Code refuses to start without them.\n",
    );
  } else if (previous?.settingsFile === file) removeContainedState(io.env);
  io.stderr(
    `downscope: installed the Claude Code hooks in ${file}${text !== undefined ? ` (backup: ${backupOf(file)})` : ""}\n`,
  );
  // Write the shims and pin the real binaries now, from the user's own shell,
  // rather than first in a session the agent already runs in.
  io.stderr(formatShimsReport(await ensureShims(io)));
  return 0;
};

export const uninstall: Command = async (argv, io) => {
  const opts = parseOptions(argv, "uninstall");
  const file = settingsPath(opts.scope, io);
  const { text, obj } = readSettings(file);
  const contained = containedState(io.env);
  const wasContained = contained?.settingsFile === file;
  if (wasContained) removeContainment(obj, contained.denyRules);
  if (text === undefined || (!removeOurs(obj) && !wasContained)) {
    io.stderr(`downscope: nothing to remove in ${file}\n`);
    return 0;
  }
  // Unchanged since install: give back the exact bytes that were there before.
  const backup = existsSync(backupOf(file)) ? readFileSync(backupOf(file), "utf8") : undefined;
  let next: string | undefined = format(obj, text);
  if (backup !== undefined) {
    const reinstalled = readSettingsText(backup);
    if (reinstalled !== undefined) {
      const current = readSettingsText(text) ?? {};
      if (wasContained)
        addContainment(reinstalled, { sandbox: current.sandbox as Obj, denyRules: contained.denyRules, preCreate: [] });
      addOurs(reinstalled, { mcp: text.includes("mcp__.*") });
      if (format(reinstalled, backup) === text) next = backup;
    }
  } else if (Object.keys(obj).length === 0) next = undefined; // install created the file
  if (opts.dryRun) {
    io.stdout(diff(text, next ?? "", file));
    return 0;
  }
  if (next === undefined) rmSync(file);
  else writeAtomic(file, next);
  rmSync(backupOf(file), { force: true });
  if (wasContained) {
    removeContainedState(io.env);
    io.stderr("downscope: contained mode is off: the sandbox settings and permission rules it added are removed\n");
  }
  io.stderr(`downscope: removed the Claude Code hooks from ${file}\n`);
  return 0;
};

function readSettingsText(text: string): Obj | undefined {
  const o = parseObject(text);
  return o instanceof Error ? undefined : o;
}
