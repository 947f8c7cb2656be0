/**
 * `downscope install <agent>` / `uninstall <agent>`: the one driver for every
 * agent in src/agents/ (Claude Code, Cursor, Gemini CLI, Codex CLI, OpenCode,
 * Copilot CLI, pi). Each agent's file says where its settings are, in which
 * format, and which entries downscope adds; this file does the rest, the same
 * way for all:
 *
 *   read → parse (a clear message with the file, line and column on bad
 *   input; the file untouched) → add the entries (after removing old ones:
 *   idempotent) → format like the original → --dry-run: the diff, nothing
 *   written → back up the original beside it (`<file>.downscope-backup`, the
 *   bytes from before downscope; a re-install keeps the first) → write
 *   atomically (a temporary file renamed over it).
 *
 *   uninstall: remove exactly what install added; when the file has not
 *   changed since install, the backup's bytes come back (a byte-identical
 *   round trip); a file install created goes away.
 *
 * Formats (src/agents/spec.ts Entries):
 *   - json: parsed and written back with the original's indentation;
 *   - toml: edited as text, so comments and order survive — downscope's
 *     entries are one block between marker comments at the end, parsed with
 *     smol-toml before and after to refuse a file it would break;
 *   - file: a module of downscope's own (a plugin), written and removed whole;
 *     a file of that name downscope did not write is never replaced.
 *
 * Every install also writes the shims and pins the real binaries (`downscope
 * shims install`); uninstall leaves those, other entry points share them.
 * The confirmation by a person at the terminal happens before this runs
 * (src/cli/install.ts). Claude Code's contained mode plugs in through
 * src/cli/install-contain.ts.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { AGENTS, INSTALLS } from "../agents/index.js";
import {
  isObj,
  MARK,
  settingsFile,
  type EntryContext,
  type InstallSpec,
  type Obj,
  type Scope,
} from "../agents/spec.js";
import { ConfigError, UsageError } from "../errors.js";
import { formatShimsReport } from "../exec/shims.js";
import { packageRoot } from "../package-root.js";
import { SHIMS_MARKER } from "../paths.js";
import type { Command, Io } from "../io.js";
import { ensureShims } from "./shims.js";
import { lineDiff } from "./unified-diff.js";

/**
 * What an agent adds to the driver beyond its entries (Claude Code's
 * `--contain`): extra flags, and steps around the write.
 */
export interface InstallExtension {
  /** Install-only flags, e.g. `--contain`. */
  flags: readonly string[];
  /** Checks the flags against the scope (a UsageError). */
  checkFlags?(flags: ReadonlySet<string>, scope: Scope): void;
  /**
   * Before the entries are added to the parsed settings: may change them and
   * the entry context (`ctx`); the result goes to afterInstall.
   */
  beforeAdd?(c: {
    io: Io;
    file: string;
    obj: Obj;
    flags: ReadonlySet<string>;
    ctx: EntryContext;
    dryRun: boolean;
  }): Promise<unknown>;
  afterInstall?(c: { io: Io; file: string; prepared: unknown; before: string | undefined }): Promise<void> | void;
  /** What a diff shown on the terminal must not show (a key written into the settings). */
  maskDiff?(text: string, io: Io): string;
  /**
   * Uninstall: removes the extension's own additions from the parsed
   * settings, and says how to put them back on a copy (to tell whether the
   * file is unchanged since install), with the entry context install had.
   */
  beforeRemove?(c: { io: Io; file: string; obj: Obj; current: Obj; text: string }): {
    changed: boolean;
    reapply(o: Obj): void;
    ctx?: Partial<EntryContext>;
  };
  afterUninstall?(c: { io: Io; file: string; changed: boolean; before: string }): Promise<void> | void;
}

interface Options {
  scope: Scope;
  dryRun: boolean;
  flags: Set<string>;
}

