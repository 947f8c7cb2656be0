import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

async function lint(yaml: string) {
  const s = sandbox();
  const file = s.write("project/.claude/downscoping.yaml", yaml);
  return runCli(["lint", file], { env: s.env, cwd: s.project });
}

describe("downscope lint: GCP checks", () => {
  it("points at the line of a non-storage role and a bad resource", async () => {
    const r = await lint(`version: 1
services:
  gcloud:
    downscope_mode: credential_access_boundary
    access_boundary:
      - available_resource: //storage.googleapis.com/projects/_/buckets/logs
        available_permissions:
          - inRole:roles/storage.objectViewer
          - inRole:roles/editor
      - available_resource: projects/_/buckets/logs
        available_permissions: [inRole:roles/storage.objectViewer]
`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'downscoping.yaml:9:13: services.gcloud.access_boundary[0].available_permissions[1]: "roles/editor" is not a Cloud Storage role',
    );
    expect(r.stderr).toMatch(
      /downscoping\.yaml:10:29: services\.gcloud\.access_boundary\[1\]\.available_resource: "projects\/_\/buckets\/logs" is not a bucket resource name/,
    );
  });

  it("rejects more than 10 rules with the schema's message", async () => {
    const rules = Array.from(
      { length: 11 },
      (_, i) =>
        `      - { available_resource: //storage.googleapis.com/projects/_/buckets/b${i}xx, available_permissions: [inRole:roles/storage.objectViewer] }`,
    ).join("\n");
    const r = await lint(
      `version: 1\nservices:\n  gcloud:\n    downscope_mode: credential_access_boundary\n    access_boundary:\n${rules}\n`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Google accepts at most 10 access boundary rules per token");
  });

  it("errors on an allow rule that could never get a credential, warns on ignored fields", async () => {
    const r = await lint(`version: 1
services:
  gcloud:
    downscope_mode: credential_access_boundary
    default_action: deny
    rules:
      - name: reads
        match: { command: [storage, ls] }
        scopes: [cloud-platform.read-only]
`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('allow rule "reads" has no access_boundary and the service has none');
    expect(r.stderr).toContain("warning:");
    expect(r.stderr).toContain("ignored: scopes apply only with downscope_mode oauth_scope");
  });

  it("warns that cloud-platform narrows nothing and that oauth_scope without a target needs a key", async () => {
    const r = await lint(`version: 1
services:
  gcloud:
    downscope_mode: oauth_scope
    scopes: [cloud-platform]
`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("cloud-platform is the full scope: it narrows nothing");
    expect(r.stderr).toContain("no target_service_account");
  });

  it("the shipped GCP example policies lint clean", async () => {
    const dir = join(import.meta.dirname, "../../policies/gcp");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const r = await lint(readFileSync(join(dir, f), "utf8"));
      expect(r.stderr, f).toContain(": 0 errors, 0 warnings");
    }
  });
});
