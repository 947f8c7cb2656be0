import { describe, expect, it } from "vitest";
import { gcpCacheKeyParts, gcpRequestFor, toCredentialAccessBoundary } from "../../src/credentials/gcp-boundary.js";
import { CredentialUnavailable } from "../../src/errors.js";
import { decide } from "../../src/policy/evaluate.js";
import { boundaryProblems, normalizeScopes } from "../../src/policy/lint-gcp.js";
import type { AccessBoundaryRule } from "../../src/policy/schema.js";
import { layer, policyOf } from "../helpers/policy.js";

const bucket = (b: string, role = "roles/storage.objectViewer"): AccessBoundaryRule => ({
  available_resource: `//storage.googleapis.com/projects/_/buckets/${b}`,
  available_permissions: [`inRole:${role}`],
});

describe("boundaryProblems", () => {
  it.each<[string, AccessBoundaryRule[], string | undefined]>([
    ["a valid bucket rule", [bucket("logs")], undefined],
    ["dotted bucket names", [bucket("reports.example.com")], undefined],
    ["no rules", [], "error: an access boundary needs at least one rule"],
    ["11 rules", Array.from({ length: 11 }, (_, i) => bucket(`b${i}x`)), "error: 11 rules: Google accepts at most 10"],
    [
      "a project resource",
      [{ ...bucket("x"), available_resource: "//cloudresourcemanager.googleapis.com/projects/p" }],
      'error: "//cloudresourcemanager.googleapis.com/projects/p" is not a bucket resource name',
    ],
    [
      "an object path as resource",
      [{ ...bucket("x"), available_resource: "//storage.googleapis.com/projects/_/buckets/logs/objects/a" }],
      'error: "//storage.googleapis.com/projects/_/buckets/logs/objects/a" is not a bucket resource name',
    ],
    ["an upper-case bucket", [bucket("Logs")], 'error: "Logs" is not a valid bucket name'],
    ["a too short bucket", [bucket("ab")], 'error: "ab" is not a valid bucket name'],
    [
      "a bare role",
      [{ ...bucket("logs"), available_permissions: ["roles/storage.objectViewer"] }],
      'error: "roles/storage.objectViewer": permissions are written inRole:',
    ],
    [
      "a non-storage role",
      [bucket("logs", "roles/compute.viewer")],
      'error: "roles/compute.viewer" is not a Cloud Storage role',
    ],
    [
      "an unknown storage role",
      [bucket("logs", "roles/storage.madeUp")],
      'warning: "roles/storage.madeUp" is not a predefined Cloud Storage role',
    ],
    [
      "a blank condition with a title",
      [{ ...bucket("logs"), availability_condition: { expression: "  ", title: "t" } }],
      "error: a condition with a title or description needs a CEL expression",
    ],
    [
      "a condition on something else",
      [
        {
          ...bucket("logs"),
          availability_condition: { expression: "request.time < timestamp('2030-01-01T00:00:00Z')" },
        },
      ],
      "warning: access boundary conditions can only test resource.name",
    ],
    [
      "a resource.name condition",
      [
        {
          ...bucket("logs"),
          availability_condition: { expression: "resource.name.startsWith('projects/_/buckets/logs/objects/a/')" },
        },
      ],
      undefined,
    ],
  ])("%s", (_name, rules, expected) => {
    const got = boundaryProblems(rules).map((p) => `${p.severity}: ${p.message}`);
    if (expected === undefined) expect(got).toEqual([]);
    else expect(got.some((g) => g.startsWith(expected))).toBe(true);
  });
});

describe("toCredentialAccessBoundary", () => {
  it("maps snake_case policy rules to the camelCase STS options", () => {
    expect(
      toCredentialAccessBoundary([
        {
          ...bucket("logs"),
          availability_condition: { expression: "resource.name.startsWith('x')", title: "t", description: "d" },
        },
        bucket("inbox", "roles/storage.objectCreator"),
      ]),
    ).toEqual({
      accessBoundary: {
        accessBoundaryRules: [
          {
            availableResource: "//storage.googleapis.com/projects/_/buckets/logs",
            availablePermissions: ["inRole:roles/storage.objectViewer"],
            availabilityCondition: { expression: "resource.name.startsWith('x')", title: "t", description: "d" },
          },
          {
            availableResource: "//storage.googleapis.com/projects/_/buckets/inbox",
            availablePermissions: ["inRole:roles/storage.objectCreator"],
          },
        ],
      },
    });
  });

  it("refuses a boundary STS would refuse, before any token is exchanged", () => {
    expect(() => toCredentialAccessBoundary([bucket("logs", "roles/owner")])).toThrow(CredentialUnavailable);
    expect(() => toCredentialAccessBoundary([bucket("logs", "roles/owner")])).toThrow(
      'invalid access boundary: rule 0: "roles/owner" is not a Cloud Storage role',
    );
  });
});

