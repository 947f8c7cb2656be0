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
 *
 * `args_pattern` regexes get the same treatment (issue 14): `gh pr --repo o/r
 * merge 12` must not dodge `pr merge`. The regex is tried on the literal
 * argument string and on the string of each reading's positionals (flags and
 * the values that reading gives them removed). A deny/review rule matches if
 * any of these matches; an allow rule only if the literal string and the known
 * and greedy readings all match, so a flag between the words never widens it.
 */
import { isAbsolute, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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
  /** Per-invocation memo (joined arguments, positionals per reading), filled on first use. */
  memo?: {
    joined?: string;
    readings?: Partial<Record<Reading, string[]>>;
    /** The positionals of each reading joined, for args_pattern. */
    stripped?: Partial<Record<Reading, string>>;
    /** Restrictive args_pattern candidates: the literal string and the distinct stripped ones. */
    restrictive?: readonly string[];
  };
}

function joinedArgs(args: readonly string[], ctx: MatchContext): string {
  const memo = (ctx.memo ??= {});
  return (memo.joined ??= args.join(" "));
}

function strippedArgs(args: readonly string[], ctx: MatchContext, r: Reading): string {
  const memo = ((ctx.memo ??= {}).stripped ??= {});
  return (memo[r] ??= reading(args, ctx, r).join(" "));
}

/** The strings a restrictive args_pattern is tried on, without repeats (most argvs have one or two). */
function restrictiveCandidates(args: readonly string[], ctx: MatchContext): readonly string[] {
  const memo = (ctx.memo ??= {});
  if (memo.restrictive) return memo.restrictive;
  const literal = joinedArgs(args, ctx);
  // No word looks like a flag: every reading is the literal string.
  if (!args.some((a) => a.length > 1 && a.charCodeAt(0) === 45 /* - */)) return (memo.restrictive = [literal]);
  const out = [literal];
  for (const r of READINGS) {
    const s = strippedArgs(args, ctx, r);
    if (!out.includes(s)) out.push(s);
  }
  return (memo.restrictive = out);
}

/**
 * Does an args_pattern regex hold? Restrictive: on the literal string or any
 * reading's flag-free string. Allow: on the literal string and on the known
 * and greedy readings' flag-free strings.
 */
function argsPatternHolds(re: RegExp, restrictive: boolean, args: readonly string[], ctx: MatchContext): boolean {
  if (restrictive) return restrictiveCandidates(args, ctx).some((s) => re.test(s));
  return (
    re.test(joinedArgs(args, ctx)) &&
    re.test(strippedArgs(args, ctx, "known")) &&
    re.test(strippedArgs(args, ctx, "greedy"))
  );
}

