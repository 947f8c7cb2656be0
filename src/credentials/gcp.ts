/**
 * Google Cloud provider: three ways to a scoped access token.
 *
 *  - credential_access_boundary: the source credential (the service's key_file,
 *    else Application Default Credentials) is exchanged at Google's STS for a
 *    token limited by the rule's (else the service's) access boundary, through
 *    google-auth-library's DownscopedClient. Cloud Storage only.
 *    https://cloud.google.com/iam/docs/downscoping-short-lived-credentials
 *  - oauth_scope: an Impersonated client for target_service_account with the
 *    rule's (else the service's) scopes; without a target, a service account
 *    key source is asked directly for the narrower scopes.
 *  - token_slot: a pre-provisioned token (env, file, command), as for gh.
 *
 * Minted tokens go through the private cache (single flight across processes),
 * keyed by everything that changes the token. google-auth-library is imported
 * only on the mint path; a cache hit loads nothing.
 */
import { sha256Hex } from "../lazy-crypto.js";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type * as GoogleAuthLibrary from "google-auth-library";
import { CredentialUnavailable, DownscopeError } from "../errors.js";
import { expandHome, type Env } from "../paths.js";
import type { Grant } from "../policy/evaluate.js";
import { cacheKey, getOrMint, type CacheEntry } from "./cache.js";
import { gcpCacheKeyParts, gcpRequestFor, type GcpRequest } from "./gcp-boundary.js";
import type { CredentialProvider, ProviderContext, ScopedToken } from "./provider.js";
import { fingerprint, readSlotToken } from "./token-sources.js";

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
/** Used when neither STS nor the source reports an expiry (Google access tokens last one hour). */
const ASSUMED_LIFETIME_MS = 55 * 60 * 1000;

type Sdk = typeof GoogleAuthLibrary;
type AuthClient = InstanceType<Sdk["AuthClient"]>;

/** Where the source credential comes from. `identity` is a fingerprint, never the credential. */
export type GcpSource =
  | { kind: "file"; path: string; type: string; identity: string; describe: string }
  | { kind: "metadata"; identity: string; describe: string };

export interface GcpProviderOptions {
  /** settings.cache_margin_seconds: refresh this long before expiry (default 300). */
  marginSeconds?: number;
  /** Loads google-auth-library (a collaborator so tests can count loads). */
  loadSdk?: () => Promise<Sdk>;
}

/** The source credential file, by the same search order as ADC, read from downscope's env. */
export function findGcpSource(grant: Grant, env: Env, cwd: string): GcpSource {
  let path: string | undefined;
  let why: string;
  if (grant.config.key_file !== undefined) {
    const base = grant.file.startsWith("/") ? dirname(grant.file) : cwd;
    path = resolve(base, expandHome(grant.config.key_file, env));
    why = `key_file ${path}`;
  } else if (env.GOOGLE_APPLICATION_CREDENTIALS) {
    path = resolve(cwd, expandHome(env.GOOGLE_APPLICATION_CREDENTIALS, env));
    why = `GOOGLE_APPLICATION_CREDENTIALS (${path})`;
  } else {
    const gcloudDir = env.CLOUDSDK_CONFIG || join(expandHome("~", env), ".config", "gcloud");
    const wellKnown = join(gcloudDir, "application_default_credentials.json");
    if (!existsSync(wellKnown))
      return { kind: "metadata", identity: "metadata", describe: "the metadata server (no ADC file found)" };
    path = wellKnown;
    why = `Application Default Credentials (${path})`;
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CredentialUnavailable(
      `cannot read the Google source credential: ${why}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  let type = "unknown";
  try {
    const json = JSON.parse(text) as { type?: unknown };
    if (typeof json.type === "string") type = json.type;
  } catch {
    throw new CredentialUnavailable(`the Google source credential ${why} is not JSON`);
  }
  const identity = `file:${type}:${sha256Hex(text).slice(0, 24)}`;
  return { kind: "file", path, type, identity, describe: why };
}

/** An error's message, shortened, with anything shaped like a Google token removed. */
export function safeMessage(e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  return raw
    .replace(/ya29\.[\w.-]+/g, "[token]")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 400);
}

function httpStatus(e: unknown): number | undefined {
  const r = (e as { response?: { status?: unknown } } | undefined)?.response;
  return typeof r?.status === "number" ? r.status : undefined;
}

function networkCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code;
  if (typeof c === "string" && /^E[A-Z]+/.test(c)) return c;
  const cc = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof cc === "string" ? cc : undefined;
}

const NO_ADC =
  "no Google source credential: no key_file in the trusted policy, GOOGLE_APPLICATION_CREDENTIALS is not set, there is no Application Default Credentials file, and no metadata server answered. Run `gcloud auth application-default login` (or set key_file on the service)";

async function sourceClient(sdk: Sdk, source: GcpSource, scopes: string[]): Promise<AuthClient> {
  if (source.kind === "metadata") {
    let available = false;
    try {
      available = await sdk.gcpMetadata.isAvailable();
    } catch {
      available = false;
    }
    if (!available) throw new CredentialUnavailable(NO_ADC);
    return new sdk.Compute({ scopes });
  }
  try {
    return await new sdk.GoogleAuth({ keyFilename: source.path, scopes }).getClient();
  } catch (e) {
    throw new CredentialUnavailable(`cannot load the Google source credential ${source.describe}: ${safeMessage(e)}`);
  }
}

async function sourceToken(client: AuthClient, source: GcpSource): Promise<void> {
  try {
    const t = await client.getAccessToken();
    if (!t.token) throw new Error("no access token returned");
  } catch (e) {
    if (e instanceof DownscopeError) throw e;
    const code = networkCode(e);
    throw new CredentialUnavailable(
      `the Google source credential (${source.describe}) could not produce an access token: ${code ? `cannot reach Google (${code})` : safeMessage(e)}; if it expired, run \`gcloud auth application-default login\``,
    );
  }
}

