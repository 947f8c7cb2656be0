// Command words in rules: `*`, `a|b`, and in-word globs like `delete-*`
// (added so starter policies can name AWS verbs like delete-bucket as a family).
import { describe, expect, it } from "vitest";
import { wordMatches } from "../../src/policy/match.js";

const cases: [string, string, boolean][] = [
  ["*", "anything", true],
  ["pr", "pr", true],
  ["pr", "prs", false],
  ["pr|issue", "issue", true],
  ["pr|issue", "gist", false],
  ["delete-*", "delete-bucket", true],
  ["delete-*", "undelete-bucket", false],
  ["describe-*|list-*", "list-users", true],
  ["*secret*", "secrets,configmaps", true],
  ["*secret*", "secret/db", true],
  ["*secret*", "configmaps", false],
  ["get-*", "get", false],
];

describe("wordMatches", () => {
  it.each(cases)("%s ~ %s → %s", (pattern, word, expected) => {
    expect(wordMatches(pattern, word)).toBe(expected);
  });
});
