/*
 * Bypass (issue 14): an `args_pattern` rule was a regex over the joined
 * arguments, so a flag between the subcommand words dodged it:
 * `gh pr --repo octo/app merge 12` did not match `pr merge` and ran.
 * Fix: the regex is also tried on each reading's positionals (flags and their
 * values removed, as `command:` rules read them); a deny/review rule matches
 * if any string matches, an allow rule only if the literal string and the
 * known and greedy readings all do. Proves: the five commands of the issue
 * are stopped under a seed-style policy, and so is every placement of a flag
 * (before, between, after the subcommand words) for each built-in CLI; an
 * allow rule is not widened by a flag value that spells its pattern.
 */
import { describe, expect, it } from "vitest";
import { decide } from "../../src/policy/evaluate.js";
import { splitExample } from "../../src/policy/lint.js";
import { layer, policyOf } from "../helpers/policy.js";

const cli = (cmd: string) => {
  const [binary = "", ...args] = splitExample(cmd);
  return { kind: "cli" as const, binary, args };
};

// The seed's style: regexes over the argument string, default allow.
const SEED = policyOf(
  layer(`
version: 1
services:
  gh:
    token_slots:
      readonly:  { env_var: GITHUB_TOKEN_READONLY }
      org-write: { env_var: GITHUB_TOKEN_ORG_WRITE }
    default_slot: readonly
    rules:
      - { name: repo deletion denied, match: { args_pattern: "repo (delete|rename)" }, action: deny }
      - { name: pr merge needs a human, match: { args_pattern: "pr merge" }, action: review }
      - { name: writes, match: { args_pattern: "^(pr|issue) (create|edit|comment)" }, action: allow, slot: org-write }
      - { name: view of one pr, match: { args_pattern: "pr view" }, action: allow, slot: org-write }
  aws:
    downscope_mode: sts_policy
    inline_policy: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: ["s3:Get*"], Resource: "*" } ] }
    rules:
      - { name: iam writes denied, match: { args_pattern: "iam (create|delete|put|attach|detach)" }, action: deny }
      - { name: instance termination reviewed, match: { args_pattern: "ec2 terminate-instances" }, action: review }
  gcloud:
    downscope_mode: oauth_scope
    scopes: [https://www.googleapis.com/auth/cloud-platform.read-only]
    rules:
      - { name: project deletion denied, match: { args_pattern: "projects delete" }, action: deny }
      - { name: vm deletion reviewed, match: { args_pattern: "compute instances delete" }, action: review }
  kubectl:
    token_slots: { viewer: { env_var: KUBE_TOKEN_VIEWER } }
    default_slot: viewer
    rules:
      - { name: namespace deletion denied, match: { args_pattern: "delete (namespace|ns)" }, action: deny }
      - { name: exec reviewed, match: { args_pattern: "^exec " }, action: review }
`),
);

const decided = (cmd: string) => {
  const d = decide(SEED, cli(cmd));
  return `${d.action} (${d.source === "rule" || d.source === "guard" ? d.rule?.name : d.source})`;
};

