/**
 * AWS `sts_policy` provider: source credentials (a named profile through
 * `fromIni`, or the default chain) call STS `AssumeRole` (when `role_arn` is
 * set) or `GetFederationToken`, with the grant's session policy, managed
 * policy ARNs and duration. The result is the intersection of the source's
 * permissions and the session policy.
 *
 * Building the request is pure; the SDK is loaded with import() only when a
 * credential must be minted, so the cache-hit path of `credential-process`
 * (which the AWS CLI runs before every command) loads node:fs and JSON only.
 *
 * STS API: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 *          https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html
 */
import type * as StsModule from "@aws-sdk/client-sts";
import type * as ProvidersModule from "@aws-sdk/credential-providers";
import { CredentialUnavailable, errorMessage } from "../errors.js";
import type { Grant } from "../policy/evaluate.js";
import type { Env } from "../paths.js";
import { resolveSessionPolicy } from "./aws-policy.js";
import { cacheKey, getOrMint, type CacheEntry, type CacheOptions } from "./cache.js";

/** The credential_process payload minus Version (see credential-process.ts). */
export interface AwsCredential {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  /** ISO 8601. */
  Expiration: string;
}

export interface AwsSource {
  /** Named profile (fromIni); undefined: the SDK's default chain with profile "default". */
  profile?: string;
  /** The user's AWS config / shared credentials files (undefined: the SDK's defaults). */
  configFile?: string;
  credentialsFile?: string;
}

export interface AwsMintRequest {
  api: "AssumeRole" | "GetFederationToken";
  roleArn?: string;
  /** RoleSessionName (AssumeRole, 2-64 chars) or Name (GetFederationToken, 2-32 chars). */
  sessionName: string;
  /** Minified session policy JSON; undefined: none (ARNs only). */
  policy?: string;
  policyHash: string;
  policyArns: string[];
  durationSeconds: number;
  region: string;
  source: AwsSource;
  /** A test/private STS endpoint, already checked against allowed_hosts; undefined: AWS's own. */
  stsEndpoint?: string;
  /** Where the policy came from, for messages. */
  policyOrigin: string;
}

export const DEFAULT_DURATION_SECONDS = 3600;
export const CACHE_NAMESPACE = "aws";
/** Names the STS endpoint for the mint (tests, VPC endpoints); honoured only for hosts in a trusted `allowed_hosts`. */
export const STS_ENDPOINT_ENV = "DOWNSCOPE_AWS_STS_ENDPOINT";

/** STS's charset for session names: [\w+=,.@-]. */
export function sessionNameFor(parts: string[], max: number): string {
  let s = parts
    .filter((p) => p !== "")
    .join(".")
    .replace(/[^\w+=,.@-]+/g, "-")
    .slice(0, max);
  if (s.length < 2) s = (s + "--").slice(0, 2);
  return s;
}

export interface BuildOptions {
  env: Env;
  packageRoot: string;
  /** The user's AWS files and profile as seen where the request is built (override the service's source_profile only when it has none). */
  source?: AwsSource;
}

/** The mint request for a grant (pure apart from reading a policy_file). */
export function buildMintRequest(grant: Grant, opts: BuildOptions): AwsMintRequest {
  const svc = grant.config;
  const sp = resolveSessionPolicy({
    rule: grant.rule,
    service: svc,
    configFile: grant.file,
    packageRoot: opts.packageRoot,
    servicePath: `services.${grant.service}`,
  });
  const ruleName = grant.rule?.name ?? "default";
  const api = svc.role_arn !== undefined ? "AssumeRole" : "GetFederationToken";
  const source: AwsSource = {
    ...opts.source,
    ...(svc.source_profile !== undefined ? { profile: svc.source_profile } : {}),
  };
  return {
    api,
    ...(svc.role_arn !== undefined ? { roleArn: svc.role_arn } : {}),
    sessionName:
      api === "AssumeRole"
        ? sessionNameFor(["downscope", grant.service, ruleName], 64)
        : sessionNameFor(["ds", ruleName], 32),
    ...(sp.policy !== undefined ? { policy: sp.policy } : {}),
    policyHash: sp.hash,
    policyArns: sp.arns,
    durationSeconds: svc.duration_seconds ?? DEFAULT_DURATION_SECONDS,
    region: svc.region ?? opts.env.AWS_REGION ?? opts.env.AWS_DEFAULT_REGION ?? "us-east-1",
    source,
    ...stsEndpointFor(grant, opts.env),
    policyOrigin: sp.origin,
  };
}

