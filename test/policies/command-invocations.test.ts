// The stand-in shell analysis used by `downscope test`: each evasive spelling
// must surface the same service invocation, and what cannot be known
// statically must come back unresolved (never as "no service involved").
import { describe, expect, it } from "vitest";
import { analyzeCommand } from "../../src/attacks/command-invocations.js";

const gh = (...args: string[]) => ({ kind: "cli", binary: "gh", args });
const cases: [string, string, unknown[]][] = [
  ["plain", "gh repo delete o/r --yes", [gh("repo", "delete", "o/r", "--yes")]],
  ["extra spaces", "gh   repo  delete   o/r ", [gh("repo", "delete", "o/r")]],
  ["quoted words", `gh "repo" 'delete' o/r`, [gh("repo", "delete", "o/r")]],
  ["absolute path", "/usr/bin/gh repo delete", [gh("repo", "delete")]],
  ["relative path", "./bin/gh repo delete", [gh("repo", "delete")]],
  ["assignment prefix", "GH_HOST=x gh repo delete", [gh("repo", "delete")]],
  ["env wrapper", "env -u HOME A=1 gh repo delete", [gh("repo", "delete")]],
  ["env -S", "env -S 'gh repo delete'", [gh("repo", "delete")]],
  ["sudo wrapper", "sudo -E -u root gh repo delete", [gh("repo", "delete")]],
  ["nested wrappers", "nohup nice -n 5 timeout 10 command gh repo delete", [gh("repo", "delete")]],
  ["bash -c", "bash -c 'gh repo delete o/r'", [gh("repo", "delete", "o/r")]],
  ["sh -lc", `sh -lc "cd x && gh repo delete"`, [{ kind: "cli", binary: "cd", args: ["x"] }, gh("repo", "delete")]],
  ["bash -c nested", `bash -c "bash -c 'gh repo delete'"`, [gh("repo", "delete")]],
  [
    "compound",
    "cd /tmp && gh pr list | jq . ; gh repo delete",
    [
      { kind: "cli", binary: "cd", args: ["/tmp"] },
      gh("pr", "list"),
      { kind: "cli", binary: "jq", args: ["."] },
      gh("repo", "delete"),
    ],
  ],
  [
    "background and or",
    "gh pr list & gh repo delete || true",
    [gh("pr", "list"), gh("repo", "delete"), { kind: "cli", binary: "true", args: [] }],
  ],
  ["redirections dropped", "gh pr list 2>/dev/null > out.txt", [gh("pr", "list")]],
  ["escaped space", "gh repo\\ delete", [gh("repo delete")]],
  ["comment", "gh pr list # gh repo delete", [gh("pr", "list")]],
];

describe("analyzeCommand", () => {
  it.each(cases)("%s", (_n, command, expected) => {
    const r = analyzeCommand(command);
    expect(r.unresolved).toBeUndefined();
    expect(r.invocations).toEqual(expected);
  });

  it.each([
    ["command substitution", "gh $(echo repo) delete"],
    ["backticks", "gh `echo repo` delete"],
    ["variable as command", "$GH repo delete"],
    ["eval", "eval 'gh repo delete'"],
    ["unbalanced quotes", "gh 'repo delete"],
  ])("%s is unresolved", (_n, command) => {
    expect(analyzeCommand(command).unresolved).toBeDefined();
  });
});