describe("args_pattern sees through flag placement", () => {
  it("the five commands of the issue are denied or reviewed", () => {
    expect(
      [
        "gh pr --repo octo/app merge 12",
        "gh pr -R octo/app merge 12 --squash",
        "gh repo --help=false delete octo/app --yes",
        "aws iam --region us-east-1 delete-user --user-name bob",
        "gcloud projects --verbosity=error delete my-proj",
      ].map(decided),
    ).toEqual([
      "review (pr merge needs a human)",
      "review (pr merge needs a human)",
      "deny (repo deletion denied)",
      "deny (iam writes denied)",
      "deny (project deletion denied)",
    ]);
  });

  // command | decision: flags before, between and after the subcommand words
  // (known value flags, unknown flags with and without a value, --flag=value).
  const table: [string, string][] = [
    // gh
    ["gh repo delete octo/app", "deny (repo deletion denied)"],
    ["gh --repo octo/app repo delete", "deny (repo deletion denied)"],
    ["gh repo --yes delete octo/app", "deny (repo deletion denied)"],
    ["gh repo -R octo/app delete", "deny (repo deletion denied)"],
    ["gh repo --unknown value delete", "deny (repo deletion denied)"],
    ["gh repo --x=1 rename new", "deny (repo deletion denied)"],
    ["gh repo delete --yes octo/app", "deny (repo deletion denied)"],
    ["gh pr merge 12", "review (pr merge needs a human)"],
    ["gh -R octo/app pr merge 12", "review (pr merge needs a human)"],
    ["gh pr --unknown merge 12", "review (pr merge needs a human)"],
    ["gh pr --body x merge 12", "review (pr merge needs a human)"],
    ["gh pr merge --admin 12", "review (pr merge needs a human)"],
    // aws
    ["aws iam delete-user --user-name bob", "deny (iam writes denied)"],
    ["aws --region us-east-1 iam delete-user", "deny (iam writes denied)"],
    ["aws iam --profile x create-access-key", "deny (iam writes denied)"],
    ["aws iam --debug attach-user-policy", "deny (iam writes denied)"],
    ["aws iam --output=json put-user-policy", "deny (iam writes denied)"],
    ["aws iam detach-role-policy --region eu-west-1", "deny (iam writes denied)"],
    ["aws ec2 --region eu-west-1 terminate-instances --instance-ids i-1", "review (instance termination reviewed)"],
    ["aws ec2 --no-verify-ssl terminate-instances", "review (instance termination reviewed)"],
    // gcloud
    ["gcloud projects delete my-proj", "deny (project deletion denied)"],
    ["gcloud --project p projects delete my-proj", "deny (project deletion denied)"],
    ["gcloud projects --quiet delete my-proj", "deny (project deletion denied)"],
    ["gcloud projects --format json delete my-proj", "deny (project deletion denied)"],
    ["gcloud compute --zone z instances delete vm", "review (vm deletion reviewed)"],
    ["gcloud compute instances --zone=z delete vm", "review (vm deletion reviewed)"],
    ["gcloud compute instances delete vm --quiet", "review (vm deletion reviewed)"],
    // kubectl
    ["kubectl delete namespace prod", "deny (namespace deletion denied)"],
    ["kubectl -n x delete namespace prod", "deny (namespace deletion denied)"],
    ["kubectl delete --wait=false ns prod", "deny (namespace deletion denied)"],
    ["kubectl delete --grace-period 0 namespace prod", "deny (namespace deletion denied)"],
    ["kubectl delete -n kube-system ns prod", "deny (namespace deletion denied)"],
    ["kubectl --context c exec -it pod -- sh", "review (exec reviewed)"],
    ["kubectl -v 9 exec pod -- sh", "review (exec reviewed)"],
    ["kubectl exec pod -c app -- sh", "review (exec reviewed)"],
    // unchanged: commands the rules do not name
    ["gh pr list --state open", "allow (default)"],
    ["kubectl get pods -n prod", "allow (default)"],
    ["aws s3 ls --region eu-west-1", "allow (default)"],
  ];
  it.each(table)("%s → %s", (cmd, want) => expect(decided(cmd)).toBe(want));

  it("an allow rule matches only when the literal and the flag-free readings agree", () => {
    expect(decided("gh pr create --title x")).toBe("allow (writes)");
    expect(decided("gh -R o/r issue comment 3 --body hi")).toBe("allow (default)"); // literal does not start with issue
    expect(decided("gh pr view 12 --web")).toBe("allow (view of one pr)");
    // The pattern spelled inside a flag value must not widen the grant.
    expect(decide(SEED, cli("gh pr close 12 --body 'pr view'")).grant?.slot).toBe("readonly");
    expect(decide(SEED, cli("gh pr close 12 --subject 'pr view'")).grant?.slot).toBe("readonly");
  });

  it("a restrictive pattern still matches what only the literal string shows (flags)", () => {
    const p = policyOf(
      layer(`
version: 1
services:
  gh:
    token_slots: { ro: { env_var: A } }
    default_slot: ro
    rules: [ { name: no show-token, match: { args_pattern: "--show-token" }, action: deny } ]
`),
    );
    expect(decide(p, cli("gh auth status --show-token")).action).toBe("deny");
  });
});