/**
 * DOWNSCOPE_AWS_STS_ENDPOINT may come from an agent's environment. Sending the
 * signed STS request elsewhere leaks no secret (SigV4 signs, it does not send
 * the key), but a fake STS could hand the child credentials of the attacker's
 * choosing and the request would name our policy to a stranger; so the host
 * must be listed in the trusted service's `allowed_hosts`. Refused otherwise.
 */
export function stsEndpointFor(grant: Grant, env: Env): { stsEndpoint?: string } {
  const raw = env[STS_ENDPOINT_ENV];
  if (raw === undefined || raw === "") return {};
  let host: string;
  try {
    const u = new URL(raw);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("scheme");
    host = u.hostname;
  } catch {
    throw new CredentialUnavailable(`${STS_ENDPOINT_ENV}=${raw} is not an http(s) URL`);
  }
  const allowed = grant.config.allowed_hosts ?? [];
  if (!allowed.includes(host))
    throw new CredentialUnavailable(
      `${STS_ENDPOINT_ENV} points at ${host}, which is not in allowed_hosts of services.${grant.service} in ${grant.file}; add it there (trusted config) or unset the variable`,
    );
  return { stsEndpoint: raw };
}

/** The STS call's input (pure; what the tests check). */
export function stsInput(req: AwsMintRequest): Record<string, unknown> {
  const common = {
    ...(req.policy !== undefined ? { Policy: req.policy } : {}),
    ...(req.policyArns.length > 0 ? { PolicyArns: req.policyArns.map((arn) => ({ arn })) } : {}),
    DurationSeconds: req.durationSeconds,
  };
  return req.api === "AssumeRole"
    ? { RoleArn: req.roleArn, RoleSessionName: req.sessionName, ...common }
    : { Name: req.sessionName, ...common };
}

/** Everything that changes the credential. */
export function mintCacheKey(req: AwsMintRequest): string {
  return cacheKey({
    v: 1,
    api: req.api,
    role: req.roleArn ?? null,
    name: req.sessionName,
    policy: req.policyHash,
    arns: req.policyArns,
    duration: req.durationSeconds,
    region: req.region,
    source: [req.source.profile ?? null, req.source.configFile ?? null, req.source.credentialsFile ?? null],
    endpoint: req.stsEndpoint ?? null,
  });
}

export interface MintDeps {
  /** A terminal is available to ask for an MFA code. */
  interactive: boolean;
  /** The environment the SDK reads (process.env in production). */
  processEnv: NodeJS.ProcessEnv;
}

