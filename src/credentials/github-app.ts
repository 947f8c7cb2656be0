/**
 * GitHub App provider (`downscope_mode: github_app`): an installation access
 * token minted per command, limited to the rule's permissions and repositories.
 *
 *   1. a JWT (RS256) signed with the app's private key, iss = the app, valid
 *      ten minutes at most (iat 60 s in the past against clock drift):
 *      https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 *   2. POST {api}/app/installations/{id}/access_tokens { permissions, repositories }
 *      → { token, expires_at (one hour), permissions, repositories }:
 *      https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app
 *   3. `downscope cache clear` revokes: DELETE {api}/installation/token.
 *
 * The private key is read by this process only (file, command or keyring) and
 * only when a token must be minted; it never reaches the child, its
 * environment or its argv. Tokens are cached per (API, app, installation,
 * permissions, repositories) with the cache's cross-process single flight.
 * Everything runs in this module so that a broker outside a sandbox can run it.
 */
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CredentialUnavailable, DownscopeError } from "../errors.js";
import { nodeCrypto } from "../lazy-crypto.js";
import type { Env } from "../paths.js";
import type { Grant } from "../policy/evaluate.js";
import type { KeySource } from "../policy/schema.js";
import { readPrivateJson } from "../private-store.js";
import { cacheDir, cacheKey, getOrMint, type CacheEntry, type CacheOptions } from "./cache.js";
import { DEFAULT_API_URL, type GithubAppScope } from "./github-app-scope.js";
import { httpJson, networkCode, serverMessage, type HttpJsonRequest, type HttpJsonResponse } from "./http-json.js";
import type { MintInfo, ProviderContext, ScopedToken } from "./provider.js";
import { fingerprint, readKeySource } from "./token-sources.js";

export const GITHUB_APP_NAMESPACE = "github-app";
const API_VERSION = "2022-11-28";

export interface GithubAppRequest {
  service: string;
  file: string;
  apiUrl: string;
  appId: string;
  installationId: number;
  privateKey: KeySource;
  permissions: Record<string, string>;
  repositories: string[];
}

/** What is cached: the token and what revoking it needs. */
export interface InstallationToken {
  token: string;
  expires_at: string;
  api_url: string;
  permissions: Record<string, string>;
  repositories: string[];
}

export type Http = (req: HttpJsonRequest) => Promise<HttpJsonResponse>;

export interface GithubAppDeps {
  http?: Http;
  marginSeconds?: number;
}

export function githubAppRequest(grant: Grant, scope: GithubAppScope): GithubAppRequest {
  const svc = grant.config;
  if (svc.app_id === undefined || svc.installation_id === undefined || svc.private_key === undefined)
    throw new CredentialUnavailable(
      `services.${grant.service} in ${grant.file}: downscope_mode github_app needs app_id, installation_id and private_key`,
    );
  return {
    service: grant.service,
    file: grant.file,
    apiUrl: (svc.api_url ?? DEFAULT_API_URL).replace(/\/+$/, ""),
    appId: String(svc.app_id),
    installationId: svc.installation_id,
    privateKey: svc.private_key,
    permissions: scope.permissions,
    repositories: scope.repositories,
  };
}

export function githubAppCacheKey(req: GithubAppRequest): string {
  return cacheKey({
    v: 1,
    api: req.apiUrl,
    app: req.appId,
    installation: req.installationId,
    permissions: req.permissions,
    repositories: req.repositories,
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/**
 * The app's JWT. A key that does not parse, is not RSA, or whose parts do not
 * fit together (a tampered PEM: signing with it yields a signature its own
 * public key rejects) is refused here, before any request.
 */
export function appJwt(pem: string, appId: string, now: Date, what: string): string {
  const crypto = nodeCrypto();
  let key;
  try {
    key = crypto.createPrivateKey(pem);
  } catch {
    throw new CredentialUnavailable(
      `${what}: the private key cannot be read (not a PEM private key, or damaged); download a new one from the app's settings`,
    );
  }
  if (key.asymmetricKeyType !== "rsa")
    throw new CredentialUnavailable(
      `${what}: the private key is ${key.asymmetricKeyType ?? "not"} RSA; GitHub Apps use RSA keys`,
    );
  const iat = Math.floor(now.getTime() / 1000) - 60;
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat, exp: iat + 60 + 540, iss: appId }));
  const input = `${header}.${payload}`;
  let sig: Buffer;
  try {
    sig = crypto.sign("sha256", Buffer.from(input), key);
  } catch {
    throw new CredentialUnavailable(`${what}: the private key is damaged (it cannot sign)`);
  }
  if (!crypto.verify("sha256", Buffer.from(input), crypto.createPublicKey(key), sig))
    throw new CredentialUnavailable(
      `${what}: the private key is damaged (its signature does not verify against its own public key); download a new one from the app's settings`,
    );
  return `${input}.${b64url(sig)}`;
}

