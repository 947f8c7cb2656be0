/**
 * The hook's fast path must never skip a command the full analysis would act
 * on. Bug class guarded against: a shortcut that lets a service call (or an
 * unresolvable construct) through without a decision.
 * Proves: for every command of the hook's table, the everyday corpus and the
 * extra cases below, whenever the prefilter says "cannot involve a service",
 * the full decision is "no answer"; and that the fast path is actually taken
 * for plain commands (so the test can fail both ways).
 */
import { describe, expect, it } from "vitest";
import { decideBash } from "../../src/hook/decide.js";
import { serviceBinaries } from "../../src/policy/policy.js";
import { mayInvolveService } from "../../src/shell/prefilter.js";
import { TABLE } from "../hook/command-table.js";
import { tableContext } from "../hook/fixture.js";
import { EVERYDAY } from "./everyday-corpus.js";

const EXTRA = [
  "ls -la && npm test",
  "git status; git diff --stat",
  "cat README.md | head -20",
  "cd src && ls",
  "./gh pr list",
  "/usr/bin/gh repo delete x",
  "x=gh; $x pr list",
  "g\\h pr list",
  "'gh' pr list",
  "alias g=gh",
  "eval ls",
  ". ./env.sh",
  "source env.sh",
  "PATH=/tmp:$PATH make",
  "DOWNSCOPE_APPROVAL=x ls",
  "bash < script.sh",
  "sh <<EOF\ngh repo delete x\nEOF",
  "echo hi > /tmp/gh",
  "npm run build >/dev/null 2>&1 || echo failed",
  "find . -name x -exec gh pr list ;",
  "xargs gh < list",
  "kubectl get pods",
  "aws s3 ls",
  "GH=1 ls",
  "ls # gh repo delete",
];

describe("hook prefilter", () => {
  const ctx = tableContext();
  const binaries = serviceBinaries(ctx.policy);
  const corpus = [...TABLE.map((row) => row[0]), ...EVERYDAY, ...EXTRA];

  it.each(corpus.map((c) => [c]))("%s: skipped only if the full analysis answers nothing", (command) => {
    if (!mayInvolveService(command, binaries))
      expect(decideBash(command, tableContext())).toEqual({ decision: "none" });
  });

  it("takes the fast path for plain commands and never for service names or dynamic words", () => {
    for (const c of [
      "ls -la && npm test",
      "git status; git diff --stat",
      "cat README.md | head -20",
      "npm run build >/dev/null 2>&1 || echo failed",
    ])
      expect(mayInvolveService(c, binaries), c).toBe(false);
    for (const c of [
      "./gh pr list",
      "x=gh; $x pr list",
      "g\\h pr list",
      "'gh' pr list",
      "eval ls",
      ". ./env.sh",
      "aws s3 ls",
      "ls # gh repo delete",
      "DOWNSCOPE_APPROVAL=x ls",
    ])
      expect(mayInvolveService(c, binaries), c).toBe(true);
  });
});
