/**
 * gcloud channel: the scoped token goes to a private file named by
 * CLOUDSDK_AUTH_ACCESS_TOKEN_FILE, and CLOUDSDK_CONFIG points at a private
 * directory holding a copy of the active configuration's properties (project,
 * region, zone, …) but no stored credential (no credentials.db,
 * access_tokens.db, legacy_credentials, application_default_credentials.json,
 * no [auth] section, no core/account), so `--account`, a stored login or a
 * configured impersonation cannot widen anything.
 *
 * gcloud's precedence (lib/googlecloudsdk/core/credentials/store.py, _Load):
 * CLOUDSDK_AUTH_ACCESS_TOKEN, then auth/access_token_file, then
 * auth/credential_file_override, then the stored account. Every other source
 * is removed from the environment and the copied configuration, so the token
 * file is the only one left.
 *
 * gcloud reads the token file once per process and never refreshes it, so
 * while the child runs the file is rewritten (atomically) with a fresh token
 * shortly before expiry: processes the command starts later (scripts, gcloud
 * calling itself, parallel workers) read the fresh one.
 */
import { nodeCrypto } from "../../lazy-crypto.js";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gcpProvider } from "../../credentials/gcp.js";
import type { CredentialProvider, ScopedToken } from "../../credentials/provider.js";
import { expandHome, type Env } from "../../paths.js";
import type { Channel, ChannelInput, ChildPlan } from "../channel.js";

/** Environment variables that select or carry a Google credential, or change where gcloud finds one. */
const STRIP_EXACT = new Set([
  "CLOUDSDK_CONFIG",
  "CLOUDSDK_ACTIVE_CONFIG_NAME",
  "CLOUDSDK_CORE_ACCOUNT",
  "CLOUDSDK_CORE_PASS_CREDENTIALS_TO_GSUTIL",
  "CLOUDSDK_CORE_LOG_HTTP_REDACT_TOKEN",
  // gcloud's git credential helper sends the token to these domains.
  "CLOUDSDK_CORE_CREDENTIALED_HOSTED_REPO_DOMAINS",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "GOOGLE_OAUTH_ACCESS_TOKEN",
  "GOOGLE_GHA_CREDS_PATH",
  "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES",
  "GCE_METADATA_HOST",
  "GCE_METADATA_ROOT",
  "GCE_METADATA_IP",
  "BOTO_CONFIG",
  "BOTO_PATH",
]);
/** Prefixes: every auth/* property (access_token, access_token_file, impersonate_service_account, credential_file_override, disable_ssl_validation, token_host, …) and mTLS client certificates. */
const STRIP_PREFIXES = ["CLOUDSDK_AUTH_", "CLOUDSDK_CONTEXT_AWARE_", "CLOUDSDK_STORAGE_GS_XML_"];
const ENDPOINT_PREFIX = "CLOUDSDK_API_ENDPOINT_OVERRIDES_";

/** Sections of a gcloud configuration that are never copied. */
const DROP_SECTIONS = new Set(["auth", "context_aware"]);
/** Keys of [core] that are never copied. */
const DROP_CORE_KEYS = new Set([
  "account",
  "pass_credentials_to_gsutil",
  "log_http_redact_token",
  "credentialed_hosted_repo_domains",
]);

/**
 * core/universe_domain moves every API to https://<api>.<domain>/: the token
 * would go there. Kept only if allowed_hosts has `*.<domain>`.
 */
export function universeAllowed(domain: string, allowed: readonly string[]): boolean {
  const d = domain.trim().toLowerCase();
  return d === "googleapis.com" || allowed.some((a) => a.toLowerCase() === `*.${d}`);
}

/** Is `url`'s host one the trusted policy lets the scoped token go to? Host names, host:port, or *.suffix. */
export function hostAllowed(url: string, allowed: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return false;
  }
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return allowed.some((a) => {
    const p = a.toLowerCase();
    if (p.startsWith("*.")) return host.endsWith(p.slice(1));
    return p === host || p === u.host.toLowerCase();
  });
}

