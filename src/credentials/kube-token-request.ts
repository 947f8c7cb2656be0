/**
 * Kubernetes TokenRequest provider (`downscope_mode: token_request`): a bound
 * service account token minted per command with the user's own kubeconfig
 * credential, which only this process reads and which never reaches kubectl.
 *
 *   POST {server}/api/v1/namespaces/{ns}/serviceaccounts/{name}/token
 *   { apiVersion: authentication.k8s.io/v1, kind: TokenRequest,
 *     spec: { expirationSeconds, audiences } } → status { token, expirationTimestamp }
 *   https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/
 *
 * The user needs RBAC `create` on `serviceaccounts/token` for that service
 * account. The request goes only to the context's server (checked against the
 * trusted allowed_hosts by the caller) with the cluster's CA; a cluster with
 * insecure-skip-tls-verify or a proxy-url is refused rather than sending the
 * user's credential through it. Tokens are cached per (server, user
 * credential, service account, lifetime, audiences) with single flight.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { CredentialUnavailable, DownscopeError } from "../errors.js";
import { sha256Hex } from "../lazy-crypto.js";
import type { Env } from "../paths.js";
import { cacheKey, getOrMint, type CacheEntry, type CacheOptions } from "./cache.js";
import { httpJson, networkCode, serverMessage, type HttpJsonRequest, type HttpJsonResponse } from "./http-json.js";
import type { MintInfo, ProviderContext, ScopedToken } from "./provider.js";
import { fingerprint } from "./token-sources.js";

export const KUBE_NAMESPACE = "kube-token-request";
export const DEFAULT_EXPIRATION_SECONDS = 600;

export interface KubeTokenRequest {
  server: string;
  /** The cluster's CA (PEM); undefined: the system store. */
  ca?: Buffer;
  tlsServerName?: string;
  /** The kubeconfig user entry of the current context, and the directory relative paths in it are resolved from. */
  user: Record<string, unknown>;
  userDir: string;
  userName: string;
  serviceAccount: string;
  expirationSeconds: number;
  audiences?: string[];
}

export type Http = (req: HttpJsonRequest) => Promise<HttpJsonResponse>;

/** How the user's credential authenticates one request. */
interface UserAuth {
  headers: Record<string, string>;
  cert?: Buffer;
  key?: Buffer;
  /** A fingerprint of the credential's configuration (never the credential). */
  identity: string;
}

const readFile = (what: string, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CredentialUnavailable(
      `kubectl: cannot read the kubeconfig user's ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
};

/** The identity part of the cache key: which credential, not the credential. */
export function userIdentity(req: Pick<KubeTokenRequest, "user" | "userDir">): string {
  const u = req.user;
  const parts: unknown[] = [];
  for (const k of ["token", "tokenFile", "client-certificate", "client-key", "client-certificate-data", "username"])
    if (typeof u[k] === "string") parts.push(k, k === "token" ? sha256Hex(u[k]) : u[k]);
  if (u.exec !== undefined) parts.push("exec", JSON.stringify(u.exec));
  return sha256Hex(JSON.stringify([req.userDir, parts])).slice(0, 32);
}

/** The user's kubeconfig credential, resolved for one request. Throws naming what is missing, never a value. */
export function userAuth(req: KubeTokenRequest, env: Env): UserAuth {
  const u = req.user;
  const identity = userIdentity(req);
  const who = `kubeconfig user "${req.userName}"`;
  if (u["auth-provider"] !== undefined)
    throw new CredentialUnavailable(
      `kubectl: ${who} uses a legacy auth-provider, which downscope does not run; use an exec credential plugin or a token`,
    );
  if (typeof u.token === "string" && u.token !== "")
    return { headers: { authorization: `Bearer ${u.token}` }, identity };
  if (typeof u.tokenFile === "string") {
    const t = readFile("tokenFile", resolve(req.userDir, u.tokenFile)).toString("utf8").trim();
    if (t === "") throw new CredentialUnavailable(`kubectl: ${who}'s tokenFile is empty`);
    return { headers: { authorization: `Bearer ${t}` }, identity };
  }
  const certData = u["client-certificate-data"];
  const keyData = u["client-key-data"];
  const certFile = u["client-certificate"];
  const keyFile = u["client-key"];
  if (
    (typeof certData === "string" || typeof certFile === "string") &&
    (typeof keyData === "string" || typeof keyFile === "string")
  )
    return {
      headers: {},
      cert:
        typeof certData === "string"
          ? Buffer.from(certData, "base64")
          : readFile("client-certificate", resolve(req.userDir, certFile as string)),
      key:
        typeof keyData === "string"
          ? Buffer.from(keyData, "base64")
          : readFile("client-key", resolve(req.userDir, keyFile as string)),
      identity,
    };
  if (typeof u.username === "string" && typeof u.password === "string")
    return {
      headers: { authorization: `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}` },
      identity,
    };
  if (u.exec !== null && typeof u.exec === "object")
    return { ...execCredential(u.exec as Record<string, unknown>, req, env, who), identity };
  throw new CredentialUnavailable(
    `kubectl: ${who} has no credential downscope can mint with (token, tokenFile, client certificate, username/password or exec)`,
  );
}