/** A cached value with every field credential_process needs (a foreign or truncated entry is not). */
export function isAwsCredential(v: unknown): v is AwsCredential {
  if (v === null || typeof v !== "object") return false;
  const c = v as Record<string, unknown>;
  return (["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] as const).every(
    (k) => typeof c[k] === "string" && c[k] !== "",
  );
}

/** Cached credential, or one STS call across all processes. */
export async function obtainAwsCredential(
  req: AwsMintRequest,
  opts: CacheOptions,
  mint: (req: AwsMintRequest) => Promise<CacheEntry<AwsCredential>>,
): Promise<{ credential: AwsCredential; minted: boolean }> {
  const { entry, minted } = await getOrMint(mintCacheKey(req), { isValid: isAwsCredential, ...opts }, () => mint(req));
  return { credential: entry.value, minted };
}

/** Variable set while minting: a source profile that calls back into downscope is caught instead of recursing. */
export const MINTING_ENV = "DOWNSCOPE_AWS_MINTING";

/** Calls STS. Loads the SDK. */
export async function mintAwsCredential(
  req: AwsMintRequest,
  deps: MintDeps,
  warn: (text: string) => void,
): Promise<CacheEntry<AwsCredential>> {
  const [{ STSClient, AssumeRoleCommand, GetFederationTokenCommand }, { fromIni, fromNodeProviderChain }] =
    await Promise.all([import("@aws-sdk/client-sts"), import("@aws-sdk/credential-providers")]);
  // The SDK reads the process environment. MINTING_ENV marks our own
  // children (a source profile whose credential_process is downscope again
  // is refused instead of recursing); agent-set AWS_ENDPOINT_URL* variables
  // are ignored for every STS/SSO call made here (ignoreConfiguredEndpointUrls).
  const previous = deps.processEnv[MINTING_ENV];
  deps.processEnv[MINTING_ENV] = "1";
  // The SDK's notice about Node < 22 would reach the agent on every mint; docs/aws.md says it instead.
  deps.processEnv.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  try {
    return await mintWithSdk(req, deps, warn, {
      STSClient,
      AssumeRoleCommand,
      GetFederationTokenCommand,
      fromIni,
      fromNodeProviderChain,
    });
  } finally {
    if (previous === undefined) delete deps.processEnv[MINTING_ENV];
    else deps.processEnv[MINTING_ENV] = previous;
  }
}

type Sdk = Pick<typeof StsModule, "STSClient" | "AssumeRoleCommand" | "GetFederationTokenCommand"> &
  Pick<typeof ProvidersModule, "fromIni" | "fromNodeProviderChain">;

async function mintWithSdk(
  req: AwsMintRequest,
  deps: MintDeps,
  warn: (text: string) => void,
  { STSClient, AssumeRoleCommand, GetFederationTokenCommand, fromIni, fromNodeProviderChain }: Sdk,
): Promise<CacheEntry<AwsCredential>> {
  const profile = req.source.profile ?? "default";
  const common = {
    profile,
    ...(req.source.configFile !== undefined ? { configFilepath: req.source.configFile } : {}),
    ...(req.source.credentialsFile !== undefined ? { filepath: req.source.credentialsFile } : {}),
    mfaCodeProvider: async (serial: string) => {
      if (!deps.interactive) throw new NeedsLogin("mfa", profile, serial);
      return askOnTerminal(`MFA code for ${serial} (profile ${profile}): `);
    },
    clientConfig: { region: req.region, ignoreConfiguredEndpointUrls: true },
  };
  const provider = req.source.profile !== undefined ? fromIni(common) : fromNodeProviderChain(common);
  let source;
  try {
    source = await provider();
  } catch (e) {
    throw sourceError(e, profile, req.source.profile !== undefined);
  }
  if (req.api === "GetFederationToken" && source.sessionToken)
    throw new CredentialUnavailable(
      `the source credentials of profile "${profile}" are temporary (they carry a session token) and STS refuses GetFederationToken for them: set role_arn on the service so that downscope calls AssumeRole instead, or use long-term IAM user keys as the source`,
    );
  const client = new STSClient({
    region: req.region,
    credentials: source,
    ...(req.stsEndpoint !== undefined ? { endpoint: req.stsEndpoint } : { ignoreConfiguredEndpointUrls: true }),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 20000 },
  });
  const input = stsInput(req);
  let out;
  try {
    out =
      req.api === "AssumeRole"
        ? await client.send(new AssumeRoleCommand(input as never))
        : await client.send(new GetFederationTokenCommand(input as never));
  } catch (e) {
    throw stsError(e, req);
  } finally {
    client.destroy();
  }
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
    throw new CredentialUnavailable(`STS ${req.api} returned no credentials`);
  if ((out.PackedPolicySize ?? 0) >= 90)
    warn(
      `downscope: warning: the session policy uses ${out.PackedPolicySize}% of STS's packed policy size (${req.policyOrigin}); make it smaller before it stops fitting\n`,
    );
  const expiresAt = c.Expiration.toISOString();
  return {
    expiresAt,
    value: {
      AccessKeyId: c.AccessKeyId,
      SecretAccessKey: c.SecretAccessKey,
      SessionToken: c.SessionToken,
      Expiration: expiresAt,
    },
  };
}

class NeedsLogin extends Error {
  constructor(
    readonly kind: "mfa",
    readonly profile: string,
    readonly serial: string,
  ) {
    super(`MFA code needed for ${serial}`);
  }
}

