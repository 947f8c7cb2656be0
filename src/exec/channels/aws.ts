/**
 * aws channel: the child gets no keys at all. It gets a private AWS config
 * file whose single profile has a `credential_process` line calling back into
 * `downscope credential-process` for this rule's credential, and an empty
 * private shared-credentials file; every ambient way to credentials is
 * removed (keys, the user's profiles, container and web-identity credentials,
 * the instance metadata service). `--profile other` then has nothing to reach,
 * and a long `aws s3 sync` keeps working past expiry because the CLI runs
 * credential_process again.
 *
 * The first credential is minted here (and cached), so that a source that
 * needs a login fails before the child starts, with downscope's message.
 * Pattern: aws-vault `cli/exec.go` (strip, then set).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CredentialUnavailable } from "../../errors.js";
import { packageRoot } from "../../package-root.js";
import type { Grant } from "../../policy/evaluate.js";
import type { Env } from "../../paths.js";
import {
  buildMintRequest,
  CACHE_NAMESPACE,
  mintAwsCredential,
  mintCacheKey,
  obtainAwsCredential,
  STS_ENDPOINT_ENV,
  type AwsMintRequest,
  type AwsSource,
} from "../../credentials/aws.js";
import {
  awsConfigPath,
  awsCredentialsPath,
  COPIED_SETTINGS,
  profileSettings,
  shellQuote,
} from "../../credentials/aws-config-file.js";
import type { Channel, ChannelInput } from "../channel.js";

/** The variable a confined aws CLI's credential_process prints (the session, as credential_process JSON). */
export const SESSION_ENV = "DOWNSCOPE_AWS_SESSION";

/** The only profile in the private config. */
export const PRIVATE_PROFILE = "downscope";

/** Removed from the child's environment (then AWS_CONFIG_FILE, AWS_PROFILE, ... are set). */
export const STRIPPED = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_CREDENTIAL_FILE",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_SDK_LOAD_CONFIG",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
] as const;
const STRIPPED_PREFIXES = ["AWS_CONTAINER_"] as const;

/** The source the credential is minted from, as the user's environment names it. */
export function sourceFor(grant: Grant, parentEnv: Env): AwsSource {
  const profile = grant.config.source_profile ?? (parentEnv.AWS_PROFILE || parentEnv.AWS_DEFAULT_PROFILE || undefined);
  return {
    ...(profile !== undefined ? { profile } : {}),
    configFile: awsConfigPath(parentEnv),
    credentialsFile: awsCredentialsPath(parentEnv),
  };
}

