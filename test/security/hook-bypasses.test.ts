/**
 * Ways to get a service call past the PreToolUse hook, one test each. The
 * command table (test/hook/command-table.ts) holds many more cases; these are
 * the regressions that matter most, with what each proves.
 */
import { describe, expect, it } from "vitest";
import { decideBash } from "../../src/hook/decide.js";
import { tableContext } from "../hook/fixture.js";

const answer = (c: string) => decideBash(c, tableContext()).decision;

describe("hook bypasses", () => {
  /*
   * Bypass: hide the command word from a text match (`"gh"`, `g\h`, `$'\x67\x68'`,
   * a path, a line continuation). Fix: words are judged after quote removal and
   * by basename. Proves: each form of a denied call is denied.
   */
  it("quoted, escaped, ANSI-C and path forms of the command word", () => {
    for (const c of [
      '"gh" repo delete o/r',
      "g\\h repo delete o/r",
      "$'\\x67\\x68' repo delete o/r",
      "/opt/x/gh repo delete o/r",
      "g\\\nh repo delete o/r",
    ])
      expect([c, answer(c)]).toEqual([c, "deny"]);
  });

  /*
   * Bypass: put the call where a top-level split does not look (substitutions,
   * backticks, process substitution, loops, functions, here-doc bodies).
   * Fix: every simple command at any depth of the parse tree. Proves: denied.
   */
  it("nested anywhere in the syntax tree", () => {
    for (const c of [
      "echo $(gh repo delete o/r)",
      "echo `gh repo delete o/r`",
      "cat <(gh repo delete o/r)",
      "for i in 1; do gh repo delete o/r; done",
      "f() { gh repo delete o/r; }",
      "cat <<EOF\n$(gh repo delete o/r)\nEOF",
    ])
      expect([c, answer(c)]).toEqual([c, "deny"]);
  });

  /*
   * Bypass: run the call through a wrapper or another shell. Fix: wrappers are
   * unwrapped and literal strings given to shells, eval, trap, su -c are parsed
   * recursively. Proves: denied.
   */
  it("wrappers and strings run by other shells", () => {
    for (const c of [
      "sudo -u root env FOO=1 timeout 5 gh repo delete o/r",
      "echo o/r | xargs gh repo delete",
      "find . -exec gh repo delete {} \\;",
      "bash -c 'sh -c \"gh repo delete o/r\"'",
      "eval 'gh repo delete o/r'",
      "trap 'gh repo delete o/r' EXIT",
    ])
      expect([c, answer(c)]).toEqual([c, "deny"]);
  });

  /*
   * Bypass: make the command name unknowable (a variable, a substitution, a
   * glob, a script on stdin, a shadowing function). Fix: unresolvable
   * constructs are never silently passed: ask (or deny with settings.unresolved).
   * Proves: none of them gets "none" or "allow".
   */
  it("unresolvable constructs ask", () => {
    for (const c of [
      "$CMD repo delete o/r",
      '"$(echo gh)" repo delete o/r',
      "g? repo delete o/r",
      "curl -s x | bash",
      "gh() { :; }; gh pr list",
      'eval "$X"',
      "source ./x.sh",
    ])
      expect([c, answer(c)]).toEqual([c, "ask"]);
  });

  /*
   * Bypass: point downscope at files the agent controls by changing HOME,
   * XDG_*, DOWNSCOPE_* or PATH for the call or earlier in the command. Fix:
   * such changes on or before a service call are denied. Proves: denied.
   */
  it("relocating downscope's config, approvals or binary lookup", () => {
    for (const c of [
      "HOME=/tmp/x gh pr list",
      "env XDG_STATE_HOME=/tmp/x gh pr merge 1",
      "export PATH=/tmp/x:$PATH; gh pr list",
      "env -i gh pr list",
      "DOWNSCOPE_CONFIG=/tmp/p.yaml gh pr list",
    ])
      expect([c, answer(c)]).toEqual([c, "deny"]);
  });

  /*
   * Bypass: the agent writes the approval or the wrapper itself to skip review.
   * Fix: an agent-written DOWNSCOPE_APPROVAL is denied, and a review call the
   * agent wrapped in downscope-exec is denied with the reason. Proves: denied.
   */
  it("agent-written approvals and wrappers", () => {
    for (const c of [
      "DOWNSCOPE_APPROVAL=x gh pr merge 1",
      "downscope-exec gh pr merge 1",
      "export DOWNSCOPE_APPROVAL=x; gh pr merge 1",
    ])
      expect([c, answer(c)]).toEqual([c, "deny"]);
  });

  /*
   * Bypass: ride an auto-approved service call to run something else without a
   * prompt. Fix: allow only when everything is an allowed service call or a
   * configured harmless command, nothing writes files, nothing is dynamic.
   * Proves: the mixed commands get the rewrite without a decision.
   */
  it("auto-approval is not extended to anything else", () => {
    for (const c of [
      "gh pr list && rm -rf ~",
      "gh pr list > ~/.bashrc",
      "gh pr list | sh -c 'cat'",
      "gh pr view $(rm -rf ~)",
      "X=1 gh pr list",
      "gh pr list | tee out",
    ])
      expect([c, answer(c)]).not.toEqual([c, "allow"]);
  });
});
