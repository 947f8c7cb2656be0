import { join } from "node:path";
import { appendAudit } from "../../src/audit/log.js";
import type { AuditRecord } from "../../src/audit/record.js";
import { auditSettingsOf } from "../../src/audit/settings.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

/** A starting policy in the developer starter's shape: reads on readonly, PR writes on org-write, AWS read-only. */
export const START = `version: 1
services:
  gh:
    token_slots:
      readonly:  { env_var: GITHUB_TOKEN_READONLY,  inject_as: GH_TOKEN }
      org-write: { env_var: GITHUB_TOKEN_ORG_WRITE, inject_as: GH_TOKEN }
    default_slot: readonly
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
      - { name: pr writes, match: { command: ["pr|issue", "create|edit|comment"] }, slot: org-write }
  aws:
    downscope_mode: sts_policy
    policy_file: aws/read-only.json
    rules:
      - { name: iam writes denied, match: { command: [iam, "create-*|delete-*|attach-*|put-*"] }, action: deny }
  kubectl:
    token_slots: { viewer: { env_var: KUBE_TOKEN_VIEWER } }
    default_slot: viewer
    default_action: review
    rules:
      - { name: reads, match: { command: ["get|describe|logs"] }, action: allow }
`;

/** What a week of work leaves in the trail: exec records of what ran, hook records of what was stopped. */
export const TRAIL: AuditRecord[] = [
  {
    event: "exec",
    service: "gh",
    argv: ["gh", "pr", "list", "--state", "open"],
    layer: "user",
    rule: "default_action of gh",
    action: "allow",
    slot: "readonly",
  },
  {
    event: "exec",
    service: "gh",
    argv: ["gh", "pr", "view", "12"],
    layer: "user",
    rule: "default_action of gh",
    action: "allow",
    slot: "readonly",
  },
  {
    event: "exec",
    service: "gh",
    argv: ["gh", "-R", "octo/app", "issue", "list"],
    layer: "user",
    rule: "default_action of gh",
    action: "allow",
    slot: "readonly",
  },
  {
    event: "exec",
    service: "gh",
    argv: ["gh", "pr", "create", "--fill"],
    layer: "user",
    rule: "pr writes",
    action: "allow",
    slot: "org-write",
  },
  {
    event: "exec",
    service: "gh",
    argv: ["gh", "api", "repos/octo/app/pulls"],
    layer: "user",
    rule: "default_action of gh",
    action: "allow",
    slot: "readonly",
  },
  {
    event: "hook",
    argv: ["gh repo delete octo/app --yes"],
    action: "deny",
  },
  {
    event: "hook",
    argv: ["cd app && gh pr merge 12"],
    action: "review",
  },
  {
    event: "exec",
    service: "aws",
    argv: ["aws", "ec2", "describe-instances", "--region", "eu-west-1"],
    action: "allow",
  },
  {
    event: "exec",
    service: "aws",
    argv: ["aws", "ec2", "describe-vpcs"],
    layer: "user",
    rule: "default_action of aws",
    action: "allow",
  },
  {
    event: "exec",
    service: "aws",
    argv: ["aws", "s3", "ls", "s3://logs"],
    layer: "user",
    rule: "default_action of aws",
    action: "allow",
  },
  {
    event: "exec",
    service: "aws",
    argv: ["aws", "logs", "describe-log-groups"],
    layer: "user",
    rule: "default_action of aws",
    action: "allow",
  },
  {
    event: "hook",
    argv: ["aws iam delete-user --user-name bob"],
    action: "deny",
  },
  {
    event: "exec",
    service: "kubectl",
    argv: ["kubectl", "get", "pods", "-n", "prod"],
    action: "allow",
    slot: "viewer",
  },
  {
    event: "exec",
    service: "kubectl",
    argv: ["kubectl", "logs", "api-7f9", "-n", "prod"],
    action: "allow",
    slot: "viewer",
  },
  { event: "hook", argv: ["kubectl delete pod api-7f9"], action: "review" },
  { event: "hook", argv: ["git status"], action: "allow" },
];

/** A sandbox whose user config is `policy` and whose audit trail holds `trail` (record i at `at(i)`, default now). */
export function sandboxWithTrail(
  policy = START,
  trail = TRAIL,
  at?: (i: number) => Date,
): Sandbox & { policyFile: string } {
  const sb = sandbox();
  const policyFile = sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), policy);
  const settings = auditSettingsOf(undefined, sb.env);
  trail.forEach((r, i) => appendAudit(r, { env: sb.env, settings, ...(at ? { now: () => at(i) } : {}) }));
  return { ...sb, policyFile };
}
