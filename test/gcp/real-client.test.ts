/**
 * The real google-auth-library, no network: a child Node process runs the GCP
 * provider against the fake Google of fake-google.ts (reached through the
 * library's own HTTPS_PROXY support). Proves what is sent to STS, and the
 * messages for the failures users will meet.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import {
  DOWNSCOPED_PREFIX,
  fakeAdc,
  IMPERSONATED_TOKEN,
  SOURCE_TOKEN,
  startFakeGoogle,
  type FakeGoogle,
} from "./fake-google.js";

const repo = join(import.meta.dirname, "../..");
const driver = join(repo, "test/.e2e/gcp-mint-driver.mjs");
let google: FakeGoogle;

beforeAll(async () => {
  mkdirSync(join(repo, "test/.e2e"), { recursive: true });
  await build({
    entryPoints: [join(import.meta.dirname, "mint-driver.ts")],
    outfile: driver,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  google = await startFakeGoogle();
});
afterAll(async () => {
  await google?.close();
});

const BOUNDARY = `
      - available_resource: //storage.googleapis.com/projects/_/buckets/reports
        available_permissions: [inRole:roles/storage.objectViewer]
        availability_condition:
          title: only 2024
          expression: resource.name.startsWith('projects/_/buckets/reports/objects/2024/')
`;

function policy(s: Sandbox, service: string): string {
  return s.write("home/.config/downscope/config.yaml", `version: 1\nservices:\n  gcloud:\n${service}`);
}

interface Result {
  token?: string;
  expiresAt?: string;
  error?: string;
  kind?: string;
}

// Asynchronous: the fake Google answers from this process's event loop.
async function mint(s: Sandbox, file: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const { stdout } = await promisify(execFile)(process.execPath, [driver, file, ...args], {
    cwd: s.project,
    env: { ...s.env, ...google.env, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Result;
}

function withAdc(s: Sandbox, refreshToken?: string): Record<string, string> {
  return { GOOGLE_APPLICATION_CREDENTIALS: s.write("home/adc.json", fakeAdc(refreshToken), 0o600) };
}

describe("credential_access_boundary through the real DownscopedClient", async () => {
  it("sends the configured boundary as options.accessBoundary and returns the downscoped token", async () => {
    const s = sandbox();
    const file = policy(s, `    downscope_mode: credential_access_boundary\n    access_boundary:${BOUNDARY}`);
    const before = google.requests.length;
    const r = await mint(s, file, ["storage", "ls", "gs://reports"], withAdc(s));
    expect(r.error).toBeUndefined();
    expect(r.token).toMatch(new RegExp(`^${DOWNSCOPED_PREFIX}\\d+$`));
    const sent = google.requests.slice(before);
    expect(sent.map((q) => `${q.host}${q.path}`)).toEqual([
      "oauth2.googleapis.com/token",
      "sts.googleapis.com/v1/token",
    ]);
    const sts = sent[1]!;
    expect(sts.form.subject_token).toBe(SOURCE_TOKEN);
    expect(sts.form.grant_type).toBe("urn:ietf:params:oauth:grant-type:token-exchange");
    expect(JSON.parse(sts.form.options!)).toEqual({
      accessBoundary: {
        accessBoundaryRules: [
          {
            availableResource: "//storage.googleapis.com/projects/_/buckets/reports",
            availablePermissions: ["inRole:roles/storage.objectViewer"],
            availabilityCondition: {
              title: "only 2024",
              expression: "resource.name.startsWith('projects/_/buckets/reports/objects/2024/')",
            },
          },
        ],
      },
    });
  });

  it("uses the rule's boundary instead of the service's, and caches per boundary", async () => {
    const s = sandbox();
    const file = policy(
      s,
      `    downscope_mode: credential_access_boundary
    access_boundary:${BOUNDARY}
    rules:
      - name: upload to inbox
        match: { command: [storage, cp] }
        access_boundary:
          - available_resource: //storage.googleapis.com/projects/_/buckets/inbox
            available_permissions: [inRole:roles/storage.objectCreator]
`,
    );
    const env = withAdc(s);
    const before = google.requests.length;
    const cp = await mint(s, file, ["storage", "cp", "a.txt", "gs://inbox/"], env);
    const ls = await mint(s, file, ["storage", "ls", "gs://reports"], env);
    const cpAgain = await mint(s, file, ["storage", "cp", "b.txt", "gs://inbox/"], env);
    const exchanges = google.requests.slice(before).filter((q) => q.host === "sts.googleapis.com");
    // Two boundaries, two exchanges: the third call is served from the private cache.
    expect(exchanges).toHaveLength(2);
    const resources = exchanges.map(
      (q) =>
        (JSON.parse(q.form.options!) as { accessBoundary: { accessBoundaryRules: { availableResource: string }[] } })
          .accessBoundary.accessBoundaryRules[0]!.availableResource,
    );
    expect(resources).toEqual([
      "//storage.googleapis.com/projects/_/buckets/inbox",
      "//storage.googleapis.com/projects/_/buckets/reports",
    ]);
    expect(cp.token).not.toBe(ls.token);
    expect(cpAgain.token).toBe(cp.token);
  });

  it("reports an STS refusal as a clear error naming the boundary, never a token", async () => {
    const s = sandbox();
    const file = policy(
      s,
      `    downscope_mode: credential_access_boundary
    access_boundary:
      - available_resource: //storage.googleapis.com/projects/_/buckets/refused-bucket
        available_permissions: [inRole:roles/storage.objectViewer]
`,
    );
    const r = await mint(s, file, ["storage", "ls"], withAdc(s));
    expect(r.kind).toBe("CredentialUnavailable");
    expect(r.error).toContain("Google STS refused the access boundary of the service (HTTP 400)");
    expect(r.error).toContain("The access boundary rules are invalid (fake STS refusal)");
    expect(r.error).not.toContain(SOURCE_TOKEN);
  });

  it("says how to fix a source credential that can no longer be refreshed", async () => {
    const s = sandbox();
    const file = policy(s, `    downscope_mode: credential_access_boundary\n    access_boundary:${BOUNDARY}`);
    const r = await mint(s, file, ["storage", "ls"], withAdc(s, "fake-refresh-token-revoked"));
    expect(r.kind).toBe("CredentialUnavailable");
    expect(r.error).toMatch(/could not produce an access token: .*invalid_grant/);
    expect(r.error).toContain("gcloud auth application-default login");
  });

  it("says there is no ADC when none is found (no file, no metadata server)", async () => {
    const s = sandbox();
    const file = policy(s, `    downscope_mode: credential_access_boundary\n    access_boundary:${BOUNDARY}`);
    const before = google.requests.length;
    const r = await mint(s, file, ["storage", "ls"]);
    expect(r.kind).toBe("CredentialUnavailable");
    expect(r.error).toMatch(/^no Google source credential: .*gcloud auth application-default login/);
    expect(google.requests.length).toBe(before);
  });
});

describe("oauth_scope through the real Impersonated client", async () => {
  it("asks iamcredentials for the rule's scopes on the target service account", async () => {
    const s = sandbox();
    const file = policy(
      s,
      `    downscope_mode: oauth_scope
    target_service_account: agent-ro@proj.iam.gserviceaccount.com
    scopes: [cloud-platform.read-only]
    rules:
      - name: compute reads
        match: { command: [compute, instances, list] }
        scopes: [compute.readonly]
`,
    );
    const before = google.requests.length;
    const r = await mint(s, file, ["compute", "instances", "list"], withAdc(s));
    expect(r.error).toBeUndefined();
    expect(r.token).toBe(IMPERSONATED_TOKEN);
    const call = google.requests.slice(before).find((q) => q.host === "iamcredentials.googleapis.com")!;
    expect(call.path).toBe("/v1/projects/-/serviceAccounts/agent-ro@proj.iam.gserviceaccount.com:generateAccessToken");
    expect(call.json).toMatchObject({ scope: ["https://www.googleapis.com/auth/compute.readonly"], lifetime: "3600s" });
  });

  it("says impersonation is not permitted and how to fix it", async () => {
    const s = sandbox();
    const file = policy(
      s,
      `    downscope_mode: oauth_scope
    target_service_account: denied-sa@proj.iam.gserviceaccount.com
    scopes: [cloud-platform.read-only]
`,
    );
    const r = await mint(s, file, ["projects", "list"], withAdc(s));
    expect(r.kind).toBe("CredentialUnavailable");
    expect(r.error).toContain("impersonation of denied-sa@proj.iam.gserviceaccount.com is not permitted");
    expect(r.error).toContain("roles/iam.serviceAccountTokenCreator");
  });

  it("refuses scope narrowing without a target when the source is not a service account key", async () => {
    const s = sandbox();
    const file = policy(s, `    downscope_mode: oauth_scope\n    scopes: [cloud-platform.read-only]\n`);
    const r = await mint(s, file, ["projects", "list"], withAdc(s));
    expect(r.kind).toBe("CredentialUnavailable");
    expect(r.error).toContain("needs a service account key as the source");
    expect(r.error).toContain("authorized_user");
  });
});

describe("cache and single flight across processes", () => {
  it("four processes needing the same boundary at once make one STS exchange", async () => {
    const s = sandbox();
    const file = policy(s, `    downscope_mode: credential_access_boundary\n    access_boundary:${BOUNDARY}`);
    const env = withAdc(s);
    const before = google.requests.filter((q) => q.host === "sts.googleapis.com").length;
    // A slow STS makes the four mints overlap: without the lock each would exchange.
    google.stsDelayMs = 1500;
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => mint(s, file, ["storage", "ls"], env)));
      const tokens = new Set(results.map((r) => r.token));
      expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined]);
      expect(tokens.size).toBe(1);
    } finally {
      google.stsDelayMs = 0;
    }
    expect(google.requests.filter((q) => q.host === "sts.googleapis.com").length - before).toBe(1);
  });
});
