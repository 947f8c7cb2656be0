// `downscope test` finds service invocations with the hook's shell analysis
// (src/shell/, whose own table is test/hook/table.test.ts). These cases check
// the mapping: each evasive spelling surfaces the same invocation, and what
// cannot be known statically or parsed is never reported as "no service".
import { describe, expect, it } from "vitest";
import { analyzeCommand } from "../../src/attacks/command-invocations.js";

const gh = (...args: string[]) => ({ kind: "cli", binary: "gh", args });
const cases: [string, string, unknown][] = [
  ["plain", "gh repo delete o/r --yes", gh("repo", "delete", "o/r", "--yes")],
  ["extra spaces", "gh   repo  delete   o/r ", gh("repo", "delete", "o/r")],
  ["quoted words", `gh "repo" 'delete' o/r`, gh("repo", "delete", "o/r")],
  ["absolute path", "/usr/bin/gh repo delete", gh("repo", "delete")],
  ["assignment prefix", "GH_HOST=x gh repo delete", gh("repo", "delete")],
  ["env wrapper", "env -u HOME A=1 gh repo delete", gh("repo", "delete")],
  ["sudo wrapper", "sudo -E -u root gh repo delete", gh("repo", "delete")],
  ["nested wrappers", "nohup nice -n 5 timeout 10 command gh repo delete", gh("repo", "delete")],
  ["bash -c", "bash -c 'gh repo delete o/r'", gh("repo", "delete", "o/r")],
  ["sh -lc", `sh -lc "cd x && gh repo delete"`, gh("repo", "delete")],
  ["bash -c nested", `bash -c "bash -c 'gh repo delete'"`, gh("repo", "delete")],
  ["compound", "cd /tmp && gh pr list | jq . ; gh repo delete", gh("repo", "delete")],
  ["ANSI-C quoting", "$'\\x67\\x68' repo delete", gh("repo", "delete")],
];

describe("analyzeCommand", () => {
  it.each(cases)("%s", (_n, command, expected) => {
    const r = analyzeCommand(command);
    expect(r.unresolved).toBeUndefined();
    expect(r.invocations).toContainEqual(expected);
  });

  it.each([
    ["variable as command", "$GH repo delete"],
    ["eval of a variable", 'eval "$X"'],
    ["function shadowing", "gh() { echo; }; gh repo delete"],
  ])("%s is unresolved", (_n, command) => {
    expect(analyzeCommand(command).unresolved).toBeDefined();
  });

  it("text that does not parse is invalid", () => {
    expect(analyzeCommand("gh 'repo delete").invalid).toBeDefined();
  });
});
