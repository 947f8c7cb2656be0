import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { protectedOutputProblem } from "../../src/out-path.js";
import { compressActions, narrowSessionPolicy } from "../../src/suggest/session-policy.js";
import { commandPath } from "../../src/suggest/suggest.js";
import { runCli } from "../helpers/run-cli.js";
import { START, TRAIL, sandboxWithTrail } from "./fixture.js";

type Doc = {
  services: Record<
    string,
    {
      default_action: string;
      rules: {
        name: string;
        match: Record<string, unknown>;
        action: string;
        slot?: string;
        override_guards?: boolean;
      }[];
      inline_policy?: { Statement: { Effect: string; Action: string[] }[] };
    }
  >;
  tests: { command?: string; expect: string; slot?: string }[];
};

async function suggestDoc(sb: ReturnType<typeof sandboxWithTrail>, extra: string[] = []) {
  const r = await runCli(["suggest", ...extra], { env: sb.env, cwd: sb.project });
  expect(r.code, r.stderr).toBe(0);
  return { text: r.stdout, doc: parse(r.stdout) as Doc, stderr: r.stderr };
}

const expectOf = (doc: Doc, command: string) => doc.tests.find((t) => t.command === command);

describe("downscope suggest", () => {
  it("turns the trail into command rules: reads on the read slot, writes on their write slot", async () => {
    const { doc } = await suggestDoc(sandboxWithTrail());
    const gh = doc.services.gh!;
    expect(gh.default_action).toBe("review");
    expect(gh.rules.map((r) => [r.action, r.match.command, r.slot])).toEqual([
      ["deny", ["repo", "delete"], undefined],
      ["review", ["pr", "merge"], undefined],
      ["review", ["api"], undefined], // api writes need a human (the observed api calls were GETs)
      ["allow", ["api"], undefined],
      ["allow", ["issue", "list"], undefined],
      ["allow", ["pr", "list|view"], undefined],
      ["allow", ["pr", "create"], "org-write"],
    ]);
    expect(expectOf(doc, "gh pr create --fill")).toEqual({
      command: "gh pr create --fill",
      expect: "allow",
      slot: "org-write",
    });
    expect(expectOf(doc, "gh pr list --state open")?.slot).toBe("readonly");
  });

  it("what was denied or reviewed stays so, and no rule relaxes a built-in guard", async () => {
    const { doc, text } = await suggestDoc(sandboxWithTrail());
    expect(expectOf(doc, "gh repo delete octo/app --yes")?.expect).toBe("deny");
    expect(expectOf(doc, "gh pr merge 12")?.expect).toBe("review");
    expect(expectOf(doc, "aws iam delete-user --user-name bob")?.expect).toBe("deny");
    expect(expectOf(doc, "kubectl delete pod api-7f9")?.expect).toBe("review");
    expect(text).not.toContain("override_guards");
  });

  it("the AWS session policy holds exactly the IAM actions used, from the installed CLI's service models", async () => {
    const { doc, text } = await suggestDoc(sandboxWithTrail());
    const st = doc.services.aws!.inline_policy!.Statement;
    expect(st[0]).toMatchObject({
      Effect: "Allow",
      Action: [
        "ec2:DescribeInstances",
        "ec2:DescribeVpcs",
        "logs:DescribeLogGroups",
        "s3:ListAllMyBuckets",
        "s3:ListBucket",
      ],
      Resource: "*",
    });
    // The current policy's explicit deny of secret values stays.
    expect(st[1]).toMatchObject({ Effect: "Deny", Action: expect.arrayContaining(["secretsmanager:GetSecretValue"]) });
    expect(text).toMatch(
      /session policy: the 5 IAM action\(s\) the allowed commands used \(from the service models in \/\S+botocore\/data\)/,
    );
    expect(text).not.toContain("policy_file");
  });

  it("its output passes downscope lint and downscope test (written with --out)", async () => {
    const sb = sandboxWithTrail();
    const out = join(sb.project, "suggested.yaml");
    const w = await runCli(["suggest", "--out", out], { env: sb.env, cwd: sb.project });
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toBe("");
    const lint = await runCli(["lint", out], { env: sb.env, cwd: sb.project });
    expect(lint.stderr).toContain("0 errors");
    expect(lint.code).toBe(0);
    const test = await runCli(["test", "--policy", out], { env: sb.env, cwd: sb.project });
    expect(test.stdout).toContain("15/15 tests passed");
    expect(test.code).toBe(0);
  });

  it("--diff shows unused rules, allows that could be narrowed, and calls whose decision changes", async () => {
    const sb = sandboxWithTrail(START, [
      ...TRAIL,
      { event: "exec", service: "gh", argv: ["gh", "api", "-X", "POST", "repos/octo/app/issues"], action: "allow" },
    ]);
    const r = await runCli(["suggest", "--diff"], { env: sb.env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("rules never used by an observed call (0):");
    expect(r.stdout).toContain(
      'gh: "default_action of gh" (user) was used only for: api, issue list, pr list, pr view',
    );
    expect(r.stdout).toContain("observed calls whose decision would change (1):");
    expect(r.stdout).toContain(
      "gh api -X POST repos/octo/app/issues: allow (readonly) [default_action of gh] → review [gh api writes need a human]",
    );
    expect(r.stdout).not.toContain("version: 1"); // the diff, not the policy
  });

  it("nothing is written without --out", async () => {
    const sb = sandboxWithTrail();
    const before = readdirSync(sb.project);
    const cfgBefore = readFileSync(sb.policyFile, "utf8");
    await suggestDoc(sb);
    expect(readdirSync(sb.project)).toEqual(before);
    expect(readFileSync(sb.policyFile, "utf8")).toBe(cfgBefore);
  });

  it("with no policy or no trail it says what to do, and fails", async () => {
    const sb = sandboxWithTrail(START, []);
    const r = await runCli(["suggest"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("no service calls in the audit trail");
    const bad = await runCli(["suggest", "--since", "soon"], { env: sb.env, cwd: sb.project });
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--since expects a duration like 30m, 1h, 2d (got "soon")');
  });

  it("--service keeps one service; --since drops older records", async () => {
    const { doc } = await suggestDoc(sandboxWithTrail(), ["--service", "kubectl"]);
    expect(Object.keys(doc.services)).toEqual(["kubectl"]);
    const sb = sandboxWithTrail();
    const r = await runCli(["suggest", "--since", "1h"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
  });
});

describe("suggest cannot be used to widen a grant", () => {
  /*
   * Attack: the agent forges audit lines (it runs as the user) saying that
   * dangerous calls were allowed, hoping the suggestion allows them. Fix: a
   * suggestion allows only what the current policy allows now, and a log that
   * fails verification is cut at the first bad line. Proves: forged allows of
   * a denied call, a guarded call and an IAM write stay denied.
   */
  it("forged 'allow' records of denied or guarded calls stay denied", async () => {
    const sb = sandboxWithTrail(START, [
      ...TRAIL,
      { event: "exec", service: "gh", argv: ["gh", "repo", "delete", "octo/app"], action: "allow", slot: "org-write" },
      { event: "exec", service: "gh", argv: ["gh", "auth", "token"], action: "allow" },
      { event: "exec", service: "aws", argv: ["aws", "iam", "create-access-key"], action: "allow" },
      { event: "exec", service: "aws", argv: ["aws", "sts", "get-session-token"], action: "allow" },
    ]);
    const { doc, text } = await suggestDoc(sb);
    expect(expectOf(doc, "gh repo delete octo/app")?.expect).toBe("deny");
    expect(expectOf(doc, "gh auth token")?.expect).toBe("deny");
    expect(expectOf(doc, "aws iam create-access-key")?.expect).toBe("deny");
    expect(expectOf(doc, "aws sts get-session-token")?.expect).toBe("deny");
    expect(text).not.toContain("iam:CreateAccessKey");
    expect(text).not.toContain("sts:GetSessionToken");
  });

  it("lines after a break in the hash chain are not used, and the suggestion says so", async () => {
    const sb = sandboxWithTrail();
    const log = join(sb.env.XDG_STATE_HOME!, "downscope/audit.jsonl");
    const lines = readFileSync(log, "utf8").split("\n");
    // An unsealed line in the middle, then everything after it is ignored.
    lines.splice(
      3,
      0,
      JSON.stringify({
        time: new Date().toISOString(),
        event: "exec",
        service: "gh",
        argv: ["gh", "release", "list"],
        action: "allow",
      }),
    );
    writeFileSync(log, lines.join("\n"));
    const { doc, text, stderr } = await suggestDoc(sb);
    expect(stderr).toMatch(/fails verification at \S+audit.jsonl:4 .*only the 3 records before it are used/);
    expect(text).toContain("# WARNING: the audit log fails verification");
    expect(doc.tests.map((t) => t.command)).toEqual([
      "gh pr list --state open",
      "gh pr view 12",
      "gh -R octo/app issue list",
    ]);
  });

  it("an argument that is not a plain word never becomes a wildcard, and YAML-looking arguments stay data", async () => {
    const sb = sandboxWithTrail(START, [
      { event: "exec", service: "gh", argv: ["gh", "pr|repo", "list"], action: "allow", slot: "readonly" },
      { event: "exec", service: "gh", argv: ["gh", "*", "view"], action: "allow", slot: "readonly" },
      {
        event: "exec",
        service: "gh",
        argv: ["gh", "pr", "view", "x\n  - { command: gh repo delete o/r, expect: allow }"],
        action: "allow",
      },
    ]);
    const { doc, text } = await suggestDoc(sb);
    const words = doc.services.gh!.rules.flatMap((r) => (r.match.command as string[] | undefined) ?? []);
    expect(words).not.toContain("*");
    expect(words).not.toContain("pr|repo");
    expect(text).toContain("not turned into a rule (an argument is not a plain word)");
    expect(doc.tests).toHaveLength(3);
    expect(doc.tests.every((t) => t.command?.startsWith("gh "))).toBe(true);
  });

  /*
   * Attack: `downscope suggest --out` pointed at a file downscope trusts (the
   * user config, a layer that may grant credentials) or at an agent's settings
   * (where hooks are defined), directly or through a symlink in the project.
   * Fix: such targets are refused after symlinks are resolved, for the
   * environment's HOME/XDG and the account's real home. Proves: refused,
   * nothing written.
   */
  it("--out refuses downscope's own directories and agent settings, also through a symlink", async () => {
    const sb = sandboxWithTrail();
    const cfg = readFileSync(sb.policyFile, "utf8");
    mkdirSync(join(sb.project, ".claude"), { recursive: true });
    symlinkSync(sb.policyFile, join(sb.project, "innocent.yaml"));
    const targets = [
      sb.policyFile,
      join(sb.env.XDG_CONFIG_HOME!, "downscope/other.yaml"),
      join(sb.env.XDG_STATE_HOME!, "downscope/trusted.json"),
      join(sb.env.XDG_CACHE_HOME!, "downscope/x.yaml"),
      join(sb.env.XDG_DATA_HOME!, "downscope/shims/gh"),
      join(sb.project, ".claude/settings.json"),
      join(sb.project, ".claude/settings.local.json"),
      join(sb.home, ".claude/settings.json"),
      join(sb.home, ".claude.json"),
      join(sb.project, "innocent.yaml"),
    ];
    for (const t of targets) {
      const r = await runCli(["suggest", "--out", t], { env: sb.env, cwd: sb.project });
      expect([t, r.code]).toEqual([t, 64]);
      expect(r.stderr).toMatch(
        /downscope does not write its own trusted files|agent settings file|Claude Code's own config/,
      );
    }
    expect(readFileSync(sb.policyFile, "utf8")).toBe(cfg);
    expect(existsSync(join(sb.project, ".claude/settings.json"))).toBe(false);
    expect(existsSync(join(sb.home, ".claude.json"))).toBe(false);
  });

  it("a relocated HOME does not hide the account's real downscope directories", () => {
    const real = process.getBuiltinModule("node:os").userInfo().homedir;
    const problem = protectedOutputProblem(join(real, ".config/downscope/config.yaml"), { HOME: "/nonexistent-home" });
    expect(problem).toContain("downscope's config directory");
    expect(
      protectedOutputProblem(join(real, ".local/state/downscope/trusted.json"), { HOME: "/nonexistent-home" }),
    ).toContain("state directory");
    expect(
      protectedOutputProblem("/srv/project/.claude/downscoping.yaml", { HOME: "/nonexistent-home" }),
    ).toBeUndefined();
  });

  it("--out into the project writes the file, replacing an existing one only because --out says so", async () => {
    const sb = sandboxWithTrail();
    const out = join(sb.project, ".claude/downscoping.yaml");
    mkdirSync(join(sb.project, ".claude"));
    writeFileSync(out, "version: 1\n");
    const r = await runCli(["suggest", "--out", out], { env: sb.env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("observed reads");
  });
});

describe("command paths and session policies", () => {
  const table: [string, string[], string[] | undefined][] = [
    ["gh", ["-R", "o/r", "pr", "view", "12"], ["pr", "view"]],
    ["gh", ["api", "repos/o/r"], ["api"]],
    ["aws", ["--region", "x", "ec2", "describe-instances"], ["ec2", "describe-instances"]],
    ["gcloud", ["compute", "instances", "list", "--zone", "z"], ["compute", "instances", "list"]],
    ["gcloud", ["beta", "run", "services", "list"], ["beta", "run", "services", "list"]],
    ["gcloud", ["projects", "--verbosity=error", "describe", "p"], ["projects", "describe"]],
    ["kubectl", ["-n", "x", "get", "pods/api"], ["get", "pods"]],
    ["kubectl", ["logs", "api-7f9"], ["logs"]],
    ["gh", ["pr", "vi*w"], undefined],
  ];
  it.each(table)("%s %j → %j", (bin, args, want) => expect(commandPath(bin, args)).toEqual(want));

  it("keeps each statement's resources and drops what the current policy does not allow", () => {
    const n = narrowSessionPolicy(
      {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["s3:Get*"], Resource: "arn:aws:s3:::dev-*/*" },
          { Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
        ],
      },
      ["s3:GetObject", "ec2:DescribeVpcs", "iam:CreateUser"],
    );
    expect(n.doc.Statement).toEqual([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::dev-*/*" },
      { Effect: "Allow", Action: ["ec2:DescribeVpcs"], Resource: "*" },
    ]);
    expect(n.dropped).toEqual(["iam:CreateUser"]);
  });

  it("wildcard-compresses under 2,048 characters, never beyond the current statement's patterns", () => {
    const used = Array.from({ length: 120 }, (_, i) => `ec2:DescribeThing${i}`);
    const wide = compressActions(
      narrowSessionPolicy(
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["ec2:Describe*"], Resource: "*" }] },
        used,
      ),
    );
    expect(wide.size).toBeLessThanOrEqual(2048);
    expect(wide.compressed).toEqual(["ec2:Describe*"]);
    const narrow = compressActions(
      narrowSessionPolicy(
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: used, Resource: "*" }] },
        used,
      ),
    );
    expect(narrow.compressed).toEqual([]);
    expect(narrow.size).toBeGreaterThan(2048);
  });
});

describe("docs/policies.md: from no policy to a suggested one", () => {
  it("init, a trail, suggest --out, then lint, test and test --attacks pass", async () => {
    const sb = sandboxWithTrail("version: 1\n", []);
    // The user layer of the fixture is an empty policy; the project gets the starter.
    const init = await runCli(["init", "--template", "readonly"], { env: sb.env, cwd: sb.project });
    expect(init.code, init.stderr).toBe(0);
    const { appendAudit } = await import("../../src/audit/log.js");
    const { auditSettingsOf } = await import("../../src/audit/settings.js");
    for (const r of TRAIL) appendAudit(r, { env: sb.env, settings: auditSettingsOf(undefined, sb.env) });
    const diff = await runCli(["suggest", "--since", "7d", "--diff"], { env: sb.env, cwd: sb.project });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("observed calls whose decision would change");
    const out = await runCli(["suggest", "--since", "7d", "--out", ".claude/downscoping.yaml"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(out.code, out.stderr).toBe(0);
    const lint = await runCli(["lint", ".claude/downscoping.yaml"], { env: sb.env, cwd: sb.project });
    expect(lint.stderr).toContain(" 0 errors");
    const test = await runCli(["test"], { env: sb.env, cwd: sb.project });
    expect(test.stdout).toMatch(/(\d+)\/\1 tests passed/);
    expect(test.code).toBe(0);
    const attacks = await runCli(["test", "--attacks", "--policy", ".claude/downscoping.yaml"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(attacks.stdout, attacks.stdout).toMatch(/^attack pack: (\d+)\/\1 blocked/);
    const trust = await runCli(["trust"], { env: sb.env, cwd: sb.project });
    expect(trust.code, trust.stderr).toBe(0);
  }, 60_000);
});

describe("suggest for an MCP service", () => {
  it("allows the tools that were used, keeps the review of the others", async () => {
    const policy = `version: 1
services:
  mcp:
    server: github
    token_slots: { ro: { env_var: GITHUB_TOKEN_READONLY } }
    default_slot: ro
    rules: [ { name: merges reviewed, match: { tools: [merge_pr] }, action: review } ]
`;
    const sb = sandboxWithTrail(policy, [
      { event: "mcp", service: "github", tool: "list_prs", action: "allow", slot: "ro" },
      { event: "mcp", service: "github", tool: "get_pr", action: "allow", slot: "ro" },
      { event: "mcp", service: "github", tool: "merge_pr", action: "review" },
    ]);
    const { doc } = await suggestDoc(sb);
    expect(doc.services.mcp!.rules.map((r) => [r.action, r.match.tools])).toEqual([
      ["review", ["merge_pr"]],
      ["allow", ["get_pr", "list_prs"]],
    ]);
    expect(doc.tests).toEqual(
      expect.arrayContaining([
        { tool: "list_prs", server: "github", expect: "allow", slot: "ro" },
        { tool: "merge_pr", server: "github", expect: "review" },
      ]),
    );
  });
});

describe("suggest: AWS service models and bad input", () => {
  it("reads the models named by DOWNSCOPE_AWS_MODELS (plain or gzipped), signing name as the prefix", async () => {
    const sb = sandboxWithTrail();
    const models = join(sb.root, "models");
    const { gzipSync } = await import("node:zlib");
    const write = (svc: string, version: string, doc: unknown, gz: boolean) => {
      mkdirSync(join(models, svc, version), { recursive: true });
      const text = JSON.stringify(doc);
      if (gz) writeFileSync(join(models, svc, version, "service-2.json.gz"), gzipSync(text));
      else writeFileSync(join(models, svc, version, "service-2.json"), text);
    };
    write("sts", "2011-06-15", { metadata: { endpointPrefix: "sts" }, operations: { GetCallerIdentity: {} } }, false);
    write("ec2", "2015-01-01", { metadata: { endpointPrefix: "ec2" }, operations: { DescribeOld: {} } }, false);
    write(
      "ec2",
      "2016-11-15",
      { metadata: { endpointPrefix: "ec2" }, operations: { DescribeInstances: {}, DescribeVpcs: {} } },
      true,
    );
    write(
      "logs",
      "2014-03-28",
      { metadata: { endpointPrefix: "logs", signingName: "logs" }, operations: { DescribeLogGroups: {} } },
      true,
    );
    sb.env.DOWNSCOPE_AWS_MODELS = models;
    const { doc, text } = await suggestDoc(sb);
    expect(doc.services.aws!.inline_policy!.Statement[0]!.Action).toEqual([
      "ec2:DescribeInstances",
      "ec2:DescribeVpcs",
      "logs:DescribeLogGroups",
      "s3:ListAllMyBuckets",
      "s3:ListBucket",
    ]);
    expect(text).toContain(`from the service models in ${models}`);
  });

  it("without the models, the current session policy stays and the output says why", async () => {
    const sb = sandboxWithTrail();
    sb.env.PATH = "/usr/bin:/bin";
    sb.env.DOWNSCOPE_AWS_MODELS = join(sb.root, "nowhere");
    const { doc, text } = await suggestDoc(sb);
    expect(doc.services.aws!.inline_policy).toBeUndefined();
    expect(text).toContain("policy_file: aws/read-only.json");
    expect(text).toContain("the AWS CLI's service models were not found (set DOWNSCOPE_AWS_MODELS");
  });

  it("a broken policy is a config error with its position; unknown flags are usage errors", async () => {
    const sb = sandboxWithTrail("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const r = await runCli(["suggest"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("config.yaml:4:21: services.gh.default_action");
    expect(r.stdout).toBe("");
    const u = await runCli(["suggest", "--bogus"], { env: sb.env, cwd: sb.project });
    expect(u.code).toBe(64);
    expect(u.stderr).toContain("usage: downscope suggest");
  });
});