/**
 * An exec credential plugin (client.authentication.k8s.io ExecCredential),
 * run by downscope with a fixed argv and no shell:
 * https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
 */
function execCredential(
  exec: Record<string, unknown>,
  req: KubeTokenRequest,
  env: Env,
  who: string,
): Omit<UserAuth, "identity"> {
  const command = exec.command;
  if (typeof command !== "string" || command === "")
    throw new CredentialUnavailable(`kubectl: ${who}'s exec plugin has no command`);
  const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === "string") : [];
  const extra: Record<string, string> = {};
  if (Array.isArray(exec.env))
    for (const e of exec.env as { name?: unknown; value?: unknown }[])
      if (typeof e.name === "string" && typeof e.value === "string") extra[e.name] = e.value;
  const apiVersion = typeof exec.apiVersion === "string" ? exec.apiVersion : "client.authentication.k8s.io/v1";
  const file = command.includes("/") ? resolve(req.userDir, command) : command;
  const r = spawnSync(file, args, {
    env: {
      ...env,
      ...extra,
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } }),
    },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
    maxBuffer: 1 << 20,
  });
  if (r.error)
    throw new CredentialUnavailable(
      `kubectl: cannot run ${who}'s exec plugin ${command} (${(r.error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  if (r.status !== 0)
    throw new CredentialUnavailable(
      `kubectl: ${who}'s exec plugin ${command} exited with status ${r.status ?? r.signal}`,
    );
  let status: { token?: unknown; clientCertificateData?: unknown; clientKeyData?: unknown } | undefined;
  try {
    status = (JSON.parse(r.stdout) as { status?: typeof status }).status;
  } catch {
    throw new CredentialUnavailable(`kubectl: ${who}'s exec plugin ${command} did not print an ExecCredential`);
  }
  if (typeof status?.token === "string" && status.token !== "")
    return { headers: { authorization: `Bearer ${status.token}` } };
  if (typeof status?.clientCertificateData === "string" && typeof status.clientKeyData === "string")
    return { headers: {}, cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData) };
  throw new CredentialUnavailable(`kubectl: ${who}'s exec plugin ${command} returned no token or client certificate`);
}

export function kubeCacheKey(req: KubeTokenRequest): string {
  return cacheKey({
    v: 1,
    server: req.server,
    ca: req.ca ? sha256Hex(req.ca).slice(0, 24) : null,
    user: userIdentity(req),
    sa: req.serviceAccount,
    exp: req.expirationSeconds,
    aud: req.audiences ?? null,
  });
}

interface MintedToken {
  token: string;
  expires_at: string;
}

const isMinted = (v: unknown): v is MintedToken =>
  v !== null &&
  typeof v === "object" &&
  typeof (v as MintedToken).token === "string" &&
  (v as MintedToken).token !== "";