const POLICY = layer(
  `
version: 1
services:
  gcloud:
    downscope_mode: credential_access_boundary
    access_boundary:
      - { available_resource: //storage.googleapis.com/projects/_/buckets/reports, available_permissions: [inRole:roles/storage.objectViewer] }
    rules:
      - name: uploads
        match: { command: [storage, cp] }
        access_boundary:
          - { available_resource: //storage.googleapis.com/projects/_/buckets/inbox, available_permissions: [inRole:roles/storage.objectCreator] }
  gscope:
    binary: gscope
    downscope_mode: oauth_scope
    target_service_account: ro@p.iam.gserviceaccount.com
    scopes: [cloud-platform.read-only]
    rules:
      - { name: compute, match: { command: [compute] }, scopes: [compute.readonly, https://www.googleapis.com/auth/devstorage.read_only] }
  gnone:
    binary: gnone
    downscope_mode: credential_access_boundary
`,
  "user",
);

const grantFor = (binary: string, args: string[]) => decide(policyOf(POLICY), { kind: "cli", binary, args }).grant!;

describe("gcpRequestFor", () => {
  it.each<[string, string[], string]>([
    ["gcloud", ["storage", "ls", "gs://reports"], "service//storage.googleapis.com/projects/_/buckets/reports"],
    ["gcloud", ["storage", "cp", "a", "gs://inbox/"], "rule//storage.googleapis.com/projects/_/buckets/inbox"],
  ])("%s %j uses the %s boundary", (bin, args, expected) => {
    const req = gcpRequestFor(grantFor(bin, args));
    if (req.mode !== "credential_access_boundary") throw new Error("wrong mode");
    expect(req.from + req.boundary.accessBoundary.accessBoundaryRules[0]!.availableResource).toBe(expected);
  });

  it("picks the rule's scopes over the service's, normalized", () => {
    expect(gcpRequestFor(grantFor("gscope", ["compute", "instances", "list"]))).toEqual({
      mode: "oauth_scope",
      from: "rule",
      targetServiceAccount: "ro@p.iam.gserviceaccount.com",
      scopes: [
        "https://www.googleapis.com/auth/compute.readonly",
        "https://www.googleapis.com/auth/devstorage.read_only",
      ],
    });
    expect(gcpRequestFor(grantFor("gscope", ["projects", "list"]))).toMatchObject({
      from: "service",
      scopes: ["https://www.googleapis.com/auth/cloud-platform.read-only"],
    });
  });

  it("refuses a grant with no boundary anywhere", () => {
    expect(() => gcpRequestFor(grantFor("gnone", ["storage", "ls"]))).toThrow(
      'service "gnone": no access_boundary on the rule or the service',
    );
  });
});

describe("cache key", () => {
  it("changes with the boundary, the source, the scopes and the target; not otherwise", () => {
    const ls = gcpRequestFor(grantFor("gcloud", ["storage", "ls"]));
    const ls2 = gcpRequestFor(grantFor("gcloud", ["storage", "cat", "gs://reports/a"]));
    const cp = gcpRequestFor(grantFor("gcloud", ["storage", "cp", "a", "gs://inbox/"]));
    const key = (r: typeof ls, src = "file:a") => JSON.stringify(gcpCacheKeyParts(r, src));
    expect(key(ls)).toBe(key(ls2));
    expect(key(ls)).not.toBe(key(cp));
    expect(key(ls)).not.toBe(key(ls, "file:b"));
    const ro = gcpRequestFor(grantFor("gscope", ["projects", "list"]));
    const compute = gcpRequestFor(grantFor("gscope", ["compute", "x"]));
    expect(key(ro)).not.toBe(key(compute));
    expect(key(ro)).not.toBe(key({ ...ro, targetServiceAccount: "other@p.iam.gserviceaccount.com" } as typeof ro));
  });
});

describe("normalizeScopes", () => {
  it.each<[string[], string[]]>([
    [["cloud-platform.read-only"], ["https://www.googleapis.com/auth/cloud-platform.read-only"]],
    [
      ["https://www.googleapis.com/auth/devstorage.read_only", "openid"],
      ["https://www.googleapis.com/auth/devstorage.read_only", "openid"],
    ],
    [["compute.readonly", "compute.readonly"], ["https://www.googleapis.com/auth/compute.readonly"]],
  ])("%j", (input, out) => expect(normalizeScopes(input)).toEqual(out));
});