/** The child's environment: strip every ambient Google credential, then set the scoped one. */
export function gcloudEnv(
  parent: Env,
  opts: { tokenFile: string; configDir: string; allowedHosts: readonly string[]; stripEnv: readonly string[] },
): { env: Record<string, string>; removed: string[] } {
  const env: Record<string, string> = {};
  const removed: string[] = [];
  const extra = new Set(opts.stripEnv);
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    const strip =
      STRIP_EXACT.has(k) ||
      extra.has(k) ||
      STRIP_PREFIXES.some((p) => k.startsWith(p)) ||
      (k.startsWith(ENDPOINT_PREFIX) && !hostAllowed(v, opts.allowedHosts)) ||
      (k === "CLOUDSDK_CORE_UNIVERSE_DOMAIN" && !universeAllowed(v, opts.allowedHosts));
    if (strip) removed.push(k);
    else env[k] = v;
  }
  env.CLOUDSDK_CONFIG = opts.configDir;
  env.CLOUDSDK_AUTH_ACCESS_TOKEN_FILE = opts.tokenFile;
  // --log-http must not print the token.
  env.CLOUDSDK_CORE_LOG_HTTP_REDACT_TOKEN = "true";
  return { env, removed: removed.sort() };
}

/** The user's gcloud directory and active configuration name, as gcloud would find them. */
export function activeConfiguration(parent: Env): { dir: string; name: string } {
  const dir = parent.CLOUDSDK_CONFIG || join(expandHome("~", parent), ".config", "gcloud");
  let name = parent.CLOUDSDK_ACTIVE_CONFIG_NAME?.trim() || "";
  if (name === "") {
    try {
      name = readFileSync(join(dir, "active_config"), "utf8").trim();
    } catch {
      name = "";
    }
  }
  if (!/^[a-z][-a-z0-9]*$/.test(name)) name = "default";
  return { dir, name };
}

/**
 * A gcloud configuration (INI as Python's configparser writes it) without
 * credential-selecting properties. Endpoint overrides survive only for
 * allowed hosts.
 */
