import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/policy/parse.js";
import { formatIssue } from "../../src/errors.js";
import { EXAMPLE } from "../helpers/policy.js";

function errors(yaml: string): string[] {
  const r = parseConfig(yaml, "p.yaml");
  if (r.ok) throw new Error("expected errors");
  return r.issues.map(formatIssue);
}

describe("config parsing", () => {
  it("accepts the format users already have", () => {
    expect(parseConfig(EXAMPLE, "p.yaml").ok).toBe(true);
  });

  // yaml | expected message (file:line:col: path: message)
  const bad: [string, string, string][] = [
    ["empty file", "", "p.yaml:1:1: the file is empty"],
    ["malformed YAML", "version: 1\nservices: [\n", "p.yaml:3:1: invalid YAML"],
    ["not a mapping", "- a\n- b\n", "expected a mapping at the top level"],
    ["missing version", "services: {}\n", "version: required"],
    [
      "wrong action",
      "version: 1\nservices:\n  gh:\n    rules:\n      - name: x\n        action: block\n",
      "p.yaml:6:17: services.gh.rules[0].action: expected allow | deny | review",
    ],
    [
      "typo key, did you mean",
      "version: 1\nservices:\n  gh:\n    rulez: []\n",
      'p.yaml:4:5: services.gh: unknown key "rulez"; did you mean "rules"?',
    ],
    [
      "typo in rule",
      "version: 1\nservices:\n  gh:\n    rules:\n      - name: x\n        acton: deny\n",
      'p.yaml:6:9: services.gh.rules[0]: unknown key "acton"; did you mean "action"?',
    ],
    [
      "invalid regex",
      'version: 1\nservices:\n  gh:\n    rules:\n      - name: x\n        match: { args_pattern: "pr (merge" }\n',
      "p.yaml:6:32: services.gh.rules[0].match.args_pattern: invalid regular expression",
    ],
    [
      "unknown slot",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: A } }\n    default_slot: rw\n",
      'services.gh.default_slot: unknown slot "rw"',
    ],
    [
      "slot on deny rule",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: A } }\n    rules: [ { name: x, action: deny, slot: ro } ]\n",
      "`slot` only applies to allow rules",
    ],
    [
      "two sources in a slot",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: A, file: /x } }\n",
      "exactly one source",
    ],
    [
      "wrong type",
      "version: 1\nservices:\n  gh:\n    rules: 5\n",
      "p.yaml:4:12: services.gh.rules: expected array, got number 5",
    ],
    ["duplicate key", "version: 1\nversion: 1\n", "invalid YAML: Map keys must be unique"],
  ];
  it.each(bad)("%s", (_name, yaml, message) => {
    const msgs = errors(yaml);
    expect(msgs.join("\n")).toContain(message);
    for (const m of msgs) expect(m).not.toMatch(/\n\s+at /); // no stack traces
  });
});
