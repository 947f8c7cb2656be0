/**
 * Install and uninstall of downscope's hook entries in another agent's JSON
 * settings file (Cursor's hooks.json, Gemini CLI's settings.json), with the
 * same contract as `install claude` (src/cli/install-claude.ts): idempotent;
 * every other key and hook kept; the original backed up beside the file;
 * --dry-run shows a diff; uninstall removes exactly what install added and,
 * when the file is unchanged since install, gives back the original bytes.
 *
 * Each agent module supplies where the file is and how to add and remove its
 * entries (pure functions over the parsed JSON). The file helpers (read,
 * format like the original, back up, write atomically, diff) are shared with
 * install-claude.ts.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { formatShimsReport } from "../exec/shims.js";
import type { Command, Io } from "../io.js";
import { ensureShims } from "./shims.js";
import { lineDiff } from "./unified-diff.js";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };
export type Scope = "user" | "project";

export interface AgentSettings {
  /** "Cursor", "Gemini CLI". */
  agent: string;
  /** The install target's name: cursor, gemini. */
  target: string;
  file(scope: Scope, io: Pick<Io, "env" | "cwd">): string;
  /** Adds downscope's entries (after removing any old ones); a ConfigError names `file`. */
  add(settings: Obj, file: string): void;
  /** Removes downscope's entries; prunes only containers it emptied; returns whether anything changed. */
  remove(settings: Obj): boolean;
  /** Lines for the user after install (what the hook can and cannot do in this agent). */
  notes: string;
}

interface Options {
  scope: Scope;
  dryRun: boolean;
}

function parseOptions(argv: readonly string[], kind: "install" | "uninstall", a: AgentSettings): Options {
  let scope: Scope = "user";
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--dry-run") dryRun = true;
    else if (arg === "--scope" || arg.startsWith("--scope=")) {
      const v = arg === "--scope" ? argv[++i] : arg.slice(8);
      if (v !== "user" && v !== "project")
        throw new UsageError(`--scope must be user or project (got ${JSON.stringify(v ?? "")})`);
      scope = v;
    } else throw new UsageError(`usage: downscope ${kind} ${a.target} [--scope user|project] [--dry-run]`);
  }
  return { scope, dryRun };
}

export function readSettings(file: string): { text: string | undefined; obj: Obj } {
  if (!existsSync(file)) return { text: undefined, obj: {} };
  const text = readFileSync(file, "utf8");
  const obj = parseObject(text);
  if (obj instanceof Error)
    throw new ConfigError([{ file, path: "", message: `${obj.message}; fix it before installing` }]);
  return { text, obj };
}

export function parseObject(text: string): Obj | Error {
  let o: unknown;
  try {
    o = text.trim() === "" ? {} : JSON.parse(text);
  } catch (e) {
    return new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return new Error("expected a JSON object");
  return o as Obj;
}

/** Serialises like the original: same indentation and trailing newline. */
export function format(obj: Obj, original: string | undefined): string {
  const indent = original === undefined ? "  " : (/^([ \t]+)"/m.exec(original)?.[1] ?? "  ");
  const nl = original === undefined || original.endsWith("\n") ? "\n" : "";
  return JSON.stringify(obj, null, indent) + nl;
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

export function installCommand(a: AgentSettings): Command {
  return async (argv, io) => {
    const opts = parseOptions(argv, "install", a);
    const file = a.file(opts.scope, io);
    const { text, obj } = readSettings(file);
    a.add(obj, file);
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
    if (text !== undefined) writeFileSync(backupOf(file), text);
    else rmSync(backupOf(file), { force: true });
    writeAtomic(file, next);
    io.stderr(
      `downscope: installed the ${a.agent} hooks in ${file}${text !== undefined ? ` (backup: ${backupOf(file)})` : ""}\n${a.notes}`,
    );
    io.stderr(formatShimsReport(await ensureShims(io)));
    return 0;
  };
}

export function uninstallCommand(a: AgentSettings): Command {
  return async (argv, io) => {
    const opts = parseOptions(argv, "uninstall", a);
    const file = a.file(opts.scope, io);
    const { text, obj } = readSettings(file);
    if (text === undefined || !a.remove(obj)) {
      io.stderr(`downscope: nothing to remove in ${file}\n`);
      return 0;
    }
    // Unchanged since install: give back the exact bytes that were there before.
    const backup = existsSync(backupOf(file)) ? readFileSync(backupOf(file), "utf8") : undefined;
    let next: string | undefined = format(obj, text);
    if (backup !== undefined) {
      const reinstalled = parseObject(backup);
      if (!(reinstalled instanceof Error)) {
        a.add(reinstalled, file);
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
    io.stderr(`downscope: removed the ${a.agent} hooks from ${file}\n`);
    return 0;
  };
}

export const isObj = (v: Json | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