export function filterConfiguration(text: string, allowedHosts: readonly string[]): string {
  const out: string[] = [];
  let section = "";
  let keepSection = true;
  let lastKeyKept = true;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      section = header[1]!.trim().toLowerCase();
      keepSection = !DROP_SECTIONS.has(section);
      if (keepSection) out.push(`[${section}]`);
      continue;
    }
    if (!keepSection) continue;
    if (/^\s*([#;].*)?$/.test(line)) continue;
    // A continuation line belongs to the key above it.
    if (/^\s/.test(line)) {
      if (lastKeyKept) out.push(line);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv) continue;
    const key = kv[1]!.trim().toLowerCase();
    const value = kv[2]!;
    lastKeyKept = !(
      (section === "core" && DROP_CORE_KEYS.has(key)) ||
      (section === "core" && key === "universe_domain" && !universeAllowed(value, allowedHosts)) ||
      // HMAC keys and the XML endpoint they are sent to.
      (section === "storage" && key.startsWith("gs_xml_")) ||
      (section === "api_endpoint_overrides" && !hostAllowed(value, allowedHosts))
    );
    if (lastKeyKept) out.push(`${key} = ${value}`);
  }
  return out.join("\n") + "\n";
}

/** Write a private copy of the active configuration's properties (no credentials) into configDir. */
export function writePrivateConfig(parent: Env, configDir: string, allowedHosts: readonly string[]): void {
  const { dir, name } = activeConfiguration(parent);
  mkdirSync(join(configDir, "configurations"), { recursive: true, mode: 0o700 });
  const src = join(dir, "configurations", `config_${name}`);
  let text = "";
  if (existsSync(src)) {
    try {
      text = readFileSync(src, "utf8");
    } catch {
      text = "";
    }
  }
  writeFileSync(join(configDir, "configurations", "config_default"), filterConfiguration(text, allowedHosts), {
    mode: 0o600,
  });
  writeFileSync(join(configDir, "active_config"), "default", { mode: 0o600 });
}

/** Replace the token file in one step, so a reader never sees a partial token. */
export function writeTokenFile(path: string, token: string): void {
  const tmp = `${path}.${nodeCrypto().randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(tmp, token, { mode: 0o600, flag: "wx" });
  renameSync(tmp, path);
}

export interface Timer {
  cancel(): void;
}

export interface GcloudChannelDeps {
  provider?: CredentialProvider;
  /** settings.cache_margin_seconds: the token file is refreshed this long before expiry (default 300). */
  marginSeconds?: number;
  /** Schedules a refresh (a collaborator so tests need no fake timers). */
  setTimer?: (fn: () => void, ms: number) => Timer;
}

const realTimer = (fn: () => void, ms: number): Timer => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

/** Retry delay after a failed refresh. */
const RETRY_MS = 30_000;

export function createGcloudChannel(deps: GcloudChannelDeps = {}): Channel {
  const provider = deps.provider ?? gcpProvider;
  const setTimer = deps.setTimer ?? realTimer;
  const margin = (deps.marginSeconds ?? 300) * 1000;

  return async (input: ChannelInput): Promise<ChildPlan> => {
    const ctx = { env: input.parentEnv, cwd: input.cwd, now: input.now };
    const token = await provider.obtain(input.grant, ctx);
    const allowedHosts = input.grant.config.allowed_hosts ?? [];
    const tokenFile = join(input.tmpDir, "gcloud-access-token");
    const configDir = join(input.tmpDir, "gcloud-config");
    if (!input.confined) writeTokenFile(tokenFile, token.value);
    writePrivateConfig(input.parentEnv, configDir, allowedHosts);
    // The child's environment starts from baseEnv (every slot source already
    // removed by exec); the gcloud directory is found from the real one.
    const { env } = gcloudEnv(input.baseEnv, {
      tokenFile,
      configDir,
      allowedHosts,
      stripEnv: input.grant.config.strip_env ?? [],
    });
    const secrets = [token.value];
    if (input.confined) {
      // Contained mode: the token only in gcloud's environment (CLOUDSDK_AUTH_ACCESS_TOKEN, read first by
      // gcloud's store.py), never in a file of the namespace. Not refreshed: processes gcloud starts after
      // the token expires (an hour) get a 401, never a wider credential.
      delete env.CLOUDSDK_AUTH_ACCESS_TOKEN_FILE;
      env.CLOUDSDK_AUTH_ACCESS_TOKEN = token.value;
      return { env, secrets };
    }
    const plan: ChildPlan = { env, secrets };
    if (token.expiresAt !== undefined) {
      plan.whileRunning = () => {
        let timer: Timer | undefined;
        let stopped = false;
        const schedule = (current: ScopedToken | undefined, ms?: number) => {
          if (stopped) return;
          const due =
            ms ??
            Math.max(1000, (current?.expiresAt?.getTime() ?? input.now().getTime()) - margin - input.now().getTime());
          timer = setTimer(() => void refresh(), due);
        };
        const refresh = async () => {
          if (stopped) return;
          try {
            const fresh = await provider.obtain(input.grant, ctx);
            if (stopped) return;
            if (!secrets.includes(fresh.value)) secrets.push(fresh.value);
            writeTokenFile(tokenFile, fresh.value);
            schedule(fresh);
          } catch {
            // Keep the old token until it expires; try again shortly. The child
            // sees an expired token (401), never a wider credential.
            schedule(undefined, RETRY_MS);
          }
        };
        schedule(token);
        return () => {
          stopped = true;
          timer?.cancel();
        };
      };
    }
    return plan;
  };
}

export const channel: Channel = createGcloudChannel();