function parseOptions(
  argv: readonly string[],
  kind: "install" | "uninstall",
  spec: InstallSpec,
  ext: InstallExtension | undefined,
): Options {
  const scopes = spec.scopes;
  const flags = kind === "install" ? (ext?.flags ?? []) : [];
  const usage = () =>
    new UsageError(
      `usage: downscope ${kind} ${spec.files.target}${scopes.length > 1 ? ` [--scope ${scopes.join("|")}]` : ""}${flags.map((f) => ` [${f}]`).join("")} [--dry-run]` +
        (spec.scopeNote ? `\n  (user scope only: ${spec.scopeNote})` : ""),
    );
  let scope: Scope = scopes[0]!;
  let dryRun = false;
  const on = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--dry-run") dryRun = true;
    else if (flags.includes(a)) on.add(a);
    else if (a === "--scope" || a.startsWith("--scope=")) {
      const v = a === "--scope" ? argv[++i] : a.slice(8);
      if (!scopes.includes(v as Scope))
        throw new UsageError(
          scopes.length === 1
            ? `${spec.files.agent} installs in the user scope only (${spec.scopeNote ?? "its settings live there"}); got --scope ${JSON.stringify(v ?? "")}`
            : `--scope must be ${scopes.slice(0, -1).join(", ")} or ${scopes.at(-1)} (got ${JSON.stringify(v ?? "")})`,
        );
      scope = v as Scope;
    } else throw usage();
  }
  ext?.checkFlags?.(on, scope);
  return { scope, dryRun, flags: on };
}

export const backupOf = (file: string) => `${file}.downscope-backup`;

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

export function diff(before: string, after: string, file: string): string {
  if (before === after) return `(no change to ${file})\n`;
  return lineDiff(before, after, file, `${file} (after)`);
}

