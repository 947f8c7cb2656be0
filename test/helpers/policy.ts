import { parseConfig } from "../../src/policy/parse.js";
import type { Layer, LayerName, Policy } from "../../src/policy/policy.js";

/** A policy from YAML text, as one layer (trusted unless said otherwise). */
export function layer(yaml: string, name: LayerName = "project", trusted = true): Layer {
  const r = parseConfig(yaml, `${name}.yaml`);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return { name, file: `/${name}.yaml`, trusted, config: r.config, sha256: "" };
}

export function policyOf(...layers: Layer[]): Policy {
  return { layers, warnings: [] };
}

export const EXAMPLE = `
version: 1
services:
  gh:
    downscope_mode: token_slot
    token_slots:
      readonly:  { env_var: GITHUB_TOKEN_READONLY,  inject_as: GH_TOKEN }
      org-write: { env_var: GITHUB_TOKEN_ORG_WRITE, inject_as: GH_TOKEN }
    default_slot: readonly
    rules:
      - name: repo deletion denied
        match: { args_pattern: "repo (delete|rename)" }
        action: deny
      - name: pr merge needs a human
        match: { args_pattern: "pr merge" }
        action: review
      - name: writes use the org-write token
        match: { args_pattern: "pr (create|edit)|issue (create|edit)" }
        action: allow
        slot: org-write
  aws:
    downscope_mode: sts_policy
    inline_policy: { Version: "2012-10-17", Statement: [ { Effect: Allow, Action: ["s3:Get*", "s3:List*"], Resource: "*" } ] }
    rules: [ { name: iam writes denied, match: { args_pattern: "iam (create|delete|put|attach|detach)" }, action: deny } ]
  gcloud:   { downscope_mode: credential_access_boundary, access_boundary: [ { available_resource: "//storage.googleapis.com/projects/_/buckets/logs", available_permissions: ["inRole:roles/storage.objectViewer"] } ] }
  kubectl:  { downscope_mode: token_slot, token_slots: { viewer: { env_var: KUBE_TOKEN_VIEWER } }, default_slot: viewer }
  mcp:      { downscope_mode: token_slot, server: github, token_slots: { ro: { env_var: GITHUB_TOKEN_READONLY, inject_as: GITHUB_TOKEN } }, default_slot: ro, rules: [ { name: merges need review, match: { tools: [merge_pr] }, action: review } ] }
`;

/**
 * A gcloud service narrowed by a Credential Access Boundary to reading the
 * "logs" bucket, with `extra` keys (YAML lines) under the service.
 */
export function gcloudLogsViewer(extra: string[] = []): string {
  return `version: 1
services:
  gcloud:
    downscope_mode: credential_access_boundary
${extra.map((l) => `    ${l}\n`).join("")}    access_boundary:
      - { available_resource: //storage.googleapis.com/projects/_/buckets/logs, available_permissions: [inRole:roles/storage.objectViewer] }
`;
}
