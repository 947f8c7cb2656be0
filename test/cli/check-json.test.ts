import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const shipped = readFileSync(join(packageRoot(), "schema/check-output.schema.json"), "utf8");
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(shipped) as object);

const POLICY = `version: 1
services:
  gh:
    token_slots:
      readonly:  { env_var: GITHUB_TOKEN_READONLY,  inject_as: GH_TOKEN }
      org-write: { env_var: GITHUB_TOKEN_ORG_WRITE, inject_as: GH_TOKEN }
    default_slot: readonly
    rules:
      - { name: repo deletion denied, match: { args_pattern: "repo delete" }, action: deny }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
      - { name: pr writes, match: { command: [pr, "create|edit"] }, slot: org-write }
  aws:
    downscope_mode: sts_policy
    policy_file: aws/read-only.json
  mcp:
    server: github
    token_slots: { ro: { env_var: GITHUB_TOKEN_READONLY } }
    default_slot: ro
    rules: [ { name: merges reviewed, match: { tools: [merge_pr] }, action: review } ]
`;

/** A sandbox whose user config is POLICY (trusted: the user layer needs no pin). */
function setup(policy = POLICY): Sandbox {
  const sb = sandbox();
  sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), policy);
  return sb;
}

async function checkJson(sb: Sandbox, argv: string[]) {
  const r = await runCli(["check", "--json", ...argv], { env: sb.env, cwd: sb.project });
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const valid = validate(out);
  expect(valid, JSON.stringify(validate.errors)).toBe(true);
  return { code: r.code, out, stderr: r.stderr };
}

describe("downscope check --json, a versioned API", () => {
  it("the shipped JSON Schema is the one generated from the zod schema", async () => {
    const sb = sandbox();
    const r = await runCli(["schema", "--check-output"], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toBe(shipped); // regenerate with: node bin/downscope.js schema --check-output > schema/check-output.schema.json
  });

  // argv | the fields that matter
  const table: [string[], Record<string, unknown>][] = [
    [
      ["--", "gh", "pr", "create", "--fill"],
      {
        action: "allow",
        service: "gh",
        layer: "user",
        rule: "pr writes",
        pattern: "pr create|edit",
        slot: "org-write",
        credential: { kind: "token_slot", scope: "slot org-write ($GITHUB_TOKEN_ORG_WRITE)" },
      },
    ],
    [
      ["--", "gh", "pr", "list"],
      { action: "allow", rule: "default_action of gh", pattern: null, slot: "readonly", source: "default" },
    ],
    [
      ["--", "gh", "repo", "--yes", "delete", "o/r"],
      { action: "deny", rule: "repo deletion denied", pattern: "repo delete", slot: null, credential: null },
    ],
    [["--", "gh", "pr", "merge", "1"], { action: "review", pattern: "pr merge", credential: null }],
    [
      ["--", "gh", "auth", "token"],
      { action: "deny", layer: "built-in", source: "guard", rule: "gh auth", pattern: "auth" },
    ],
    [
      ["--", "aws", "s3", "ls"],
      { action: "allow", slot: null, credential: { kind: "sts_policy", scope: "AWS session policy of the service" } },
    ],
    [["--", "git", "status"], { action: "allow", service: null, layer: null, rule: null, credential: null }],
    [
      ["--mcp", "github", "merge_pr"],
      { action: "review", service: "mcp", rule: "merges reviewed", pattern: "merge_pr" },
    ],
  ];
  it.each(table)("%j", async (argv, want) => {
    const { code, out } = await checkJson(setup(), argv);
    expect(code).toBe(0);
    expect(out).toMatchObject({ version: 1, error: null, ...want });
  });

  it("never carries a secret: the slot's source is named, its value is not", async () => {
    const sb = setup();
    sb.env.GITHUB_TOKEN_ORG_WRITE = "ghp_SECRETSECRETSECRET";
    const r = await runCli(["check", "--json", "--", "gh", "pr", "create"], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toContain("GITHUB_TOKEN_ORG_WRITE");
    expect(r.stdout + r.stderr).not.toContain("SECRETSECRET");
  });

  it("a broken config is a deny with the error's file, line and column, and a non-zero exit", async () => {
    const sb = setup("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const { code, out } = await checkJson(sb, ["--", "gh", "pr", "list"]);
    expect(code).toBe(78);
    const file = join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml");
    expect(out).toMatchObject({
      action: "deny",
      source: "error",
      credential: null,
      error: {
        kind: "config",
        file,
        line: 4,
        column: 21,
        issues: [{ file, line: 4, column: 21, path: "services.gh.default_action" }],
      },
    });
    expect((out.error as { message: string }).message).toContain(`${file}:4:21: services.gh.default_action`);
  });

  it("a YAML syntax error is a deny with its position", async () => {
    const sb = setup("version: 1\nservices: [\n");
    const { code, out } = await checkJson(sb, ["--", "gh", "pr", "list"]);
    expect(code).toBe(78);
    expect(out).toMatchObject({ action: "deny", error: { kind: "config", line: expect.any(Number) } });
  });

  it("bad input is a deny with a usage error, never plain text on stdout", async () => {
    for (const argv of [
      [],
      ["--bogus", "--", "gh"],
      ["--mcp", "github", "t", "--arguments", "{no"],
      ["--mcp", "github", "t", "--arguments", "[1]"],
    ]) {
      const { code, out } = await checkJson(setup(), argv);
      expect([argv, code]).toEqual([argv, 64]);
      expect(out).toMatchObject({ action: "deny", error: { kind: "usage", file: null, line: null } });
    }
  });

  it("without --json, a broken config is still the plain message and exit 78 (unchanged)", async () => {
    const sb = setup("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const r = await runCli(["check", "--", "gh", "pr", "list"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("services.gh.default_action");
  });

  it("--json after -- belongs to the checked command", async () => {
    const r = await runCli(["check", "--", "gh", "pr", "list", "--json", "title"], {
      env: setup().env,
      cwd: "/",
    });
    expect(r.stdout).toContain("decision: allow");
  });
});