function readText(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

// ---------------------------------------------------------------------------------------------- JSON

export function parseJsonObject(text: string): Obj | Error {
  let o: unknown;
  try {
    o = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    return new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return new Error("expected a JSON object");
  return o as Obj;
}

function readJson(file: string, text: string | undefined): Obj {
  if (text === undefined) return {};
  const obj = parseJsonObject(text);
  if (obj instanceof Error)
    throw new ConfigError([{ file, path: "", message: `${obj.message}; fix it before installing` }]);
  return obj;
}

/** Serialises like the original: same indentation and trailing newline. */
export function formatJson(obj: Obj, original: string | undefined): string {
  const indent = original === undefined ? "  " : (/^([ \t]+)"/m.exec(original)?.[1] ?? "  ");
  const nl = original === undefined || original.endsWith("\n") ? "\n" : "";
  return JSON.stringify(obj, null, indent) + nl;
}

// ---------------------------------------------------------------------------------------------- TOML

const TOML_BEGIN = `# ${MARK} begin (added by \`downscope install\`; \`downscope uninstall\` removes this block)`;
const TOML_END = `# ${MARK} end`;

async function parseToml(file: string, text: string, what: string): Promise<Obj> {
  const { parse, TomlError } = await import("smol-toml");
  try {
    return parse(text) as Obj;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const first = e.message.split("\n")[0] ?? e.message;
    throw new ConfigError([{ file, line: e.line, column: e.column, path: "", message: `${first}; ${what}` }]);
  }
}

/** The text with downscope's block cut out (and the separator install put before it), or undefined when there is none. */
export function withoutTomlBlock(text: string): string | undefined {
  const begin = text.indexOf(`${TOML_BEGIN}\n`);
  if (begin === -1) return undefined;
  const endAt = text.indexOf(`${TOML_END}\n`, begin);
  if (endAt === -1) return undefined;
  let start = begin;
  // The blank line install put before the block.
  if (start >= 1 && text[start - 1] === "\n") start -= 1;
  return text.slice(0, start) + text.slice(endAt + TOML_END.length + 1);
}

/** The block's own text (between the markers), or undefined. */
export function tomlBlockOf(text: string): string | undefined {
  const begin = text.indexOf(`${TOML_BEGIN}\n`);
  if (begin === -1) return undefined;
  const end = text.indexOf(`\n${TOML_END}\n`, begin);
  return end === -1 ? undefined : text.slice(begin + TOML_BEGIN.length + 1, end);
}

export function withTomlBlock(text: string | undefined, block: string): string {
  const base = text ?? "";
  const sep = base === "" ? "" : base.endsWith("\n") ? "\n" : "\n\n";
  return `${base}${sep}${TOML_BEGIN}\n${block}\n${TOML_END}\n`;
}

// ---------------------------------------------------------------------------------------------- the driver

/** coreutils `timeout` on PATH (shims directories skipped), for the hook's watchdog. */
export function findWatchdog(env: Io["env"]): string | undefined {
  const dirs = (env.PATH ?? "").split(delimiter).filter((d) => d !== "" && isAbsolute(d));
  for (const d of ["/usr/bin", "/bin", ...dirs]) {
    if (existsSync(join(d, SHIMS_MARKER))) continue;
    for (const name of ["timeout", "gtimeout"]) {
      try {
        accessSync(join(d, name), constants.X_OK);
        return join(d, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function entryContext(io: Pick<Io, "env">, file: string, mcp: boolean): EntryContext {
  return {
    file,
    bin: join(packageRoot(), "bin", "downscope.js"),
    node: process.execPath,
    mcp,
    watchdog: findWatchdog(io.env),
    env: io.env,
  };
}

interface Plan {
  file: string;
  before: string | undefined;
  /** undefined: the file is to be removed. */
  after: string | undefined;
}

async function planInstall(spec: InstallSpec, io: Io, file: string, ctx: EntryContext, ext: ExtStep): Promise<Plan> {
  const before = readText(file);
  const e = spec.entries;
  switch (e.format) {
    case "json": {
      const obj = readJson(file, before);
      await ext.beforeAdd(obj);
      e.add(obj, ctx);
      return { file, before, after: formatJson(obj, before) };
    }
    case "toml": {
      const base = before === undefined ? undefined : (withoutTomlBlock(before) ?? before);
      const doc = await parseToml(file, base ?? "", "fix it before installing");
      const after = withTomlBlock(base, e.block(doc, ctx));
      await parseToml(
        file,
        after,
        "downscope's entries cannot be appended to this file as it is written (are `hooks` or `hooks.PreToolUse` defined inline?); move them into [[hooks.PreToolUse]] tables, or add the hook by hand (docs/agents.md)",
      );
      return { file, before, after };
    }
    case "file": {
      if (before !== undefined && !before.includes(MARK))
        throw new ConfigError([
          {
            file,
            path: "",
            message: `exists and was not written by downscope; move it aside, then run \`downscope install ${spec.files.target}\` again`,
          },
        ]);
      return { file, before, after: e.content(ctx) };
    }
  }
}

async function planUninstall(spec: InstallSpec, io: Io, file: string, ext: ExtRemoveStep): Promise<Plan | undefined> {
  const before = readText(file);
  if (before === undefined) return undefined;
  const backup = readText(backupOf(file));
  const e = spec.entries;
  switch (e.format) {
    case "json": {
      const obj = readJson(file, before);
      const current = readJson(file, before);
      const extra = ext.beforeRemove(obj, current, before);
      if (!e.remove(obj) && !extra.changed) return undefined;
      let after: string | undefined = formatJson(obj, before);
      if (backup !== undefined) {
        // Unchanged since install: the bytes from before downscope come back.
        const reinstalled = parseJsonObject(backup);
        if (!(reinstalled instanceof Error)) {
          extra.reapply(reinstalled);
          e.add(reinstalled, { ...entryContext(io, file, before.includes("mcp__.*")), ...extra.ctx });
          if (formatJson(reinstalled, backup) === before) after = backup;
        }
      } else if (Object.keys(obj).length === 0) after = undefined; // install created the file
      return { file, before, after };
    }
    case "toml": {
      const without = withoutTomlBlock(before);
      const block = tomlBlockOf(before);
      if (without === undefined || block === undefined) return undefined;
      let after: string | undefined = without;
      // Unchanged since install: the bytes from before downscope come back.
      if (backup !== undefined && withTomlBlock(backup, block) === before) after = backup;
      else if (backup === undefined && without === "") after = undefined; // install created the file
      return { file, before, after };
    }
    case "file":
      if (!before.startsWith(`// ${MARK}`)) return undefined;
      return { file, before, after: backup };
  }
}

interface ExtStep {
  beforeAdd(obj: Obj): Promise<void>;
}
interface ExtRemoveStep {
  beforeRemove(
    obj: Obj,
    current: Obj,
    text: string,
  ): { changed: boolean; reapply(o: Obj): void; ctx?: Partial<EntryContext> };
}

export function installFor(spec: InstallSpec, ext?: InstallExtension): Command {
  return async (argv, io) => {
    const opts = parseOptions(argv, "install", spec, ext);
    const file = settingsFile(spec.files, opts.scope, io)!;
    let prepared: unknown;
    const ctx = entryContext(io, file, spec.files.target === "claude" ? await policyHasMcp(io) : false);
    const plan = await planInstall(spec, io, file, ctx, {
      beforeAdd: async (obj) => {
        prepared = await ext?.beforeAdd?.({ io, file, obj, flags: opts.flags, ctx, dryRun: opts.dryRun });
      },
    });
    if (opts.dryRun) {
      const text = diff(plan.before ?? "", plan.after ?? "", file);
      io.stdout(ext?.maskDiff ? ext.maskDiff(text, io) : text);
      return 0;
    }
    if (plan.after === plan.before) {
      io.stderr(`downscope: already installed in ${file}\n`);
      await ext?.afterInstall?.({ io, file, prepared, before: plan.before });
      return 0;
    }
    mkdirSync(dirname(file), { recursive: true });
    // The backup is of the file as it was before downscope: a re-install keeps the first one, and a
    // file that already holds downscope's entries is never taken for the original.
    if (plan.before === undefined) rmSync(backupOf(file), { force: true });
    else if (!hasOurs(spec, plan.before)) writeFileSync(backupOf(file), plan.before);
    writeAtomic(file, plan.after!);
    await ext?.afterInstall?.({ io, file, prepared, before: plan.before });
    io.stderr(
      `downscope: installed the ${spec.files.agent} hooks in ${file}${plan.before !== undefined ? ` (backup: ${backupOf(file)})` : ""}\n${spec.notes}`,
    );
    // Write the shims and pin the real binaries now, from the user's own shell,
    // rather than first in a session the agent already runs in.
    io.stderr(formatShimsReport(await ensureShims(io)));
    return 0;
  };
}

export function uninstallFor(spec: InstallSpec, ext?: InstallExtension): Command {
  return async (argv, io) => {
    const opts = parseOptions(argv, "uninstall", spec, ext);
    const file = settingsFile(spec.files, opts.scope, io)!;
    let extChanged = false;
    const plan = await planUninstall(spec, io, file, {
      beforeRemove: (obj, current, text) => {
        const r = ext?.beforeRemove?.({ io, file, obj, current, text }) ?? { changed: false, reapply: () => {} };
        extChanged = r.changed;
        return r;
      },
    });
    if (plan === undefined) {
      io.stderr(`downscope: nothing to remove in ${file}\n`);
      return 0;
    }
    if (opts.dryRun) {
      const text = diff(plan.before ?? "", plan.after ?? "", file);
      io.stdout(ext?.maskDiff ? ext.maskDiff(text, io) : text);
      return 0;
    }
    if (plan.after === undefined) rmSync(file);
    else writeAtomic(file, plan.after);
    rmSync(backupOf(file), { force: true });
    await ext?.afterUninstall?.({ io, file, changed: extChanged, before: plan.before ?? "" });
    io.stderr(`downscope: removed the ${spec.files.agent} hooks from ${file}\n`);
    return 0;
  };
}

/** Whether the text already holds downscope's entries (then its backup is the pre-downscope one). */
function hasOurs(spec: InstallSpec, text: string): boolean {
  const e = spec.entries;
  if (e.format === "toml") return withoutTomlBlock(text) !== undefined;
  if (e.format === "file") return text.startsWith(`// ${MARK}`);
  const obj = parseJsonObject(text);
  return !(obj instanceof Error) && e.remove(obj);
}

async function policyHasMcp(io: Io): Promise<boolean> {
  const { loadPolicy } = await import("../policy/index.js");
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  return policy.layers.some((l) => Object.values(l.config.services).some((s) => s.server !== undefined));
}

/** The agent named by an install target, or undefined. */
export function installSpecOf(target: string): InstallSpec | undefined {
  return INSTALLS.find((s) => s.files.target === target);
}

export { AGENTS, isObj };
export type { Json } from "../agents/spec.js";