async function askOnTerminal(prompt: string): Promise<string> {
  const fs = await import("node:fs");
  const { createInterface } = await import("node:readline/promises");
  const input = fs.createReadStream("/dev/tty");
  const output = fs.createWriteStream("/dev/tty");
  const rl = createInterface({ input, output });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
    input.destroy();
    output.end();
  }
}

const errName = (e: unknown) =>
  (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? "Error";

/** The source profile could not produce credentials: say what the human must do. */
export function sourceError(e: unknown, profile: string, named: boolean): CredentialUnavailable {
  if (e instanceof NeedsLogin)
    return new CredentialUnavailable(
      `profile "${profile}" needs an MFA code (${e.serial}) and there is no terminal to ask on (agents run without one): run \`downscope credential-process --service <name>\` once in a terminal to enter the code; the scoped credential is then cached until it expires`,
    );
  const msg = errorMessage(e);
  if (/sso|token.*(expired|refresh)|IAM Identity Center/i.test(msg))
    return new CredentialUnavailable(
      `profile "${profile}" uses AWS SSO (IAM Identity Center) and its login is missing or expired; downscope cannot log in for you without a terminal: run \`aws sso login --profile ${profile}\`, then retry`,
    );
  if (/multi-factor|mfa/i.test(msg))
    return new CredentialUnavailable(
      `profile "${profile}" needs an MFA code and there is no terminal to ask on: run the command once in a terminal first`,
    );
  if (/could not load credentials|profile .* not found|Could not resolve credentials/i.test(msg) || !named)
    return new CredentialUnavailable(
      named
        ? `no source credentials: profile "${profile}" was not found or has no credentials (${firstLine(msg)})`
        : `no source credentials for downscope to mint from (${firstLine(msg)}): set source_profile on the aws service, or configure a default profile`,
    );
  return new CredentialUnavailable(`source profile "${profile}": ${firstLine(msg)}`);
}

/** An STS error, translated into what to configure instead. */
export function stsError(e: unknown, req: AwsMintRequest): CredentialUnavailable {
  const name = errName(e);
  const msg = firstLine(errorMessage(e));
  if (/session credentials|GetFederationToken.*temporary/i.test(msg))
    return new CredentialUnavailable(
      `STS refused GetFederationToken: the source credentials are temporary; set role_arn so downscope calls AssumeRole instead (${msg})`,
    );
  if (/role chaining|1 hour session limit/i.test(msg))
    return new CredentialUnavailable(
      `STS refused DurationSeconds=${req.durationSeconds}: the source credentials are themselves a role session, and a role assumed from a role (role chaining) lasts at most 1 hour; set duration_seconds to 3600 or less (${msg})`,
    );
  if (/DurationSeconds exceeds the MaxSessionDuration|DurationSeconds/i.test(msg) && name === "ValidationError")
    return new CredentialUnavailable(
      `STS refused DurationSeconds=${req.durationSeconds}: it exceeds the role's maximum session duration; lower duration_seconds or raise the role's MaxSessionDuration (${msg})`,
    );
  if (name === "PackedPolicyTooLargeException" || /PackedPolicyTooLarge|packed/i.test(msg))
    return new CredentialUnavailable(
      `STS refused the session policy as too large once packed (${msg}); shorten ${req.policyOrigin} or move statements into policy_arns`,
    );
  if (name === "AccessDenied" || name === "AccessDeniedException" || /not authorized/i.test(msg)) {
    const action = req.api === "AssumeRole" ? "sts:AssumeRole" : "sts:GetFederationToken";
    const on = req.api === "AssumeRole" ? ` on ${req.roleArn}` : "";
    return new CredentialUnavailable(
      `STS denied ${req.api}: the source identity (profile "${req.source.profile ?? "default"}") needs ${action}${on}${req.api === "AssumeRole" ? ", and the role's trust policy must trust it" : ""} (${msg})`,
    );
  }
  if (name === "ExpiredTokenException" || /expired/i.test(msg))
    return new CredentialUnavailable(
      `the source credentials have expired (${msg}); refresh them (e.g. \`aws sso login --profile ${req.source.profile ?? "default"}\`) and retry`,
    );
  return new CredentialUnavailable(`STS ${req.api} failed: ${name}: ${msg}`);
}

function firstLine(s: string): string {
  return (s.split("\n")[0] ?? s).slice(0, 300);
}
