/**
 * The parser-free analysis of plain commands (src/shell/simple.ts) must be the
 * full analysis, exactly, wherever it answers. Bug class guarded against: a
 * shortcut that reads a command differently from the real grammar — a missed
 * wrapper (`sudo gh …`), an assignment, a reserved word — and lets a service
 * call through with the wrong argv, or none.
 * Proves: on every command of the hook's table, the everyday corpus and 20,000
 * generated ones (a fixed seed; words that are services, wrappers, shells,
 * reserved words, assignments, paths and job specs, joined by every operator
 * with and without spaces), whatever analyzeSimple answers deep-equals
 * analyzeShell; and that it does answer the plain commands it exists for.
 */
import { describe, expect, it } from "vitest";
import { analyzeShell } from "../../src/shell/analyze.js";
import { RUNS_OTHERS } from "../../src/shell/prefilter.js";
import { analyzeSimple } from "../../src/shell/simple.js";
import { TABLE } from "../hook/command-table.js";
import { EVERYDAY } from "./everyday-corpus.js";

/** Shells, wrappers and definitions: drawn one word in five, so that plain commands stay common as the list grows. */
const RUNNERS = [...RUNS_OTHERS];
const WORDS = [
  ...["gh", "aws", "kubectl", "gcloud", "jq", "cd", "ls", "git", "npm", "echo", "true", "make", "cat", "grep"],
  ...["if", "then", "fi", "for", "in", "do", "done", "while", "case", "esac", "select", "until", "elif", "else"],
  ...["/usr/bin/gh", "./gh", "bin/aws", "dir/", "/", ".", "..", "-", "--", "-x", "--limit", "5", "%1", "%", "@", "+x"],
  ...["a=1", "GH_TOKEN=x", "=x", "x=", "a==b", "--flag=v", "pr", "list", "repo", "delete", "s3", "get", "pods"],
];
const OPS = ["&&", "||", "|", ";", " && ", " || ", " | ", "; ", " ;", "&", "|&", ";;", "&&&"];

/** A small deterministic generator (mulberry32), so a failure names a reproducible command. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generated(n: number): string[] {
  const r = rng(20261123);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    const commands = 1 + Math.floor(r() * 4);
    for (let c = 0; c < commands; c++) {
      if (c > 0) parts.push(pick(OPS));
      const words = 1 + Math.floor(r() * 5);
      parts.push(
        Array.from({ length: words }, () => (r() < 0.2 ? pick(RUNNERS) : pick(WORDS))).join(r() < 0.1 ? "  " : " "),
      );
    }
    let text = parts.join(r() < 0.5 ? " " : "");
    if (r() < 0.05) text = ` ${text} `;
    if (r() < 0.03) text += pick([";", " &&", " |"]);
    out.push(text);
  }
  return out;
}

describe("analyzeSimple", () => {
  const corpus = [...TABLE.map((row) => row[0]), ...EVERYDAY, ...generated(20_000)];

  it("equals the full analysis on every command it answers", () => {
    let answered = 0;
    for (const command of corpus) {
      const simple = analyzeSimple(command);
      if (simple === undefined) continue;
      answered++;
      expect(simple, command).toEqual(analyzeShell(command));
    }
    // Not vacuous: a good share of the generated commands are plain enough.
    expect(answered).toBeGreaterThan(2_000);
  });

  it("answers the plain commands it exists for, and leaves everything else to the parser", () => {
    for (const c of [
      "cd repo && gh pr list --limit 5 | jq .",
      "gh pr view 12 || true",
      "git status; gh pr create --fill",
    ])
      expect(analyzeSimple(c), c).toBeDefined();
    for (const c of [
      "sudo gh repo delete x",
      "env gh pr list",
      "GH_TOKEN=x gh pr list",
      "bash -c 'gh repo delete x'",
      "gh pr list > out.txt",
      "gh pr list &",
      "gh pr list # comment",
      "gh pr list\ngh repo delete x",
      'gh "pr" list',
      "gh $CMD",
      "if true; then gh x; fi",
      "gh x &&",
      "",
    ])
      expect(analyzeSimple(c), c).toBeUndefined();
  });
});
