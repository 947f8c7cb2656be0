import { describe, expect, it } from "vitest";
import { decide } from "../../src/policy/evaluate.js";
import { commandsFromPattern, splitExample } from "../../src/policy/lint.js";
import { layer, policyOf } from "../helpers/policy.js";

describe("lint: the command rule equivalent to an args_pattern", () => {
  const table: [string, string[][] | undefined][] = [
    ["pr merge", [["pr", "merge*"]]],
    ["^repo delete ", [["repo", "delete"]]],
    ["^repo delete$", undefined],
    ["repo (delete|rename)", [["repo", "delete*|rename*"]]],
    ["^exec ", [["exec"]]],
    ["iam (?:create|delete)( |$)", [["iam", "create|delete"]]],
    [
      "pr (create|edit)|issue (create|edit)",
      [
        ["pr", "create*|edit*"],
        ["issue", "create*|edit*"],
      ],
    ],
    ["compute instances delete", [["compute", "instances", "delete*"]]],
    ["--show-token", undefined],
    ["pr\\s+merge", undefined],
    ["pr  merge", undefined],
    ["repo [a-z]+", undefined],
    ["(pr merge", undefined],
    ["a.*b", undefined],
  ];
  it.each(table)("%s → %j", (pattern, want) => expect(commandsFromPattern(pattern)).toEqual(want));

  it("the suggested rule decides the plain spelling as the pattern does, and the flag-moved ones too", () => {
    const mk = (match: string) =>
      policyOf(
        layer(`version: 1
services:
  gh:
    token_slots: { ro: { env_var: A } }
    default_slot: ro
    rules: [ { name: r, match: ${match}, action: deny } ]
`),
      );
    const cmds = [
      "gh repo delete o/r",
      "gh repo --yes delete o/r",
      "gh -R o/r repo rename x",
      "gh repo view",
      "gh pr list",
    ];
    for (const pattern of ["repo (delete|rename)", "^repo delete "]) {
      const [words] = commandsFromPattern(pattern)!;
      const a = mk(`{ args_pattern: ${JSON.stringify(pattern)} }`);
      const b = mk(`{ command: ${JSON.stringify(words)} }`);
      for (const c of cmds) {
        const [binary = "", ...args] = splitExample(c);
        const inv = { kind: "cli" as const, binary, args };
        expect([pattern, c, decide(a, inv).action]).toEqual([pattern, c, decide(b, inv).action]);
      }
    }
  });
});
