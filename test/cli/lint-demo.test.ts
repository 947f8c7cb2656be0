import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { packageRoot } from "../../src/package-root.js";

describe("downscope lint", () => {
  it("passes the starter policy", async () => {
    const sb = sandbox();
    const r = await runCli(["lint", join(packageRoot(), "policies/developer.yaml")], { env: sb.env, cwd: sb.project });
    expect(r.stderr).toContain("0 errors");
    expect(r.code).toBe(0);
  });

  it("finds shadowed rules, examples decided elsewhere, unused slots and duplicate binaries", async () => {
    const sb = sandbox();
    const f = sb.write(
      "p.yaml",
      `version: 1
services:
  gh:
    token_slots: { ro: { env_var: A }, unused: { env_var: B } }
    default_slot: ro
    rules:
      - { name: all pr, match: { command: [pr] }, action: review }
      - { name: merge, match: { command: [pr, merge] }, action: deny, examples: ["pr merge 1"] }
      - { name: api, match: { command: [api] }, action: deny, examples: ["repo view"] }
  gh2: { binary: gh }
`,
    );
    const r = await runCli(["lint", f], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'p.yaml:8:9: services.gh.rules[1]: rule "merge" can never match: rule #1 "all pr" above it',
    );
    expect(r.stderr).toContain(
      'example "pr merge 1" is decided by rule #1 "all pr", not by this rule (this rule is shadowed for it)',
    );
    expect(r.stderr).toContain('example "repo view" is decided by the default');
    expect(r.stderr).toContain("warning: " + f + ':4:48: services.gh.token_slots.unused: slot "unused" is never used');
    expect(r.stderr).toContain('both cover the binary "gh"');
  });

  it("suggests the command rule for an args_pattern it can translate, as a warning", async () => {
    const sb = sandbox();
    const f = sb.write(
      "p.yaml",
      `version: 1
services:
  gh:
    token_slots: { ro: { env_var: A } }
    default_slot: ro
    rules:
      - { name: merge, match: { args_pattern: "pr merge" }, action: review }
      - { name: token, match: { args_pattern: "--show-token" }, action: deny }
      - { name: open prs, match: { args_pattern: "^pr list --state open" }, action: allow }
`,
    );
    const r = await runCli(["lint", f], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `warning: ${f}:7:47: services.gh.rules[0].match.args_pattern: args_pattern "pr merge" can be written as a command rule, which matches the subcommand path wherever flags sit: match: { command: ["pr","merge*"] }`,
    );
    expect(r.stderr).not.toContain("rules[1].match.args_pattern");
    expect(r.stderr).toContain(
      "services.gh.rules[2].match.args_pattern: this allow rule's args_pattern names a flag; an allow pattern must also match the arguments with the flags removed, so it allows nothing",
    );
    expect(r.stderr).toContain("0 errors, 2 warnings");
  });

  it("reports a broken file with position and fails", async () => {
    const sb = sandbox();
    const f = sb.write("p.yaml", "version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const r = await runCli(["lint", f], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:4:21: services.gh.default_action: expected allow | deny | review`);
  });
});

describe("downscope demo and schema", () => {
  it("demo prints the table and the closing line", async () => {
    const sb = sandbox();
    const r = await runCli(["demo"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gh repo delete octo\/app --yes\s+deny\s+repo deletion denied/);
    expect(r.stdout).toContain("12 commands: 6 allowed (4 readonly, 2 org-write), 3 sent to review, 3 denied");
  });

  it("schema is a JSON Schema with descriptions, and matches the shipped copy", async () => {
    const sb = sandbox();
    const r = await runCli(["schema"], { env: sb.env, cwd: sb.project });
    const s = JSON.parse(r.stdout);
    expect(s.properties.services).toBeDefined();
    expect(JSON.stringify(s)).toContain("first match");
    const { readFileSync } = await import("node:fs");
    const shipped = readFileSync(join(packageRoot(), "schema/downscoping.schema.json"), "utf8");
    expect(r.stdout).toBe(shipped); // regenerate with: node bin/downscope.js schema > schema/downscoping.schema.json
  });

  it("unknown commands and missing arguments are usage errors", async () => {
    const sb = sandbox();
    expect((await runCli(["frobnicate"], { env: sb.env, cwd: sb.project })).code).toBe(64);
    expect((await runCli(["check"], { env: sb.env, cwd: sb.project })).code).toBe(64);
  });
});