export async function mintServiceAccountToken(
  req: KubeTokenRequest,
  ctx: ProviderContext,
  http: Http,
): Promise<CacheEntry<MintedToken>> {
  const [ns, name] = req.serviceAccount.split("/") as [string, string];
  const auth = userAuth(req, ctx.env);
  const url = `${req.server.replace(/\/+$/, "")}/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(name)}/token`;
  let res: HttpJsonResponse;
  try {
    res = await http({
      method: "POST",
      url,
      headers: auth.headers,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: req.expirationSeconds, ...(req.audiences ? { audiences: req.audiences } : {}) },
      },
      ...(req.ca ? { ca: req.ca } : {}),
      ...(auth.cert ? { cert: auth.cert, key: auth.key } : {}),
      ...(req.tlsServerName ? { servername: req.tlsServerName } : {}),
    });
  } catch (e) {
    throw new CredentialUnavailable(
      `kubectl: cannot reach the API server ${req.server} to mint a token (${networkCode(e)})`,
    );
  }
  const msg = serverMessage(res.json);
  if (res.status === 403)
    throw new CredentialUnavailable(
      `kubectl: your kubeconfig credential may not mint a token for service account ${req.serviceAccount} (403${msg ? `: ${msg}` : ""}); it needs RBAC create on serviceaccounts/token in namespace ${ns} (see docs/exec.md)`,
    );
  if (res.status === 404)
    throw new CredentialUnavailable(
      `kubectl: service account ${req.serviceAccount} was not found on ${req.server} (404)`,
    );
  if (res.status === 401)
    throw new CredentialUnavailable(
      `kubectl: the API server rejected your kubeconfig credential (401); log in again (it may have expired) and retry`,
    );
  if (res.status !== 201 && res.status !== 200)
    throw new CredentialUnavailable(
      `kubectl: TokenRequest for ${req.serviceAccount} failed (HTTP ${res.status}${msg ? `: ${msg}` : ""})`,
    );
  const status = (res.json as { status?: { token?: unknown; expirationTimestamp?: unknown } } | undefined)?.status;
  const token = status?.token;
  if (typeof token !== "string" || token === "" || /[\s\0]/.test(token))
    throw new CredentialUnavailable(`kubectl: the TokenRequest response for ${req.serviceAccount} has no token`);
  const exp = typeof status?.expirationTimestamp === "string" ? Date.parse(status.expirationTimestamp) : NaN;
  const expiresAt = new Date(
    Number.isFinite(exp) ? exp : ctx.now().getTime() + req.expirationSeconds * 1000,
  ).toISOString();
  return { expiresAt, value: { token, expires_at: expiresAt } };
}

export async function obtainServiceAccountToken(
  req: KubeTokenRequest,
  ctx: ProviderContext,
  deps: { http?: Http; marginSeconds?: number } = {},
): Promise<ScopedToken & { info: MintInfo }> {
  // A token minted for 600 s would be refreshed at once with the default 300 s margin; keep at least half its life.
  const margin = Math.min(deps.marginSeconds ?? 300, Math.floor(req.expirationSeconds / 4));
  const opts: CacheOptions = {
    env: ctx.env,
    namespace: KUBE_NAMESPACE,
    now: ctx.now,
    isValid: isMinted,
    marginSeconds: margin,
  };
  let entry: CacheEntry<MintedToken>;
  let minted: boolean;
  try {
    ({ entry, minted } = await getOrMint(kubeCacheKey(req), opts, () =>
      mintServiceAccountToken(req, ctx, deps.http ?? httpJson),
    ));
  } catch (e) {
    if (e instanceof DownscopeError) throw e;
    throw new CredentialUnavailable(`kubectl: TokenRequest failed (${networkCode(e)})`);
  }
  const fp = fingerprint(entry.value.token);
  return {
    value: entry.value.token,
    expiresAt: new Date(entry.expiresAt),
    fingerprint: fp,
    info: {
      kind: "token_request",
      service_account: req.serviceAccount,
      ...(req.audiences ? { audiences: req.audiences } : {}),
      expires_at: entry.expiresAt,
      fingerprint: fp,
      minted,
    },
  };
}
