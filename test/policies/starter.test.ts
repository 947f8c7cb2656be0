// The starter policies: each lints clean, passes its own `tests:` and blocks
// every attack of the built-in pack in every spelling. A policy that lets
// something through must make `downscope test --attacks` fail and name it.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const STARTERS = ["readonly", "developer", "developer-github-app", "strict"];

describe.each(STARTERS)("starter policy %s", (name) => {
  const file = join(packageRoot(), "policies", `${name}.yaml`);

  it("lints without errors, and warns only about the one setup choice left to the team", async () => {
    const sb = sandbox();
    const r = await runCli(["lint", file], { env: sb.env, cwd: sb.project });
    expect(r.stderr).toContain("0 errors");
    // gcloud's oauth_scope needs a service account to narrow scopes: the team names theirs
    // (target_service_account) or points key_file at a key; docs/policies.md says so.
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
    for (const w of warnings) expect(w).toContain("no target_service_account: oauth_scope");
    expect(warnings.length).toBeLessThanOrEqual(1);
    expect(r.code).toBe(0);
  });

  it("passes its own tests", async () => {
    const sb = sandbox();
    const r = await runCli(["test", "--policy", file], { env: sb.env, cwd: sb.project });
    const m = /(\d+)\/(\d+) tests passed\n$/.exec(r.stdout);
    expect(r.stdout).not.toContain("FAIL");
    expect(m?.[1]).toBe(m?.[2]);
    expect(Number(m?.[2])).toBeGreaterThanOrEqual(20);
    expect(r.code).toBe(0);
  });

  it("blocks every attack in every spelling, every service covered", async () => {
    const sb = sandbox();
    const r = await runCli(["test", "--attacks", "--policy", file], { env: sb.env, cwd: sb.project });
    const m = /^attack pack: (\d+)\/(\d+) blocked \((\d+) attacks/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(Number(m![3])).toBeGreaterThanOrEqual(75);
    expect(r.stdout).not.toContain("got through");
    expect(r.stdout).not.toContain("not covered");
    expect(r.code).toBe(0);
  });
});

describe("downscope test", () => {
  const WEAK = `version: 1
services:
  gh:
    token_slots: { ro: { env_var: T } }
    default_slot: ro
    rules:
      - { name: no repo delete, match: { args_pattern: "^repo delete" }, action: deny }
  kubectl:
    token_slots: { ro: { env_var: T } }
    default_slot: ro
    rules:
      - { name: reads, match: { command: ["get|describe"] }, action: allow }
tests:
  - { command: "gh repo delete o/r --yes", expect: deny, rule: no repo delete }
  - { command: "gh pr list", expect: allow, slot: ro }
`;

  it("--attacks lists what got through in a weak policy, says what is not covered, and fails", async () => {
    const sb = sandbox();
    const f = sb.write("weak.yaml", WEAK);
    const r = await runCli(["test", "--attacks", "--policy", f], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^attack pack: \d+\/\d+ blocked/);
    // The args_pattern rule holds with the flags moved (issue 14); the explicit `get` allow overrides the secret guard.
    expect(r.stdout).not.toMatch(/gh\s+repository deletion/);
    expect(r.stdout).toMatch(/kubectl\s+secret read\s+\S+ \(all\)\s+allow \(reads\)/);
    expect(r.stdout).not.toMatch(/gh\s+token printed/); // the built-in guard still blocks it
    expect(r.stdout).toContain(
      "not covered (your policy does not configure these, so downscope does not see them): aws",
    );
    expect(r.stdout).toContain("mcp filesystem");
  });

  it("runs tests: from the project policy and reports a miss with exit 1", async () => {
    const sb = sandbox();
    sb.write(
      join(sb.project, ".claude/downscoping.yaml"),
      WEAK + `  - { command: "bash -c 'gh repo  delete o/r'", expect: allow }\n`,
    );
    const r = await runCli(["test"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not trusted here; its tests are run as if it were");
    expect(r.stdout).toMatch(/pass\s+gh repo delete o\/r --yes\s+deny/);
    expect(r.stdout).toMatch(/pass\s+gh pr list\s+allow \(ro\)\s+allow \(ro\)/);
    expect(r.stdout).toMatch(
      /FAIL\s+bash -c 'gh repo {2}delete o\/r'\s+allow\s+deny\s+no repo delete {2}<- expected allow, got deny/,
    );
    expect(r.stdout).toContain("2/3 tests passed; 1 failed");
  });

  it("--file runs a separate test file; slot and rule mismatches are misses", async () => {
    const sb = sandbox();
    const p = sb.write("p.yaml", WEAK);
    const t = sb.write(
      "t.yaml",
      `version: 1\ntests:\n  - { command: "gh pr list", expect: allow, slot: rw }\n  - { command: "gh repo delete x", expect: deny, rule: other }\n  - { command: "kubectl get pods", expect: allow }\n`,
    );
    const r = await runCli(["test", "--policy", p, "--file", t, "--json"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.map((x: { ok: boolean; miss?: string }) => [x.ok, x.miss])).toEqual([
      [false, "expected slot rw, got ro"],
      [false, 'expected rule "other", got "no repo delete"'],
      [true, undefined],
    ]);
  });

  // As in the hook: a review of a command nested in `bash -c` or with
  // non-literal arguments cannot carry a human approval, so it is a deny.
  it("decides a review that cannot carry an approval as deny, like the hook", async () => {
    const sb = sandbox();
    const t = sb.write(
      "t.yaml",
      `version: 1\ntests:\n  - { command: "bash -c 'gh pr merge 12'", expect: deny, rule: pr merge needs a human }\n  - { command: "gh pr merge $N", expect: deny }\n  - { command: "gh pr merge 12", expect: review }\n`,
    );
    const policy = join(packageRoot(), "policies/developer.yaml");
    const r = await runCli(["test", "--policy", policy, "--file", t], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toContain("3/3 tests passed");
    expect(r.code).toBe(0);
  });

  it("says so when there are no tests, and rejects a bad test file with its position", async () => {
    const sb = sandbox();
    const p = sb.write("p.yaml", "version: 1\nservices: {}\n");
    const none = await runCli(["test", "--policy", p], { env: sb.env, cwd: sb.project });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no test cases found");
    const bad = sb.write("bad.yaml", "version: 1\ntests:\n  - { command: x, expect: maybe }\n");
    const r = await runCli(["test", "--policy", p, "--file", bad], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/bad\.yaml:3:\d+: tests\[0\]\.expect/);
  });
});
