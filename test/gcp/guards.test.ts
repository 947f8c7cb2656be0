/**
 * Bypass: gcloud flags and release tracks that select another credential
 * (--authorization-token-file, --flags-file carrying --account, `gcloud beta
 * auth print-access-token`) were not in the built-in guards, so a default
 * allow ran them. Fix: guards for them. Proves: each is denied by a guard
 * under a default-allow policy, and ordinary commands are not.
 */
import { describe, expect, it } from "vitest";
import { decide } from "../../src/policy/evaluate.js";
import { gcloudLogsViewer, layer, policyOf } from "../helpers/policy.js";

const POLICY = policyOf(layer(gcloudLogsViewer(), "user"));

describe("gcloud guards", () => {
  it.each<[string, string | undefined]>([
    ["storage ls gs://logs", undefined],
    ["--project acme storage ls", undefined],
    ["auth print-access-token", "gcloud auth"],
    ["beta auth print-access-token", "gcloud alpha/beta auth"],
    ["--project acme alpha auth application-default print-access-token", "gcloud alpha/beta auth"],
    ["beta config set account x@y", "gcloud alpha/beta config set"],
    ["beta iam service-accounts keys create k.json --iam-account a@p", "gcloud alpha/beta service account keys create"],
    ["storage ls --account=owner@example.com", "gcloud credential flags"],
    ["storage ls --impersonate-service-account admin@p.iam.gserviceaccount.com", "gcloud credential flags"],
    ["storage ls --access-token-file=/tmp/t", "gcloud credential flags"],
    ["storage ls --authorization-token-file /tmp/t", "gcloud credential flags"],
    ["storage ls --authority-selector x", "gcloud credential flags"],
    ["storage ls --credential-file-override /tmp/k.json", "gcloud credential flags"],
    ["storage ls --configuration prod", "gcloud credential flags"],
    ["storage ls --flags-file flags.yaml", "gcloud --flags-file"],
    ["storage ls --flags-file=flags.yaml", "gcloud --flags-file"],
  ])("gcloud %s", (args, guard) => {
    const d = decide(POLICY, { kind: "cli", binary: "gcloud", args: args.split(" ") });
    if (guard === undefined) expect(d.action).toBe("allow");
    else expect([d.action, d.source, d.rule?.name]).toEqual(["deny", "guard", guard]);
  });
});