function isInstallationToken(v: unknown): v is InstallationToken {
  const t = v as Partial<InstallationToken> | null;
  return (
    t !== null &&
    typeof t === "object" &&
    typeof t.token === "string" &&
    t.token !== "" &&
    typeof t.expires_at === "string" &&
    typeof t.api_url === "string" &&
    Array.isArray(t.repositories)
  );
}

const LEVEL = { read: 1, write: 2, admin: 3 } as Record<string, number>;

/** GitHub's error, as one line saying what to do. */
export function mintError(status: number, json: unknown, req: GithubAppRequest): CredentialUnavailable {
  const msg = serverMessage(json);
  const app = `GitHub App ${req.appId}`;
  const inst = `installation ${req.installationId}`;
  if (status === 401 && /\b(exp|iat)\b|expiration time|issued at/i.test(msg))
    return new CredentialUnavailable(
      `${app}: GitHub refused the app's JWT because of its time (${msg}); this machine's clock is off: synchronize it (e.g. enable NTP) and retry`,
    );
  if (status === 401)
    return new CredentialUnavailable(
      `${app}: GitHub refused the app's JWT (${msg || "401"}); check app_id and that private_key is this app's current key`,
    );
  if (status === 404)
    return new CredentialUnavailable(
      `${app}: ${inst} was not found (404); check installation_id (the number in the installation's settings URL) and that the app is still installed`,
    );
  if (status === 422)
    return new CredentialUnavailable(
      `${app}: GitHub refused to mint permissions ${formatPermissions(req.permissions)} for ${req.repositories.join(", ")} (422${msg ? `: ${msg}` : ""}); the ${inst} lacks a permission or a repository: grant it in the app's settings and accept it on the installation, or narrow the rule`,
    );
  if (status === 403)
    return new CredentialUnavailable(`${app}: GitHub refused the token request (403${msg ? `: ${msg}` : ""})`);
  return new CredentialUnavailable(
    `${app}: minting an installation token failed (HTTP ${status}${msg ? `: ${msg}` : ""})`,
  );
}

export function formatPermissions(p: Record<string, string>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}:${v}`)
    .join(",");
}

/** One POST to GitHub (the key is read here, only when minting). */
export async function mintInstallationToken(
  req: GithubAppRequest,
  ctx: ProviderContext,
  http: Http,
): Promise<CacheEntry<InstallationToken>> {
  const what = `services.${req.service} private_key`;
  const pem = readKeySource(what, req.privateKey, ctx.env, ctx.cwd);
  const jwt = appJwt(pem, req.appId, ctx.now(), what);
  let res: HttpJsonResponse;
  try {
    res = await http({
      method: "POST",
      url: `${req.apiUrl}/app/installations/${req.installationId}/access_tokens`,
      headers: {
        authorization: `Bearer ${jwt}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": API_VERSION,
      },
      body: { repositories: req.repositories, permissions: req.permissions },
    });
  } catch (e) {
    throw new CredentialUnavailable(`GitHub App ${req.appId}: cannot reach ${req.apiUrl} (${networkCode(e)})`);
  }
  if (res.status !== 201 && res.status !== 200) throw mintError(res.status, res.json, req);
  const body = res.json as { token?: unknown; expires_at?: unknown; permissions?: unknown } | undefined;
  if (
    typeof body?.token !== "string" ||
    body.token === "" ||
    /[\s\0]/.test(body.token) ||
    typeof body.expires_at !== "string" ||
    !Number.isFinite(Date.parse(body.expires_at))
  )
    throw new CredentialUnavailable(`GitHub App ${req.appId}: the token response has no token or expires_at`);
  // Fail closed if GitHub ever granted more than asked for.
  const granted = (body.permissions ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(granted))
    if ((LEVEL[String(v)] ?? 99) > (LEVEL[req.permissions[k] ?? ""] ?? 0))
      throw new CredentialUnavailable(
        `GitHub App ${req.appId}: the minted token carries ${k}:${String(v)}, more than requested (${formatPermissions(req.permissions)}); refusing it`,
      );
  const expiresAt = new Date(Date.parse(body.expires_at)).toISOString();
  return {
    expiresAt,
    value: {
      token: body.token,
      expires_at: expiresAt,
      api_url: req.apiUrl,
      permissions: req.permissions,
      repositories: req.repositories,
    },
  };
}

