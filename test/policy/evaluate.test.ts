import { describe, expect, it } from "vitest";
import { decide } from "../../src/policy/evaluate.js";
import { splitExample } from "../../src/policy/lint.js";
import { EXAMPLE, layer, policyOf } from "../helpers/policy.js";

const example = policyOf(layer(EXAMPLE));
const cli = (cmd: string) => {
  const [binary = "", ...args] = splitExample(cmd);
  return { kind: "cli" as const, binary, args };
};

describe("the existing format decides as its users expect", () => {
  // command | action | rule (or source) | slot
  const table: [string, string, string, string | undefined][] = [
    ["gh pr list", "allow", "default_action of gh", "readonly"],
    ["gh repo delete o/r --yes", "deny", "repo deletion denied", undefined],
    ["gh repo rename x", "deny", "repo deletion denied", undefined],
    ["gh pr merge 12", "review", "pr merge needs a human", undefined],
    ["gh pr create --fill", "allow", "writes use the org-write token", "org-write"],
    ["gh issue edit 3", "allow", "writes use the org-write token", "org-write"],
    ["gh auth token", "deny", "gh auth", undefined],
    ["aws s3 ls", "allow", "default_action of aws", undefined],
    ["aws iam delete-user --user-name bob", "deny", "iam writes denied", undefined],
    ["aws --profile prod s3 ls", "deny", "aws --profile", undefined],
    ["kubectl get pods", "allow", "default_action of kubectl", "viewer"],
    ["kubectl --kubeconfig /root/.kube/admin get pods", "deny", "kubectl credential flags", undefined],
    ["kubectl config view --raw", "deny", "kubectl config view --raw", undefined],
    ["gcloud storage ls", "allow", "default_action of gcloud", undefined],
    ["gcloud auth print-access-token", "deny", "gcloud auth", undefined],
  ];
  it.each(table)("%s → %s (%s)", (cmd, action, rule, slot) => {
    const d = decide(example, cli(cmd));
    expect(d.action).toBe(action);
    expect(d.rule?.name).toBe(rule);
    expect(d.grant?.slot).toBe(slot);
  });

  it("a binary no service names is not a service", () => {
    expect(decide(example, cli("git status"))).toMatchObject({ service: undefined, source: "none" });
  });

  it("MCP tools match by server and tool name", () => {
    const d = decide(example, { kind: "mcp", server: "github", tool: "merge_pr", arguments: {} });
    expect(d).toMatchObject({ service: "mcp", action: "review" });
    expect(decide(example, { kind: "mcp", server: "github", tool: "list_prs", arguments: {} }).grant?.slot).toBe("ro");
  });
});

describe("structured matcher", () => {
  const p = policyOf(
    layer(`
version: 1
services:
  gh:
    token_slots: { ro: { env_var: A }, rw: { env_var: B } }
    default_slot: ro
    rules:
      - { name: no merge, match: { command: [pr, merge] }, action: deny }
      - { name: no force, match: { flags: [--force, -f] }, action: deny }
      - { name: no api delete, match: { command: [api], flags: ["--method=DELETE"] }, action: deny }
      - { name: create, match: { command: [pr, create] }, action: allow, slot: rw }
`),
  );
  const table: [string, string, string | undefined][] = [
    ["gh pr merge 1", "deny", "no merge"],
    ["gh pr   merge", "deny", "no merge"],
    ["gh --repo o/r pr merge", "deny", "no merge"],
    ["gh -R o/r pr merge", "deny", "no merge"],
    ["gh --unknown-flag value pr merge", "deny", "no merge"],
    ["gh pr --unknown merge", "deny", "no merge"],
    ["gh pr merge --repo=o/r", "deny", "no merge"],
    ["gh pr view merge", "allow", undefined],
    ["gh push --force", "deny", "no force"],
    ["gh push -f", "deny", "no force"],
    ["gh push -fq", "deny", "no force"],
    ["gh api --method DELETE repos/o/r", "deny", "no api delete"],
    ["gh api --method=delete repos/o/r", "deny", "no api delete"],
    ["gh api --method GET repos/o/r", "allow", undefined],
    ["gh pr create", "allow", "create"],
    ["gh -R o/r pr create", "allow", "create"],
    ["gh -- pr merge", "deny", "no merge"],
  ];
  it.each(table)("%s → %s", (cmd, action, rule) => {
    const d = decide(p, cli(cmd));
    expect(d.action).toBe(action);
    if (rule) expect(d.rule?.name).toBe(rule);
  });

  it("an allow rule is not widened by an unknown flag that could take a value", () => {
    // greedy reading sees [create] after `--weird pr`, so the write grant does not apply
    const d = decide(p, cli("gh --weird pr create"));
    expect(d.grant?.slot).toBe("ro");
  });
});

/**
 * Bypass: a broad read rule (`aws ["*", "get-*"]`) re-opened guarded commands
 * such as `aws sts get-session-token` because any explicit allow beat a guard.
 * Fix: only an allow rule with `override_guards: true` (trusted) does.
 */
describe("built-in guards yield only to override_guards", () => {
  const yaml = (extra: string) => `
version: 1
services:
  aws:
    downscope_mode: none
    rules:
      - { name: reads, match: { command: ["*", "get-session-token|get-caller-identity"] }, action: allow${extra} }
`;
  const inv = cli("aws sts get-session-token");
  it("a broad allow does not re-open a guard", () => {
    expect(decide(policyOf(layer(yaml(""))), inv)).toMatchObject({ action: "deny", source: "guard" });
  });
  it("override_guards in a trusted layer does", () => {
    expect(decide(policyOf(layer(yaml(", override_guards: true"))), inv)).toMatchObject({
      action: "allow",
      source: "rule",
    });
  });
  it("override_guards in an untrusted layer does not", () => {
    expect(decide(policyOf(layer(yaml(", override_guards: true"), "project", false)), inv)).toMatchObject({
      action: "deny",
      source: "guard",
    });
  });
});

/** Credential-printing doors beyond the first list (found by the attack pack's authors). */
describe("more built-in guards", () => {
  const p = policyOf(
    layer("version: 1\nservices:\n  aws: { downscope_mode: none }\n  gcloud: { downscope_mode: none }\n"),
  );
  it.each([
    ["aws ecr get-login-password", "aws ecr get-login-password"],
    ["aws eks get-token --cluster-name c", "aws eks get-token"],
    ["aws sts assume-role --role-arn arn:aws:iam::1:role/x --role-session-name s", "aws sts credential minting"],
    ["aws codeartifact get-authorization-token --domain d", "aws codeartifact get-authorization-token"],
    ["gcloud config config-helper --format json", "gcloud config config-helper"],
    ["gcloud beta config config-helper", "gcloud alpha/beta config config-helper"],
  ])("%s → %s", (cmd, guard) => {
    expect(decide(p, cli(cmd))).toMatchObject({ action: "deny", source: "guard", rule: { name: guard } });
  });
});