function hostAllowed(url: string, allowed: readonly string[]): boolean {
  try {
    return allowed.includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The child's environment: strip, then set (pure). */
export function childEnv(
  baseEnv: Env,
  grant: Grant,
  files: { config: string; credentials: string },
): Record<string, string> {
  const allowed = grant.config.allowed_hosts ?? [];
  const strip = new Set<string>([...STRIPPED, ...(grant.config.strip_env ?? [])]);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) {
    if (v === undefined || strip.has(k) || STRIPPED_PREFIXES.some((p) => k.startsWith(p))) continue;
    // An endpoint variable sends the scoped credential's requests elsewhere:
    // kept only for hosts the trusted policy lists (like the --endpoint-url guard).
    if ((k.startsWith("AWS_ENDPOINT_URL") || k === STS_ENDPOINT_ENV) && !hostAllowed(v, allowed)) continue;
    env[k] = v;
  }
  env.AWS_CONFIG_FILE = files.config;
  env.AWS_SHARED_CREDENTIALS_FILE = files.credentials;
  env.AWS_PROFILE = PRIVATE_PROFILE;
  env.AWS_EC2_METADATA_DISABLED = "true";
  return env;
}

/** The credential_process argv for this grant (absolute node, absolute downscope bin). */
export function credentialProcessArgv(
  grant: Grant,
  req: AwsMintRequest,
  node: string,
  bin: string,
  approvedRun?: string,
): string[] {
  return [
    node,
    bin,
    "credential-process",
    "--service",
    grant.service,
    "--layer",
    grant.layer,
    ...(grant.rule ? ["--rule", grant.rule.name] : []),
    "--expect-key",
    mintCacheKey(req),
    ...(approvedRun !== undefined ? ["--approved-run", approvedRun] : []),
    ...(req.source.profile !== undefined ? ["--source-profile", req.source.profile] : []),
    ...(req.source.configFile !== undefined ? ["--aws-config-file", req.source.configFile] : []),
    ...(req.source.credentialsFile !== undefined ? ["--aws-credentials-file", req.source.credentialsFile] : []),
  ];
}

/** The private config file's text (pure given the source profile's text). */
export function privateConfig(
  argv: string[],
  sourceText: string | undefined,
  req: AwsMintRequest,
  grant: Grant,
): string {
  const lines = [
    "# Written by downscope-exec for one command and removed when it ends.",
    `[profile ${PRIVATE_PROFILE}]`,
    `credential_process = ${argv.map(shellQuote).join(" ")}`,
  ];
  const settings: Map<string, string[]> =
    sourceText !== undefined
      ? profileSettings(sourceText, req.source.profile ?? "default")
      : new Map<string, string[]>();
  for (const key of COPIED_SETTINGS) {
    if (key === "region" && grant.config.region !== undefined) continue;
    const raw = settings.get(key);
    if (raw) lines.push(...raw);
  }
  if (grant.config.region !== undefined) lines.push(`region = ${grant.config.region}`);
  else if (!settings.has("region")) lines.push(`region = ${req.region}`);
  return lines.join("\n") + "\n";
}

function readIfExists(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export interface AwsChannelDeps {
  node: string;
  bin: string;
  interactive: boolean;
  processEnv: NodeJS.ProcessEnv;
  /** Mint (and cache) the first credential before the child starts. */
  prime: boolean;
  stderr: (text: string) => void;
}

export function makeAwsChannel(deps: AwsChannelDeps): Channel {
  return async (input: ChannelInput) => {
    const { grant, parentEnv, tmpDir } = input;
    if (grant.mode !== "sts_policy")
      throw new CredentialUnavailable(
        `services.${grant.service} uses downscope_mode ${grant.mode}; the aws CLI is downscoped with sts_policy`,
      );
    const source = sourceFor(grant, parentEnv);
    const req = buildMintRequest(grant, { env: parentEnv, packageRoot: packageRoot(), source });
    const files = { config: join(tmpDir, "aws-config"), credentials: join(tmpDir, "aws-credentials") };
    const env = childEnv(input.baseEnv, grant, files);
    // A review the human approved (the wrapper only gets here once it has
    // consumed the approval): credential-process may mint the service's
    // defaults while this file exists, i.e. while this command runs.
    let approvedRun: string | undefined;
    if (input.decision.action === "review" && grant.rule === undefined) {
      approvedRun = join(tmpDir, "aws-approved-run");
      writeFileSync(approvedRun, mintCacheKey(req) + "\n", { mode: 0o600 });
    }
    // Confined (contained mode): the CLI cannot reach downscope's cache or your source profile, and no
    // file of its namespace may hold a secret; its credential_process prints the session minted here,
    // kept in its own environment. A command that outlives the session (an hour by default) then gets
    // an expired one, never a wider one.
    const argv = input.confined
      ? ["/bin/sh", "-c", `printf '%s' "$${SESSION_ENV}"`]
      : credentialProcessArgv(grant, req, deps.node, deps.bin, approvedRun);
    writeFileSync(files.config, privateConfig(argv, readIfExists(source.configFile), req, grant), { mode: 0o600 });
    writeFileSync(files.credentials, "", { mode: 0o600 });
    env.AWS_PAGER = "";
    const secrets: string[] = [];
    if (deps.prime || input.confined) {
      const { credential } = await obtainAwsCredential(
        req,
        { env: parentEnv, namespace: CACHE_NAMESPACE, now: input.now },
        (r) => mintAwsCredential(r, { interactive: deps.interactive, processEnv: deps.processEnv }, deps.stderr),
      );
      secrets.push(credential.SecretAccessKey, credential.SessionToken);
      if (input.confined) env[SESSION_ENV] = JSON.stringify({ Version: 1, ...credential });
    }
    return { env, secrets };
  };
}

export const channel: Channel = (input) =>
  makeAwsChannel({
    node: process.execPath,
    bin: join(packageRoot(), "bin", "downscope.js"),
    // Asked only when minting: process.stdin and process.stderr set up streams.
    get interactive() {
      return process.stdin.isTTY === true || process.stderr.isTTY === true;
    },
    processEnv: process.env,
    prime: true,
    stderr: (t) => void process.stderr.write(t),
  })(input);