function expiryOf(ms: number | null | undefined, now: Date): string {
  return new Date(
    typeof ms === "number" && Number.isFinite(ms) ? ms : now.getTime() + ASSUMED_LIFETIME_MS,
  ).toISOString();
}

async function mintBoundary(
  sdk: Sdk,
  req: Extract<GcpRequest, { mode: "credential_access_boundary" }>,
  source: GcpSource,
  now: Date,
): Promise<CacheEntry<string>> {
  const src = await sourceClient(sdk, source, [CLOUD_PLATFORM]);
  await sourceToken(src, source);
  let token: string | null | undefined;
  let expires: number | null | undefined;
  try {
    const client = new sdk.DownscopedClient({ authClient: src, credentialAccessBoundary: req.boundary });
    const r = await client.getAccessToken();
    token = r.token;
    expires = r.expirationTime;
  } catch (e) {
    const status = httpStatus(e);
    const code = networkCode(e);
    throw new CredentialUnavailable(
      status !== undefined
        ? `Google STS refused the access boundary of the ${req.from} (HTTP ${status}): ${safeMessage(e)}. Check the bucket names and roles (\`downscope lint\`) and that the source credential may use them`
        : code !== undefined
          ? `cannot reach Google STS to downscope the token (${code})`
          : `the token exchange at Google STS failed: ${safeMessage(e)}`,
    );
  }
  if (!token) throw new CredentialUnavailable("Google STS returned no access token for the access boundary");
  return { value: token, expiresAt: expiryOf(expires, now) };
}

async function mintScoped(
  sdk: Sdk,
  req: Extract<GcpRequest, { mode: "oauth_scope" }>,
  source: GcpSource,
  now: Date,
): Promise<CacheEntry<string>> {
  let client: AuthClient;
  if (req.targetServiceAccount !== undefined) {
    const src = await sourceClient(sdk, source, [CLOUD_PLATFORM]);
    await sourceToken(src, source);
    client = new sdk.Impersonated({
      sourceClient: src,
      targetPrincipal: req.targetServiceAccount,
      targetScopes: req.scopes,
      lifetime: 3600,
      delegates: [],
    });
  } else {
    if (source.kind !== "file" || source.type !== "service_account")
      throw new CredentialUnavailable(
        `oauth_scope without target_service_account needs a service account key as the source (key_file); the source is ${source.kind === "file" ? `a ${source.type} credential` : "the metadata server"}. Set target_service_account on the service`,
      );
    client = await sourceClient(sdk, source, req.scopes);
  }
  let token: string | null | undefined;
  try {
    token = (await client.getAccessToken()).token;
  } catch (e) {
    const status = httpStatus(e);
    const code = networkCode(e);
    if (
      req.targetServiceAccount !== undefined &&
      (status === 403 || status === 404 || /PERMISSION_DENIED/.test(safeMessage(e)))
    )
      throw new CredentialUnavailable(
        `impersonation of ${req.targetServiceAccount} is not permitted for the source credential (${source.describe}): ${safeMessage(e)}. Grant it roles/iam.serviceAccountTokenCreator on that service account`,
      );
    throw new CredentialUnavailable(
      code !== undefined
        ? `cannot reach Google to mint the scoped token (${code})`
        : `minting a token with scopes ${req.scopes.join(" ")} failed: ${safeMessage(e)}`,
    );
  }
  if (!token) throw new CredentialUnavailable("Google returned no access token for the requested scopes");
  return { value: token, expiresAt: expiryOf(client.credentials.expiry_date, now) };
}

export function createGcpProvider(opts: GcpProviderOptions = {}): CredentialProvider {
  const loadSdk = opts.loadSdk ?? (() => import("google-auth-library"));
  return {
    async obtain(grant: Grant, ctx: ProviderContext): Promise<ScopedToken> {
      const req = gcpRequestFor(grant);
      if (req.mode === "token_slot") {
        const slot = grant.config.token_slots?.[req.slot];
        if (slot === undefined)
          throw new CredentialUnavailable(`service "${grant.service}": slot "${req.slot}" is not defined`);
        return readSlotToken(req.slot, slot, ctx.env, ctx.cwd);
      }
      const source = findGcpSource(grant, ctx.env, ctx.cwd);
      const key = cacheKey(gcpCacheKeyParts(req, source.identity));
      let entry: CacheEntry<string>;
      try {
        ({ entry } = await getOrMint<string>(
          key,
          {
            env: ctx.env,
            namespace: "gcp",
            now: ctx.now,
            ...(opts.marginSeconds !== undefined ? { marginSeconds: opts.marginSeconds } : {}),
          },
          async () => {
            const sdk = await loadSdk();
            return req.mode === "credential_access_boundary"
              ? mintBoundary(sdk, req, source, ctx.now())
              : mintScoped(sdk, req, source, ctx.now());
          },
        ));
      } catch (e) {
        if (e instanceof DownscopeError) throw e;
        throw new CredentialUnavailable(`Google Cloud credential: ${safeMessage(e)}`);
      }
      return { value: entry.value, expiresAt: new Date(entry.expiresAt), fingerprint: fingerprint(entry.value) };
    },
  };
}

export const gcpProvider: CredentialProvider = createGcpProvider();
