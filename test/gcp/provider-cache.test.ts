/**
 * The GCP provider's use of the private cache, in-process: a valid entry is
 * served without loading google-auth-library; an entry within the refresh
 * margin is minted again; entries are private files.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheDir, cacheKey, writeCached } from "../../src/credentials/cache.js";
import { gcpCacheKeyParts, gcpRequestFor } from "../../src/credentials/gcp-boundary.js";
import { createGcpProvider, findGcpSource } from "../../src/credentials/gcp.js";
import { CredentialUnavailable } from "../../src/errors.js";
import { decide } from "../../src/policy/evaluate.js";
import { gcloudLogsViewer, layer, policyOf } from "../helpers/policy.js";
import { sandbox } from "../helpers/sandbox.js";
import { fakeAdc } from "./fake-google.js";

const POLICY = policyOf(layer(gcloudLogsViewer(), "user"));
const grant = decide(POLICY, { kind: "cli", binary: "gcloud", args: ["storage", "ls"] }).grant!;
const NOW = new Date("2026-03-01T12:00:00Z");

function setup() {
  const s = sandbox();
  const env = { ...s.env, GOOGLE_APPLICATION_CREDENTIALS: s.write("home/adc.json", fakeAdc(), 0o600) };
  const key = cacheKey(gcpCacheKeyParts(gcpRequestFor(grant), findGcpSource(grant, env, s.project).identity));
  let loads = 0;
  const provider = createGcpProvider({
    marginSeconds: 300,
    loadSdk: async () => {
      loads++;
      throw new Error("sdk load attempted");
    },
  });
  const ctx = { env, cwd: s.project, now: () => NOW };
  const cacheOpts = { env, namespace: "gcp", now: () => NOW };
  return { s, env, key, provider, ctx, cacheOpts, loads: () => loads };
}

describe("GCP provider cache", () => {
  it("serves a valid cached token without loading google-auth-library", async () => {
    const t = setup();
    writeCached(
      t.key,
      { value: "fake-gcp-cached-token-1", expiresAt: new Date(NOW.getTime() + 3600_000).toISOString() },
      t.cacheOpts,
    );
    const tok = await t.provider.obtain(grant, t.ctx);
    expect(tok.value).toBe("fake-gcp-cached-token-1");
    expect(tok.expiresAt?.toISOString()).toBe(new Date(NOW.getTime() + 3600_000).toISOString());
    expect(t.loads()).toBe(0);
    const dir = cacheDir(t.cacheOpts);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it("mints again when the cached token is within the refresh margin", async () => {
    const t = setup();
    writeCached(
      t.key,
      { value: "fake-gcp-cached-token-2", expiresAt: new Date(NOW.getTime() + 299_000).toISOString() },
      t.cacheOpts,
    );
    await expect(t.provider.obtain(grant, t.ctx)).rejects.toThrow(CredentialUnavailable);
    await expect(t.provider.obtain(grant, t.ctx)).rejects.toThrow("sdk load attempted");
    expect(t.loads()).toBe(2);
  });

  it("a different source credential does not reuse another's token", async () => {
    const t = setup();
    writeCached(
      t.key,
      { value: "fake-gcp-cached-token-3", expiresAt: new Date(NOW.getTime() + 3600_000).toISOString() },
      t.cacheOpts,
    );
    const other = {
      ...t.env,
      GOOGLE_APPLICATION_CREDENTIALS: t.s.write("home/other.json", fakeAdc("fake-refresh-token-other"), 0o600),
    };
    await expect(t.provider.obtain(grant, { ...t.ctx, env: other })).rejects.toThrow("sdk load attempted");
  });

  it("names the file when the configured key_file cannot be read", async () => {
    const s = sandbox();
    const g = decide(policyOf(layer(gcloudLogsViewer(["key_file: /nonexistent/key.json"]), "user")), {
      kind: "cli",
      binary: "gcloud",
      args: ["storage", "ls"],
    }).grant!;
    await expect(createGcpProvider().obtain(g, { env: s.env, cwd: s.project, now: () => NOW })).rejects.toThrow(
      "cannot read the Google source credential: key_file /nonexistent/key.json: ENOENT",
    );
  });

  it("token_slot mode reads the slot and never mints", async () => {
    const s = sandbox();
    const g = decide(
      policyOf(
        layer(
          `version: 1
services:
  gcloud:
    downscope_mode: token_slot
    token_slots: { viewer: { env_var: GCP_VIEWER_TOKEN } }
    default_slot: viewer
`,
          "user",
        ),
      ),
      { kind: "cli", binary: "gcloud", args: ["projects", "list"] },
    ).grant!;
    let loads = 0;
    const p = createGcpProvider({ loadSdk: async () => (loads++, Promise.reject(new Error("no"))) });
    const tok = await p.obtain(g, {
      env: { ...s.env, GCP_VIEWER_TOKEN: "fake-gcp-slot-token-1" },
      cwd: s.project,
      now: () => NOW,
    });
    expect(tok.value).toBe("fake-gcp-slot-token-1");
    expect(loads).toBe(0);
    await expect(p.obtain(g, { env: s.env, cwd: s.project, now: () => NOW })).rejects.toThrow(
      'slot "viewer": environment variable GCP_VIEWER_TOKEN is not set',
    );
  });
});
