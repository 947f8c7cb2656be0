/**
 * The real gcloud (installed on this machine) through the built
 * downscope-exec, against a loopback storage endpoint; the access boundary is
 * exchanged by the real google-auth-library at the fake Google of
 * fake-google.ts. Isolated HOME and CLOUDSDK_CONFIG; no network beyond
 * loopback (gcloud's metadata probe is turned off).
 *
 * Security regression: a stored gcloud login (credentials.db/access_tokens.db
 * for the active account) would let gcloud use the user's full credential
 * instead of the scoped one. Fix: a private CLOUDSDK_CONFIG without stored
 * credentials plus CLOUDSDK_AUTH_ACCESS_TOKEN_FILE. Proves: gcloud run
 * directly sends the stored token (control), through downscope-exec it sends
 * only the downscoped token, and a review rule stops `storage rm` before
 * anything reaches the endpoint.
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execSandbox, run, runExec } from "../exec/helpers.js";
import { requireTool } from "../exec/fake-https.js";
import { DOWNSCOPED_PREFIX, fakeAdc, startFakeGoogle, type FakeGoogle } from "./fake-google.js";

const STORED_TOKEN = "fake-stored-gcloud-token-999";

interface Seen {
  method: string;
  url: string;
  authorization?: string;
}

let google: FakeGoogle;
let storage: Server;
let port = 0;
const seen: Seen[] = [];

beforeAll(async () => {
  google = await startFakeGoogle();
  storage = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        kind: "storage#objects",
        items: [{ kind: "storage#object", name: "q1.csv", bucket: "reports", size: "3", generation: "1" }],
      }),
    );
  });
  await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
  port = (storage.address() as AddressInfo).port;
});
afterAll(async () => {
  await google?.close();
  await new Promise<void>((r) => (storage ? storage.close(() => r()) : r()));
});

function setup() {
  requireTool("gcloud", "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)");
  requireTool("python3", "install python3");
  const sb = execSandbox();
  sb.env.PATH = "/usr/bin:/bin";
  // The user's own gcloud login, as `gcloud auth login` would leave it: an
  // active account with a stored refresh token and a still-valid cached access token.
  const gc = join(sb.home, ".config/gcloud");
  sb.write(join(gc, "active_config"), "default");
  sb.write(
    join(gc, "configurations/config_default"),
    "[core]\naccount = owner@example.com\nproject = acme-dev\n\n[compute]\nregion = europe-west1\n",
  );
  execFileSync("python3", [
    "-c",
    `
import sqlite3, json, sys
d = sys.argv[1]
c = sqlite3.connect(d + "/credentials.db")
c.execute("CREATE TABLE credentials (account_id TEXT PRIMARY KEY, value BLOB)")
c.execute("INSERT INTO credentials VALUES (?, ?)", ("owner@example.com", json.dumps({"type": "authorized_user", "client_id": "fake-client-id", "client_secret": "fake-client-secret", "refresh_token": "fake-stored-refresh-token"})))
c.commit()
a = sqlite3.connect(d + "/access_tokens.db")
a.execute("CREATE TABLE access_tokens (account_id TEXT PRIMARY KEY, access_token TEXT, token_expiry TIMESTAMP, rapt_token TEXT, id_token TEXT)")
a.execute("INSERT INTO access_tokens VALUES (?, ?, ?, NULL, NULL)", ("owner@example.com", "${STORED_TOKEN}", "2099-01-01 00:00:00"))
a.commit()
`,
    gc,
  ]);
  sb.userConfig(`
version: 1
services:
  gcloud:
    downscope_mode: credential_access_boundary
    allowed_hosts: [127.0.0.1]
    access_boundary:
      - available_resource: //storage.googleapis.com/projects/_/buckets/reports
        available_permissions: [inRole:roles/storage.objectViewer]
    rules:
      - name: deleting objects needs a human
        match: { command: [storage, rm] }
        action: review
`);
  const env = {
    ...sb.env,
    ...google.env,
    GOOGLE_APPLICATION_CREDENTIALS: sb.write("home/adc.json", fakeAdc(), 0o600),
    // The trusted config's allowed_hosts lets this override through.
    CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `http://127.0.0.1:${port}/`,
    CLOUDSDK_CORE_CHECK_GCE_METADATA: "false",
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "true",
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: "true",
  };
  return { sb, env };
}

describe("real gcloud through downscope-exec", () => {
  it("control: gcloud run directly uses the stored login (so the next test can fail)", async () => {
    const { sb, env } = setup();
    const before = seen.length;
    const r = await run("/usr/bin/gcloud", ["storage", "ls", "gs://reports"], { env, cwd: sb.project });
    expect(r.stdout).toContain("gs://reports/q1.csv");
    expect(seen.slice(before).map((s) => s.authorization)).toEqual([`Bearer ${STORED_TOKEN}`]);
  });

  it("sends only the downscoped token, never the stored credential", async () => {
    const { sb, env } = setup();
    const before = seen.length;
    const stsBefore = google.requests.filter((q) => q.host === "sts.googleapis.com").length;
    const r = await runExec(["gcloud", "storage", "ls", "gs://reports"], { env, cwd: sb.project });
    expect(r.stderr).not.toContain("Traceback");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gs://reports/q1.csv");
    const auth = seen.slice(before).map((s) => s.authorization);
    expect(auth.length).toBeGreaterThan(0);
    for (const a of auth) expect(a).toMatch(new RegExp(`^Bearer ${DOWNSCOPED_PREFIX}\\d+$`));
    expect(auth.join(" ")).not.toContain(STORED_TOKEN);
    // The token came from an exchange with the configured boundary.
    const exchanges = google.requests.filter((q) => q.host === "sts.googleapis.com").slice(stsBefore);
    expect(exchanges).toHaveLength(1);
    expect(JSON.parse(exchanges[0]!.form.options!)).toEqual({
      accessBoundary: {
        accessBoundaryRules: [
          {
            availableResource: "//storage.googleapis.com/projects/_/buckets/reports",
            availablePermissions: ["inRole:roles/storage.objectViewer"],
          },
        ],
      },
    });
    // Nothing secret is printed.
    expect(r.stdout + r.stderr).not.toContain(DOWNSCOPED_PREFIX);
  });

  it("stops `gcloud storage rm` under a review rule before anything reaches the endpoint", async () => {
    const { sb, env } = setup();
    const before = seen.length;
    const googleBefore = google.requests.length;
    const r = await runExec(["gcloud", "storage", "rm", "gs://reports/q1.csv"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('review required by rule "deleting objects needs a human"');
    expect(seen.length).toBe(before);
    expect(google.requests.length).toBe(googleBefore);
  });
});

describe("downscope-exec --explain gcloud", () => {
  it("shows the token file and config variables, never the token", async () => {
    const { sb, env } = setup();
    const r = await runExec(["--explain", "gcloud", "storage", "ls", "gs://reports"], { env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE");
    expect(r.stdout).toContain("CLOUDSDK_CONFIG");
    expect(r.stdout + r.stderr).not.toContain(DOWNSCOPED_PREFIX);
  });
});
