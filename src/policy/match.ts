/**
 * Rule matching (pure). A rule's `match` conditions must all hold.
 *
 * The structured matcher needs the subcommand path, which depends on which
 * flags take a value. downscope does not know every flag of every CLI, so it
 * reads an argv three ways and lets the rule's action choose:
 *  - known:   flags from the value-flag table consume the next word, others do not;
 *  - greedy:  as known, and unknown flags also consume a following non-flag word;
 *  - bare:    no flag consumes anything (in case a listed flag is boolean here).
 * A deny/review rule matches if ANY reading matches (a restriction is hard to
 * dodge with an unknown flag); an allow rule matches only if both the known and
 * the greedy reading match (a grant is never widened by guesswork about an
 * unknown flag). Both errors fail safe.
 */
import { isAbsolute, normalize, resolve } from "node:path";
import type { Invocation } from "./invocation.js";
import type { Action, Match } from "./schema.js";

export type Reading = "known" | "greedy" | "bare";
const READINGS: readonly Reading[] = ["known", "greedy", "bare"];

export interface MatchContext {
  valueFlags: ReadonlySet<string>;
  /** Working directory for relative MCP paths. */
  cwd: string;
  home: string;
  /** Resolves symlinks of a path (longest existing prefix); identity in pure tests. */
  realpath: (p: string) => string;
}

/** The words of an argv that are not flags or flag values, under one reading. */
export function positionals(args: readonly string[], valueFlags: ReadonlySet<string>, reading: Reading): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      if (a.includes("=") && a.startsWith("--")) continue;
      const next = args[i + 1];
      const consumes =
        reading === "known"
          ? valueFlags.has(a)
          : reading === "greedy"
            ? next !== undefined && !next.startsWith("-")
            : false;
      if (consumes) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

function prefixMatches(pattern: readonly string[], words: readonly string[]): boolean {
  if (words.length < pattern.length) return false;
  return pattern.every((p, i) => wordMatches(p, words[i]!));
}

/** A command word in a rule: `*` matches any word, `a|b` either, `delete-*` a prefix glob, else exact. */
export function wordMatches(pattern: string, word: string): boolean {
  if (pattern === "*") return true;
  return pattern.split("|").some((p) => (p.includes("*") ? globMatch(p, word) : p === word));
}

/** True if one of `flags` is present in args (before `--`). */
export function hasFlag(args: readonly string[], flags: readonly string[], lenient: boolean): string | undefined {
  const end = args.indexOf("--");
  const words = end === -1 ? args : args.slice(0, end);
  for (const f of flags) {
    const eq = f.indexOf("=");
    const name = eq === -1 ? f : f.slice(0, eq);
    const value = eq === -1 ? undefined : f.slice(eq + 1).toLowerCase();
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (value === undefined) {
        if (w === name || (name.startsWith("--") && w.startsWith(name + "="))) return f;
        // -x inside a group of short flags (-abx) or glued to its value (-xVALUE)
        if (
          lenient &&
          /^-[A-Za-z0-9]$/.test(name) &&
          /^-[A-Za-z0-9]/.test(w) &&
          !w.startsWith("--") &&
          w.includes(name[1]!)
        )
          return f;
      } else {
        if (w.toLowerCase() === `${name}=${value}`.toLowerCase()) return f;
        if (w === name && words[i + 1]?.toLowerCase() === value) return f;
        if (lenient && /^-[A-Za-z0-9]$/.test(name) && w.toLowerCase() === `${name}${value}`) return f;
      }
    }
  }
  return undefined;
}

const regexCache = new Map<string, RegExp>();
export function compiled(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

/**
 * Does `match` hold for this invocation? Returns a short description of what
 * hit (for `check` and block messages), or undefined.
 */
export function matches(match: Match, action: Action, inv: Invocation, ctx: MatchContext): string | undefined {
  const hits: string[] = [];
  const restrictive = action !== "allow";
  if (inv.kind === "cli") {
    if (match.tools || match.arguments || match.allowed_paths || match.denied_paths) return undefined;
    if (match.args_pattern !== undefined) {
      if (!compiled(match.args_pattern).test(inv.args.join(" "))) return undefined;
      hits.push(`args_pattern /${match.args_pattern}/`);
    }
    if (match.command !== undefined) {
      const hit = (r: Reading) => prefixMatches(match.command!, positionals(inv.args, ctx.valueFlags, r));
      if (restrictive ? !READINGS.some(hit) : !(hit("known") && hit("greedy"))) return undefined;
      hits.push(`command [${match.command.join(" ")}]`);
    }
    if (match.flags !== undefined) {
      const f = hasFlag(inv.args, match.flags, restrictive);
      if (f === undefined) return undefined;
      hits.push(`flag ${f}`);
    }
    return hits.length ? hits.join(", ") : "(matches everything)";
  }
  // MCP tool call
  if (match.args_pattern !== undefined || match.command !== undefined || match.flags !== undefined) return undefined;
  if (match.tools !== undefined) {
    if (!match.tools.some((t) => globMatch(t, inv.tool))) return undefined;
    hits.push(`tool ${inv.tool}`);
  }
  if (match.arguments !== undefined) {
    for (const [key, pattern] of Object.entries(match.arguments)) {
      const v = inv.arguments[key];
      if (v === undefined) return undefined;
      const s = typeof v === "string" ? v : JSON.stringify(v);
      if (!compiled(pattern).test(s)) return undefined;
      hits.push(`argument ${key} /${pattern}/`);
    }
  }
  if (match.denied_paths !== undefined || match.allowed_paths !== undefined) {
    const paths = pathArguments(inv.arguments).map((p) => canonicalPath(p, ctx));
    const denied = (match.denied_paths ?? []).map((p) => canonicalPath(p, ctx));
    const allowed = (match.allowed_paths ?? []).map((p) => canonicalPath(p, ctx));
    const hit = paths.find(
      (p) =>
        denied.some((d) => isInside(p, d)) ||
        (match.allowed_paths !== undefined && !allowed.some((a) => isInside(p, a))),
    );
    if (hit === undefined) return undefined;
    hits.push(`path ${hit}`);
  }
  return hits.length ? hits.join(", ") : "(matches everything)";
}

export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp("^" + pattern.split("*").map(escapeRegex).join(".*") + "$");
  return re.test(value);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const PATH_KEY = /path|file|dir|source|destination|root|target|location/i;

/** String arguments that name files: keys like path/source/destination, or lists of them. */
export function pathArguments(args: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (!PATH_KEY.test(k)) continue;
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) out.push(...v.filter((x): x is string => typeof x === "string"));
  }
  return out;
}

/** `~` expanded, made absolute against cwd, `..` normalised, symlinks resolved. */
export function canonicalPath(p: string, ctx: MatchContext): string {
  let s = p === "~" ? ctx.home : p.startsWith("~/") ? ctx.home + p.slice(1) : p;
  s = isAbsolute(s) ? normalize(s) : resolve(ctx.cwd, s);
  return ctx.realpath(s);
}

export function isInside(p: string, dir: string): boolean {
  if (p === dir) return true;
  return p.startsWith(dir.endsWith("/") ? dir : dir + "/");
}