/** The cached token for the request, or one mint across all processes. */
export async function obtainInstallationToken(
  req: GithubAppRequest,
  ctx: ProviderContext,
  deps: GithubAppDeps = {},
): Promise<ScopedToken & { info: MintInfo }> {
  const opts: CacheOptions = {
    env: ctx.env,
    namespace: GITHUB_APP_NAMESPACE,
    now: ctx.now,
    isValid: isInstallationToken,
    ...(deps.marginSeconds !== undefined ? { marginSeconds: deps.marginSeconds } : {}),
  };
  let entry: CacheEntry<InstallationToken>;
  let minted: boolean;
  try {
    ({ entry, minted } = await getOrMint(githubAppCacheKey(req), opts, () =>
      mintInstallationToken(req, ctx, deps.http ?? httpJson),
    ));
  } catch (e) {
    if (e instanceof DownscopeError) throw e;
    throw new CredentialUnavailable(`GitHub App ${req.appId}: ${networkCode(e)}`);
  }
  const fp = fingerprint(entry.value.token);
  return {
    value: entry.value.token,
    expiresAt: new Date(entry.expiresAt),
    fingerprint: fp,
    info: {
      kind: "github_app",
      permissions: entry.value.permissions,
      repositories: entry.value.repositories,
      expires_at: entry.expiresAt,
      fingerprint: fp,
      minted,
    },
  };
}

export interface RevokeResult {
  revoked: number;
  /** One line per token that could not be revoked (no token in it). */
  failures: string[];
}

/**
 * `downscope cache clear`: revoke every cached installation token
 * (DELETE /installation/token, authenticated with the token itself), then
 * remove the local copies whether or not the revoke worked.
 */
export async function revokeCachedInstallationTokens(env: Env, http: Http = httpJson): Promise<RevokeResult> {
  const dir = cacheDir({ env, namespace: GITHUB_APP_NAMESPACE });
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return { revoked: 0, failures: [] };
  }
  const result: RevokeResult = { revoked: 0, failures: [] };
  for (const name of names) {
    const path = join(dir, name);
    const entry = readPrivateJson<CacheEntry<unknown>>(path);
    const t = entry?.value;
    if (isInstallationToken(t) && Date.parse(t.expires_at) > Date.now()) {
      const label = `token ${fingerprint(t.token)} (${formatPermissions(t.permissions)} on ${t.repositories.join(",")})`;
      try {
        const res = await http({
          method: "DELETE",
          url: `${t.api_url}/installation/token`,
          headers: {
            authorization: `token ${t.token}`,
            accept: "application/vnd.github+json",
            "x-github-api-version": API_VERSION,
          },
          timeoutMs: 10_000,
        });
        if (res.status === 204 || res.status === 401) result.revoked++;
        else result.failures.push(`${label}: ${t.api_url} answered HTTP ${res.status}`);
      } catch (e) {
        result.failures.push(`${label}: cannot reach ${t.api_url} (${networkCode(e)})`);
      }
    }
    rmSync(path, { force: true });
  }
  return result;
}
