/**
 * The gcloud channel against the Channel interface, with a provider that
 * returns fake tokens: the exact environment, the private files, the copied
 * configuration, and the refresh of the token file while the child runs.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CredentialProvider, ScopedToken } from "../../src/credentials/provider.js";
import type { ChannelInput } from "../../src/exec/channel.js";
import { CHANNELS } from "../../src/exec/channels/index.js";
import {
  createGcloudChannel,
  filterConfiguration,
  gcloudEnv,
  hostAllowed,
  universeAllowed,
} from "../../src/exec/channels/gcloud.js";
import { decide } from "../../src/policy/evaluate.js";
import { gcloudLogsViewer, layer, policyOf } from "../helpers/policy.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const POLICY = layer(gcloudLogsViewer(["allowed_hosts: [127.0.0.1]", "strip_env: [MY_EXTRA_SECRET]"]), "user");

const NOW = new Date("2026-01-01T00:00:00Z");

function fakeProvider(tokens: string[], lifetimeMs = 3600_000): CredentialProvider & { calls: number } {
  const p = {
    calls: 0,
    async obtain(): Promise<ScopedToken> {
      const value = tokens[Math.min(p.calls, tokens.length - 1)]!;
      p.calls++;
      return { value, expiresAt: new Date(NOW.getTime() + lifetimeMs), fingerprint: "sha256:x" };
    },
  };
  return p;
}

function input(s: Sandbox, parentEnv: Record<string, string>): ChannelInput {
  const d = decide(policyOf(POLICY), { kind: "cli", binary: "gcloud", args: ["storage", "ls"] });
  const tmpDir = mkdtempSync(join(s.root, "run-"));
  return {
    decision: d,
    grant: d.grant!,
    binary: "gcloud",
    realBinary: "/usr/bin/gcloud",
    args: ["storage", "ls"],
    parentEnv,
    baseEnv: parentEnv,
    cwd: s.project,
    tmpDir,
    now: () => NOW,
  };
}

describe("gcloud channel", () => {
  it("is registered for the gcloud binary", async () => {
    expect(typeof (await CHANNELS.gcloud!())).toBe("function");
  });

  it("hands out only the scoped token: ambient Google credentials stripped, then the token file set", async () => {
    const s = sandbox();
    const parentEnv = {
      ...s.env,
      CLOUDSDK_AUTH_ACCESS_TOKEN: "fake-ambient-token-1",
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: "/tmp/agent-chosen-token",
      CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT: "admin@p.iam.gserviceaccount.com",
      CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: "/tmp/key.json",
      CLOUDSDK_AUTH_DISABLE_SSL_VALIDATION: "true",
      CLOUDSDK_CORE_ACCOUNT: "owner@example.com",
      CLOUDSDK_ACTIVE_CONFIG_NAME: "prod",
      CLOUDSDK_CONFIG: join(s.home, "elsewhere"),
      CLOUDSDK_CORE_LOG_HTTP_REDACT_TOKEN: "false",
      CLOUDSDK_CONTEXT_AWARE_USE_CLIENT_CERTIFICATE: "true",
      GOOGLE_APPLICATION_CREDENTIALS: "/tmp/adc.json",
      GOOGLE_OAUTH_ACCESS_TOKEN: "fake-ambient-token-2",
      GCE_METADATA_HOST: "127.0.0.1:1",
      BOTO_CONFIG: "/tmp/boto",
      CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: "http://127.0.0.1:9999/",
      CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: "https://evil.example/compute/",
      CLOUDSDK_CORE_PROJECT: "acme-dev",
      CLOUDSDK_CORE_UNIVERSE_DOMAIN: "evil.example",
      CLOUDSDK_CORE_CREDENTIALED_HOSTED_REPO_DOMAINS: "evil.example",
      CLOUDSDK_STORAGE_GS_XML_ENDPOINT_URL: "https://evil.example",
      CLOUDSDK_STORAGE_GS_XML_SECRET_ACCESS_KEY: "fake-hmac-secret",
      MY_EXTRA_SECRET: "x",
    };
    const inp = input(s, parentEnv);
    const plan = await createGcloudChannel({ provider: fakeProvider(["fake-gcp-scoped-token-1"]) })(inp);
    const tokenFile = join(inp.tmpDir, "gcloud-access-token");
    const configDir = join(inp.tmpDir, "gcloud-config");
    const googleish = Object.fromEntries(
      Object.entries(plan.env).filter(([k]) => /^(CLOUDSDK_|GOOGLE_|GCE_|BOTO_|MY_)/.test(k)),
    );
    expect(googleish).toEqual({
      CLOUDSDK_CONFIG: configDir,
      CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
      CLOUDSDK_CORE_LOG_HTTP_REDACT_TOKEN: "true",
      CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: "http://127.0.0.1:9999/",
      CLOUDSDK_CORE_PROJECT: "acme-dev",
    });
    expect(plan.env.HOME).toBe(s.home);
    expect(plan.secrets).toEqual(["fake-gcp-scoped-token-1"]);
    expect(readFileSync(tokenFile, "utf8")).toBe("fake-gcp-scoped-token-1");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(configDir, "configurations")).mode & 0o777).toBe(0o700);
    expect(readdirSync(configDir).sort()).toEqual(["active_config", "configurations"]);
  });

  it("copies the active configuration's properties but no credential files or credential properties", async () => {
    const s = sandbox();
    const gc = join(s.home, ".config/gcloud");
    s.write(`${gc}/active_config`, "work");
    s.write(
      `${gc}/configurations/config_work`,
      `[core]
account = owner@example.com
project = acme-dev
pass_credentials_to_gsutil = true

universe_domain = evil.example
credentialed_hosted_repo_domains = evil.example

[compute]
region = europe-west1
zone = europe-west1-b

[storage]
gs_xml_endpoint_url = https://evil.example
gs_xml_access_key_id = fake-hmac-id
parallel_composite_upload_enabled = False

[auth]
impersonate_service_account = admin@acme-dev.iam.gserviceaccount.com
access_token_file = /tmp/token

[context_aware]
use_client_certificate = true

[api_endpoint_overrides]
storage = http://127.0.0.1:8080/
compute = https://evil.example/
`,
    );
    s.write(`${gc}/credentials.db`, "fake stored credentials");
    s.write(`${gc}/access_tokens.db`, "fake stored tokens");
    s.write(`${gc}/application_default_credentials.json`, "{}");
    mkdirSync(`${gc}/legacy_credentials/owner@example.com`, { recursive: true });
    const inp = input(s, s.env);
    await createGcloudChannel({ provider: fakeProvider(["fake-gcp-scoped-token-1"]) })(inp);
    const configDir = join(inp.tmpDir, "gcloud-config");
    expect(readdirSync(configDir).sort()).toEqual(["active_config", "configurations"]);
    expect(readdirSync(join(configDir, "configurations"))).toEqual(["config_default"]);
    expect(readFileSync(join(configDir, "active_config"), "utf8")).toBe("default");
    expect(readFileSync(join(configDir, "configurations/config_default"), "utf8")).toBe(
      `[core]
project = acme-dev
[compute]
region = europe-west1
zone = europe-west1-b
[storage]
parallel_composite_upload_enabled = False
[api_endpoint_overrides]
storage = http://127.0.0.1:8080/
`,
    );
  });

  it("keeps the token file fresh while the child runs, atomically, and stops when told", async () => {
    const s = sandbox();
    const inp = input(s, s.env);
    const timers: { fn: () => void; ms: number; cancelled: boolean }[] = [];
    const provider = fakeProvider(["fake-gcp-scoped-token-1", "fake-gcp-scoped-token-2", "fake-gcp-scoped-token-3"]);
    const plan = await createGcloudChannel({
      provider,
      marginSeconds: 300,
      setTimer: (fn, ms) => {
        const t = { fn, ms, cancelled: false };
        timers.push(t);
        return { cancel: () => (t.cancelled = true) };
      },
    })(inp);
    const tokenFile = join(inp.tmpDir, "gcloud-access-token");
    expect(plan.whileRunning).toBeDefined();
    const stop = plan.whileRunning!();
    // Refresh is due `margin` before expiry: 3600 s - 300 s.
    expect(timers.map((t) => t.ms)).toEqual([3300_000]);
    timers[0]!.fn();
    await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(tokenFile, "utf8")).toBe("fake-gcp-scoped-token-2");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    // No temporary file left next to it.
    expect(readdirSync(inp.tmpDir).sort()).toEqual(["gcloud-access-token", "gcloud-config"]);
    expect(plan.secrets).toEqual(["fake-gcp-scoped-token-1", "fake-gcp-scoped-token-2"]);
    expect(timers).toHaveLength(2);
    stop();
    expect(timers[1]!.cancelled).toBe(true);
    timers[1]!.fn();
    await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(tokenFile, "utf8")).toBe("fake-gcp-scoped-token-2");
    expect(provider.calls).toBe(2);
  });

  it("keeps the old token and retries when a refresh fails", async () => {
    const s = sandbox();
    const inp = input(s, s.env);
    const timers: { fn: () => void; ms: number }[] = [];
    let fail = false;
    const provider: CredentialProvider = {
      async obtain() {
        if (fail) throw new Error("STS unreachable");
        return { value: "fake-gcp-scoped-token-1", expiresAt: new Date(NOW.getTime() + 3600_000), fingerprint: "x" };
      },
    };
    const plan = await createGcloudChannel({
      provider,
      setTimer: (fn, ms) => (timers.push({ fn, ms }), { cancel: () => {} }),
    })(inp);
    const stop = plan.whileRunning!();
    fail = true;
    timers[0]!.fn();
    await new Promise((r) => setTimeout(r, 10));
    expect(timers.map((t) => t.ms)).toEqual([3300_000, 30_000]);
    expect(readFileSync(join(inp.tmpDir, "gcloud-access-token"), "utf8")).toBe("fake-gcp-scoped-token-1");
    stop();
  });
});

describe("pure pieces", () => {
  it.each<[string, string[], boolean]>([
    ["http://127.0.0.1:8080/", ["127.0.0.1"], true],
    ["http://127.0.0.1:8080/", ["127.0.0.1:8080"], true],
    ["http://127.0.0.1:8080/", ["127.0.0.1:9090"], false],
    ["https://storage.example.com/", ["*.example.com"], true],
    ["https://example.com.evil.net/", ["*.example.com"], false],
    ["https://evil.example/", [], false],
    ["not a url", ["127.0.0.1"], false],
  ])("hostAllowed(%s, %j) = %s", (url, allowed, ok) => expect(hostAllowed(url, allowed)).toBe(ok));

  it.each<[string, string[], boolean]>([
    ["googleapis.com", [], true],
    ["evil.example", [], false],
    ["evil.example", ["evil.example"], false],
    ["sovereign.example", ["*.sovereign.example"], true],
  ])("universeAllowed(%s, %j) = %s", (d, allowed, ok) => expect(universeAllowed(d, allowed)).toBe(ok));

  it("reports which variables it removed", () => {
    const r = gcloudEnv(
      { CLOUDSDK_AUTH_ACCESS_TOKEN: "fake", PATH: "/bin", CLOUDSDK_CORE_ACCOUNT: "a" },
      { tokenFile: "/t", configDir: "/c", allowedHosts: [], stripEnv: [] },
    );
    expect(r.removed).toEqual(["CLOUDSDK_AUTH_ACCESS_TOKEN", "CLOUDSDK_CORE_ACCOUNT"]);
  });

  it("drops continuation lines of a dropped key and sections case-insensitively", () => {
    expect(filterConfiguration("[Auth]\naccess_token_file = /x\n[core]\naccount = a\n  more\nproject = p\n", [])).toBe(
      "[core]\nproject = p\n",
    );
  });
});
