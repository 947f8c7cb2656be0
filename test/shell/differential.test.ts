/**
 * Differential check of the run-time parser (unbash, through analyzeShell)
 * against a second, independent Bash parser (bash-parser, devDependency).
 * For every corpus command, every simple command bash-parser finds, at any
 * depth, must be found by analyzeShell too: as an invocation, as a wrapper it
 * unwrapped, or as an unresolved construct when its name is dynamic. A
 * disagreement is a test failure to look at. bash-parser cannot parse some
 * constructs; those corpus cases are listed explicitly in BASH_PARSER_CANNOT.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { analyzeShell, basename } from "../../src/shell/analyze.js";
import { TABLE } from "../hook/command-table.js";

const require = createRequire(import.meta.url);
const bashParser = require("bash-parser") as (text: string) => unknown;

/** Corpus cases bash-parser 0.5 cannot parse (ANSI-C quotes, process substitution, |&, coproc, [[ ]], (( )), function keyword bodies, here-docs fed to commands, …). */
const BASH_PARSER_CANNOT = new Set([
  "$'\\x67\\x68' pr list",
  "$'gh' pr list",
  "$'\\x67\\x68' repo delete o/r",
  "cat <(gh repo delete o/r)",
  "diff <(gh pr list) >(gh repo delete o/r)",
  "gh pr list |& gh repo delete o/r",
  "echo $(( $(gh repo delete o/r) + 1 ))",
  "function f { gh repo delete o/r; }",
  "gh pr list 'unterminated",
  "echo $(gh pr list",
  "gh $'repo' delete o/r",
  "select x in a; do gh repo delete o/r; done",
  "bash <<< 'gh repo delete o/r'",
  ". <(gh pr list)",
  // bash-parser bugs on valid Bash: a comment-only line, nested $( ), a redirection after 2>&1
  "# gh repo delete x",
  "echo $(echo $(gh repo delete o/r))",
  "x=$(a $(b `c`)) y",
  'echo "$(a "$(b)")"',
  "cmd > out 2>&1 < in",
]);

/**
 * Corpus cases bash-parser reads wrongly: it has no here-documents and parses
 * their bodies as commands, and it reads `(( x ))` as nested subshells running `x`.
 */
const BASH_PARSER_MISREADS = new Set([
  "(( x )) && gh repo delete o/r",
  "cat <<'EOF'\ngh repo delete x\nEOF",
  "cat <<EOF\ngh repo delete x\nEOF",
  "cat <<EOF\n$(gh repo delete o/r)\nEOF",
  "bash <<'EOF'\ngh repo delete o/r\nEOF",
]);

/**
 * Reserved words of Bash that bash-parser reports as command names: `time`
 * (a pipeline prefix), `[[` (a test command), `coproc` (runs what follows,
 * which analyzeShell finds).
 */
const RESERVED = new Set(["time", "[[", "coproc"]);

const EXTRA = [
  "a && b || c; d | e & f",
  "(a; (b | c)) && { d; e; }",
  "x=$(a $(b `c`)) y",
  "while a; do b; done; until c; do d; done",
  "for i in 1 2; do a $i; done",
  "case $x in a|b) c;; *) d;; esac",
  "if a; then b; elif c; then d; else e; fi",
  "f() { a; b; }",
  "A=1 B=2 cmd arg",
  'echo "$(a "$(b)")"',
  "cmd > out 2>&1 < in",
  "! a | b",
];

interface BpNode {
  type?: string;
  name?: { text: string };
  [k: string]: unknown;
}

/** Every simple command name bash-parser sees, at any depth (including substitutions). */
function bashParserNames(text: string): string[] {
  const names: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (typeof n !== "object" || n === null) return;
    const node = n as BpNode;
    if (node.type === "Command" && node.name) names.push(node.name.text);
    if (node.type === "Function") {
      walk(node.body);
      return;
    }
    for (const [k, v] of Object.entries(node)) if (k !== "name" || node.type !== "Command") walk(v);
  };
  walk(bashParser(text));
  return names;
}

const corpus = [...TABLE.map((r) => r[0]), ...EXTRA];

describe("differential: analyzeShell vs bash-parser", () => {
  it("lists only corpus cases as exclusions", () => {
    for (const c of [...BASH_PARSER_CANNOT, ...BASH_PARSER_MISREADS]) expect(corpus).toContain(c);
  });
  it.each(corpus.filter((c) => !BASH_PARSER_CANNOT.has(c) && !BASH_PARSER_MISREADS.has(c)))("%j", (text) => {
    let theirs: string[];
    try {
      theirs = bashParserNames(text);
    } catch (e) {
      throw new Error(
        `bash-parser cannot parse ${JSON.stringify(text)} (${String(e)}); add it to BASH_PARSER_CANNOT if that is expected`,
      );
    }
    const a = analyzeShell(text);
    expect(a.errors).toEqual([]);
    const ours = [
      ...a.invocations.flatMap((i) => [i.binary, ...i.wrappers.map(basename)]),
      ...a.unresolved.flatMap((u) => u.wrappers.map(basename)),
    ];
    const missing = theirs.filter((name) => {
      if (RESERVED.has(name)) return false;
      if (/[$`*?{[]/.test(name)) return a.unresolved.length === 0; // dynamic: must be reported unresolved
      return !ours.includes(basename(name));
    });
    expect(missing).toEqual([]);
  });
  it.each([...BASH_PARSER_CANNOT])("bash-parser still cannot parse %j", (text: string) => {
    // If a future bash-parser learns one of these, move it back into the comparison.
    expect(() => bashParserNames(text)).toThrow();
  });
});
