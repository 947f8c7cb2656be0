/**
 * Policy lint (pure, on a parsed document): what the schema cannot see.
 * Errors make `downscope lint` fail; warnings are printed.
 */
import type { Document, LineCounter } from "yaml";
import type { ConfigIssue } from "../errors.js";
import { decide } from "./evaluate.js";
import type { Invocation } from "./invocation.js";
import { awsInlinePolicyCheck } from "./iam.js";
import { formatPath, positionOf } from "./parse.js";
import type { Policy } from "./policy.js";
import type { Config, Match, Rule } from "./schema.js";

export interface LintIssue extends ConfigIssue {
  severity: "error" | "warning";
}

/** Extra checks contributed by other parts (AWS policy size, ...), kept pure. */
export type LintCheck = (
  config: Config,
  report: (path: (string | number)[], severity: LintIssue["severity"], message: string) => void,
) => void;

export function lintConfig(
  config: Config,
  file: string,
  doc: Document,
  lc: LineCounter,
  extraChecks: readonly LintCheck[] = [],
): LintIssue[] {
  const issues: LintIssue[] = [];
  const report = (path: (string | number)[], severity: LintIssue["severity"], message: string) =>
    issues.push({ file, ...positionOf(doc, lc, path), path: formatPath(path), message, severity });

  const policy: Policy = { layers: [{ name: "user", file, trusted: true, config, sha256: "" }], warnings: [] };
  const binaries = new Map<string, string>();

  for (const [name, svc] of Object.entries(config.services)) {
    const base = ["services", name];
    if (svc.server === undefined || svc.binary !== undefined) {
      const bin = svc.binary ?? name;
      const other = binaries.get(bin);
      if (other !== undefined)
        report(base, "error", `services "${other}" and "${name}" both cover the binary "${bin}"; merge them`);
      binaries.set(bin, name);
    }

    // Slots never used.
    const used = new Set([svc.default_slot, ...svc.rules.map((r) => r.slot)]);
    for (const slot of Object.keys(svc.token_slots ?? {})) {
      if (!used.has(slot))
        report(
          [...base, "token_slots", slot],
          "warning",
          `slot "${slot}" is never used (no rule names it and it is not default_slot)`,
        );
    }
    if (
      svc.downscope_mode === "token_slot" &&
      svc.server === undefined &&
      svc.default_slot === undefined &&
      svc.default_action === "allow"
    ) {
      report(
        base,
        "warning",
        "no default_slot: commands that no rule gives a slot will be refused for lack of a credential",
      );
    }

    svc.rules.forEach((rule, i) => {
      const path = [...base, "rules", i];
      // Examples must be decided by their own rule.
      (rule.examples ?? []).forEach((ex, k) => {
        const inv: Invocation =
          svc.server !== undefined && svc.binary === undefined
            ? { kind: "mcp", server: svc.server, tool: ex, arguments: {} }
            : { kind: "cli", binary: svc.binary ?? name, args: splitExample(ex) };
        const d = decide(policy, inv);
        if (d.source !== "rule" || d.rule?.index !== i) {
          const by =
            d.source === "rule"
              ? `rule #${(d.rule?.index ?? 0) + 1} "${d.rule?.name}"`
              : d.source === "guard"
                ? `built-in guard "${d.rule?.name}"`
                : "the default";
          report(
            [...path, "examples", k],
            "error",
            `example "${ex}" is decided by ${by}, not by this rule${d.source === "rule" && (d.rule?.index ?? 0) < i ? " (this rule is shadowed for it)" : ""}`,
          );
        }
      });
      // An allow pattern must also match with the flags removed, so one that names a flag never allows.
      if (
        rule.action === "allow" &&
        rule.match.args_pattern !== undefined &&
        /(^|[\s(|^])--?[A-Za-z]/.test(rule.match.args_pattern)
      )
        report(
          [...path, "match", "args_pattern"],
          "warning",
          "this allow rule's args_pattern names a flag; an allow pattern must also match the arguments with the flags removed, so it allows nothing. Match the words with `command` and the flag with `flags`",
        );
      // An args_pattern that is only words: the command rule that reads flags exactly.
      if (rule.match.args_pattern !== undefined) {
        const cmds = commandsFromPattern(rule.match.args_pattern);
        if (cmds !== undefined)
          report(
            [...path, "match", "args_pattern"],
            "warning",
            `args_pattern ${JSON.stringify(rule.match.args_pattern)} can be written as ${
              cmds.length === 1 ? "a command rule" : `${cmds.length} command rules`
            }, which ${cmds.length === 1 ? "matches" : "match"} the subcommand path wherever flags sit: ${cmds
              .map((c) => `match: { command: ${JSON.stringify(c)} }`)
              .join(" and ")}`,
          );
      }
      // Provable shadowing by an earlier rule.
      for (let j = 0; j < i; j++) {
        const earlier = svc.rules[j]!;
        if (covers(earlier, rule)) {
          report(
            path,
            "error",
            `rule "${rule.name}" can never match: rule #${j + 1} "${earlier.name}" above it matches everything it matches`,
          );
          break;
        }
      }
    });
  }
  for (const check of [awsInlinePolicyCheck, ...extraChecks]) check(config, report);
  return issues;
}

const LITERAL_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;

/**
 * The `command:` word lists equivalent to an args_pattern made only of words,
 * `(a|b)` groups and a top-level `|` (one list per branch): `pr merge` →
 * [[pr, merge]], `iam (create|delete)` → [[iam, "create*|delete*"]] (the last
 * word matched a prefix unless a space or `( |$)` followed it). Undefined for
 * anything else (classes, quantifiers, escapes, flags, and `$` at the end,
 * which a prefix-matching command rule would widen). The command rule
 * matches the words at the start of the subcommand path, where the regex
 * matched them anywhere; that is what a user of `pr merge` meant.
 */
export function commandsFromPattern(pattern: string): string[][] | undefined {
  const branches = splitTopLevel(pattern);
  if (branches === undefined) return undefined;
  const out: string[][] = [];
  for (let b of branches) {
    if (b.startsWith("^")) b = b.slice(1);
    let exactEnd = false;
    if (b.endsWith(" ")) {
      b = b.slice(0, -1);
      exactEnd = true;
    } else if (b.endsWith("( |$)")) {
      b = b.slice(0, -5);
      exactEnd = true;
    }
    const tokens = b.split(" ");
    const words: string[] = [];
    for (const t of tokens) {
      const group = /^\((?:\?:)?([^()]*)\)$/.exec(t);
      const alts = group ? group[1]!.split("|") : [t];
      if (!alts.every((a) => LITERAL_WORD.test(a))) return undefined;
      words.push(alts.join("|"));
    }
    if (words.length === 0) return undefined;
    if (!exactEnd)
      words[words.length - 1] = words[words.length - 1]!.split("|")
        .map((w) => `${w}*`)
        .join("|");
    out.push(words);
  }
  return out;
}

/** Split a regex at `|` outside parentheses; undefined if parentheses do not balance. */
function splitTopLevel(pattern: string): string[] | undefined {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of pattern) {
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    if (depth < 0) return undefined;
    if (ch === "|" && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (depth !== 0) return undefined;
  out.push(cur);
  return out;
}

/** Does `a` match (at least) everything `b` matches? Only what can be proven. */
export function covers(a: Rule, b: Rule): boolean {
  const am = a.match;
  const bm: Match = b.match;
  if (am.args_pattern !== undefined || am.arguments !== undefined || am.allowed_paths || am.denied_paths) return false;
  // Readings: an allow rule matches under every reading, a restrictive one under any.
  if (a.action === "allow" && b.action !== "allow" && am.command !== undefined) return false;
  if (am.tools !== undefined) {
    if (bm.tools === undefined || !bm.tools.every((t) => am.tools!.includes(t) || am.tools!.includes("*")))
      return false;
  }
  if (am.command !== undefined) {
    if (bm.command === undefined || bm.command.length < am.command.length) return false;
    if (!am.command.every((w, i) => wordCovers(w, bm.command![i]!))) return false;
  }
  if (am.flags !== undefined) {
    if (bm.flags === undefined || !bm.flags.every((f) => am.flags!.includes(f))) return false;
  }
  return true;
}

function wordCovers(a: string, b: string): boolean {
  if (a === "*") return true;
  if (b === "*") return false;
  const as = new Set(a.split("|"));
  return b.split("|").every((w) => as.has(w));
}

/** Split an example's argument string: whitespace, with '…' and "…" quoting. */
export function splitExample(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