function reading(args: readonly string[], ctx: MatchContext, r: Reading): string[] {
  const memo = ((ctx.memo ??= {}).readings ??= {});
  return (memo[r] ??= positionals(args, ctx.valueFlags, r));
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

interface FlagSpec {
  flag: string;
  name: string;
  /** Lower-cased value for `--flag=value` entries. */
  value: string | undefined;
  /** A single-letter flag such as -f. */
  short: boolean;
}

function flagSpecs(flags: readonly string[]): FlagSpec[] {
  return flags.map((f) => {
    const eq = f.indexOf("=");
    const name = eq === -1 ? f : f.slice(0, eq);
    return {
      flag: f,
      name,
      value: eq === -1 ? undefined : f.slice(eq + 1).toLowerCase(),
      short: /^-[A-Za-z0-9]$/.test(name),
    };
  });
}

/** True if one of `flags` is present in args (before `--`). */
export function hasFlag(args: readonly string[], flags: readonly string[], lenient: boolean): string | undefined {
  return findFlag(args, flagSpecs(flags), lenient);
}

function findFlag(args: readonly string[], specs: readonly FlagSpec[], lenient: boolean): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === "--") return undefined;
    if (w.charCodeAt(0) !== 45 /* - */) continue;
    const shortGroup = lenient && w.length > 1 && w.charCodeAt(1) !== 45 && /^-[A-Za-z0-9]/.test(w);
    for (const s of specs) {
      if (s.value === undefined) {
        if (w === s.name || (s.name.startsWith("--") && w.startsWith(s.name + "="))) return s.flag;
        // -x inside a group of short flags (-abx) or glued to its value (-xVALUE)
        if (shortGroup && s.short && w.includes(s.name[1]!)) return s.flag;
      } else {
        const lw = w.toLowerCase();
        if (lw === `${s.name}=${s.value}`.toLowerCase()) return s.flag;
        if (w === s.name && args[i + 1]?.toLowerCase() === s.value) return s.flag;
        if (lenient && s.short && lw === `${s.name}${s.value}`) return s.flag;
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

export type CliMatcher = (args: readonly string[], ctx: MatchContext) => string | undefined;
const never: CliMatcher = () => undefined;
const compiledLists = new WeakMap<readonly { match: Match; action: Action }[], CliMatcher[]>();

/**
 * A list of rules compiled once (regexes built, flags parsed) into closures,
 * cached per list: with thousands of rules, evaluation is a loop over closures.
 */
export function cliMatchers(rules: readonly { match: Match; action: Action }[]): CliMatcher[] {
  let list = compiledLists.get(rules);
  if (!list) compiledLists.set(rules, (list = rules.map((r) => compileCli(r.match, r.action !== "allow"))));
  return list;
}

function compileCli(match: Match, restrictive: boolean): CliMatcher {
  if (match.tools || match.arguments || match.allowed_paths || match.denied_paths) return never;
  const re = match.args_pattern !== undefined ? compiled(match.args_pattern) : undefined;
  const command = match.command;
  const flags = match.flags !== undefined ? flagSpecs(match.flags) : undefined;
  const describe = [
    match.args_pattern !== undefined ? `args_pattern /${match.args_pattern}/` : undefined,
    command !== undefined ? `command [${command.join(" ")}]` : undefined,
  ].filter((x): x is string => x !== undefined);
  const first = command?.[0];
  return (args, ctx) => {
    if (re !== undefined && !argsPatternHolds(re, restrictive, args, ctx)) return undefined;
    if (command !== undefined) {
      // Cheap pre-check: the first command word must appear among the arguments at all.
      if (first !== undefined && first !== "*" && !first.includes("|") && !first.includes("*") && !args.includes(first))
        return undefined;
      const hit = (r: Reading) => prefixMatches(command, reading(args, ctx, r));
      if (restrictive ? !READINGS.some(hit) : !(hit("known") && hit("greedy"))) return undefined;
    }
    let flagHit: string | undefined;
    if (flags !== undefined) {
      flagHit = findFlag(args, flags, restrictive);
      if (flagHit === undefined) return undefined;
    }
    const hits = flagHit === undefined ? describe : [...describe, `flag ${flagHit}`];
    return hits.length ? hits.join(", ") : "(matches everything)";
  };
}

/**
 * Does `match` hold for this invocation? Returns a short description of what
 * hit (for `check` and block messages), or undefined.
 */
export function matches(match: Match, action: Action, inv: Invocation, ctx: MatchContext): string | undefined {
  if (inv.kind === "cli") return compileCli(match, action !== "allow")(inv.args, ctx);
  const hits: string[] = [];
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

const PATH_KEY = /path|file|dir|source|destination|root|target|location|cwd|folder|^src$|^dest$/i;
const MAX_DEPTH = 8;

/**
 * String arguments that name files: values under keys like path, paths,
 * source, destination (server-filesystem's read_multiple_files and move_file),
 * in lists, and in nested objects (`{files: [{path}]}`, `{options: {cwd}}`);
 * and any `file://` URI, whatever its key. Over-matching only makes path
 * rules stricter.
 */
export function pathArguments(args: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  const visit = (v: unknown, pathKey: boolean, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (typeof v === "string") {
      if (v.startsWith("file://")) out.push(fileUriPath(v));
      else if (pathKey) out.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, pathKey, depth + 1);
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) visit(x, PATH_KEY.test(k), depth + 1);
    }
  };
  visit(args, false, 0);
  return out;
}

function fileUriPath(uri: string): string {
  try {
    return fileURLToPath(uri);
  } catch {
    // Not a local file URL (file://host/...): treat it as the filesystem root,
    // which lies inside no allowed path narrower than "/".
    return "/";
  }
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
