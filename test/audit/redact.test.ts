// Redaction of argv before it reaches the audit log. Bypass guarded against: a
// secret given on the command line (flag value, assignment, URL, header, or a
// bare token) being written to the log in clear. Each line is one case.
import { describe, expect, it } from "vitest";
import { REDACTED as R, redactArgv, redactValue } from "../../src/audit/redact.js";

const cases: [string, string[], string[]][] = [
  ["plain command untouched", ["gh", "pr", "list", "--limit", "5"], ["gh", "pr", "list", "--limit", "5"]],
  [
    "git sha kept",
    ["gh", "api", "repos/o/r/commits/0123456789abcdef0123456789abcdef01234567"],
    ["gh", "api", "repos/o/r/commits/0123456789abcdef0123456789abcdef01234567"],
  ],
  [
    "--token value",
    ["kubectl", "--token", "fake-kube-token-1", "get", "pods"],
    ["kubectl", "--token", R, "get", "pods"],
  ],
  ["--token=value", ["kubectl", "--token=fake-kube-token-1", "get"], ["kubectl", `--token=${R}`, "get"]],
  ["--password value", ["x", "--password", "hunter2"], ["x", "--password", R]],
  ["--db-password=value", ["x", "--db-password=hunter2"], ["x", `--db-password=${R}`]],
  ["--client-secret value", ["x", "--client-secret", "abc"], ["x", "--client-secret", R]],
  ["--api-key value", ["x", "--api-key", "abc"], ["x", "--api-key", R]],
  [
    "--password-stdin is a switch",
    ["docker", "login", "--password-stdin", "-u", "me"],
    ["docker", "login", "--password-stdin", "-u", "me"],
  ],
  ["--token-file keeps the path", ["x", "--token-file", "/run/t"], ["x", "--token-file", "/run/t"]],
  [
    "--from-literal",
    ["kubectl", "create", "secret", "generic", "s", "--from-literal=pw=hunter2"],
    ["kubectl", "create", "secret", "generic", "s", `--from-literal=${R}`],
  ],
  [
    "Authorization header",
    ["gh", "api", "-H", "Authorization: token abcdef123456", "x"],
    ["gh", "api", "-H", `Authorization: ${R}`, "x"],
  ],
  [
    "harmless header kept",
    ["gh", "api", "-H", "Accept: application/json"],
    ["gh", "api", "-H", "Accept: application/json"],
  ],
  ["env assignment", ["env", "GH_TOKEN=fake-gh-token-ro-123", "gh"], ["env", `GH_TOKEN=${R}`, "gh"]],
  [
    "AWS secret assignment",
    ["env", "AWS_SECRET_ACCESS_KEY=abc/def", "aws"],
    ["env", `AWS_SECRET_ACCESS_KEY=${R}`, "aws"],
  ],
  ["ghp_ prefix", ["echo", "ghp_fake0token0for0tests"], ["echo", R]],
  ["gho_ prefix", ["echo", "gho_fake0token0for0tests"], ["echo", R]],
  ["github_pat_ prefix", ["echo", "github_pat_fake0token0tests"], ["echo", R]],
  ["slack xoxb-", ["echo", "xoxb-fake-slack-token"], ["echo", R]],
  ["AWS key id", ["echo", "AKIAFAKEFAKE0TEST"], ["echo", R]],
  ["AWS temp key id", ["echo", "ASIAFAKEFAKE0TEST"], ["echo", R]],
  ["google ya29.", ["curl", "ya29.fake-google-token"], ["curl", R]],
  ["gitlab glpat-", ["echo", "glpat-fake0token0tests"], ["echo", R]],
  ["sk- key", ["echo", "sk-ant-fake0token0tests"], ["echo", R]],
  [
    "embedded in a URL",
    ["git", "push", "https://x-access-token:ghp_fake0token0for0tests@github.com/o/r"],
    ["git", "push", `https://x-access-token:${R}@github.com/o/r`],
  ],
  ["curl -u user:password", ["curl", "-u", "me:hunter2", "https://x"], ["curl", "-u", `me:${R}`, "https://x"]],
  ["--user=user:password", ["curl", "--user=me:hunter2"], ["curl", `--user=me:${R}`]],
  [
    "kubectl --user name kept",
    ["kubectl", "--user", "admin", "get", "pods"],
    ["kubectl", "--user", "admin", "get", "pods"],
  ],
  ["URL password", ["curl", "https://me:hunter2secret@example.com/x"], ["curl", `https://me:${R}@example.com/x`]],
  ["Bearer inside a word", ["curl", "-d", "data=Bearer fake0token0value"], ["curl", "-d", `data=Bearer ${R}`]],
  ["assignment of auth=", ["curl", "-d", "auth=Bearer fake0token0value"], ["curl", "-d", `auth=${R}`]],
  ["random 40-char mixed string", ["echo", "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5kL7"], ["echo", R]],
  ["JWT", ["echo", "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.c2lnbmF0dXJl"], ["echo", R]],
];

describe("redactArgv", () => {
  it.each(cases)("%s", (_name, input, expected) => {
    expect(redactArgv(input)).toEqual(expected);
  });

  it("redacts MCP arguments by key and by shape", () => {
    expect(redactValue({ path: "/x", api_key: "abc", nested: { v: "ghp_fake0token0for0tests" } })).toEqual({
      path: "/x",
      api_key: R,
      nested: { v: R },
    });
  });
});

/*
 * Bypass: a command built so that redaction backtracks (quadratic time) keeps
 * the hook busy past Claude Code's timeout, and a hook that times out lets the
 * command run. A 100 KB word once took 14 s. Fix: every pattern is linear.
 * Proves: adversarial inputs of 200 KB finish within the test timeout
 * (quadratic took about a minute for each; linear takes milliseconds, and no
 * timing is asserted beyond that bound), and what they hide is still redacted.
 */
describe("redaction stays linear", () => {
  const big = 200_000;
  it.each([
    ["one long word", "x".repeat(big)],
    ["scheme-like runs", "a.".repeat(big / 2)],
    ["many scheme starts", "a://b:".repeat(big / 6)],
    ["JWT-like starts", "eyJ-".repeat(big / 4)],
    ["JWT-like dots", "eyJaaaaaa.".repeat(big / 10)],
    ["secret-like prefixes", "ghp_".repeat(big / 4)],
    ["bearer runs", "Bearer ".repeat(big / 7)],
    ["31-char runs", `${"Ab1".repeat(10)}x `.repeat(big / 32)],
    ["private key starts", "-----BEGIN A ".repeat(big / 13)],
  ])(
    "%s",
    (_name, input) => {
      const out = redactArgv(["echo", input]);
      expect(out).toHaveLength(2);
      expect(redactArgv(["echo", `${input} https://me:hunter2secret@example.com/x`])[1]).not.toContain("hunter2secret");
    },
    10_000,
  );

  it("still redacts a JWT that follows a dash", () => {
    const jwt =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    expect(redactArgv(["echo", `-${jwt}`])[1]).not.toContain("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  });
});
