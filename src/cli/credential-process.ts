/**
 * `downscope credential-process`: the AWS CLI/SDK "sourcing credentials with an
 * external process" contract
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html):
 * stdout carries exactly one JSON object
 *   {"Version":1,"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}
 * and nothing else; errors go to stderr with a non-zero exit.
 *
 * Called two ways:
 *  - by the private profile that `downscope-exec aws` writes for one command:
 *      --service S --layer L [--rule R] --expect-key K --aws-config-file ... --source-profile P
 *    The rule is looked up again in the current policy: it must still exist in
 *    that trusted layer and still be `allow`, and the request it yields must
 *    have the key the wrapper computed (a policy edited since then is refused).
 *  - by a profile `downscope install aws` added to ~/.aws/config:
 *      --source-profile P [--policy NAME|FILE] [--role-arn ARN] [--service S]
 *    The service's defaults apply (no rule), with these flags on top.
 *  - for a `review` command a human approved, the wrapper's profile also has
 *    --approved-run FILE: a private file in the run's directory (removed when
 *    the command ends) holding the expected key. While it exists, the
 *    service's defaults may be minted even though the default is not `allow`.
 *  `--for-argv ARGS...` decides `aws ARGS` and mints for its grant.
 *
 * The AWS CLI runs credential_process before every command and does not cache
 * it, so the cache-hit path loads no SDK: the policy (yaml, zod) and node:fs.
 */
import { fingerprint } from "../credentials/token-sources.js";
import { lstatSync, readFileSync } from "node:fs";
import { CredentialUnavailable, PolicyDenied, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { decide, describeDecision, type Grant } from "../policy/evaluate.js";
import { loadPolicy, pathContext } from "../policy/index.js";
import { serviceForBinary, settingsOf, type LayerName, type Policy } from "../policy/policy.js";
import type { Service } from "../policy/schema.js";
import {
  buildMintRequest,
  CACHE_NAMESPACE,
  MINTING_ENV,
  mintAwsCredential,
  mintCacheKey,
  obtainAwsCredential,
  type AwsCredential,
  type AwsSource,
} from "../credentials/aws.js";
import type { Command, Io } from "../io.js";

export const USAGE =
  "downscope credential-process [--service NAME] [--rule NAME | --for-argv ARGS...] [--source-profile P] [--policy NAME|FILE] [--role-arn ARN] [--duration SECONDS]";

export interface CredentialProcessArgs {
  service?: string;
  layer?: LayerName;
  rule?: string;
  forArgv?: string[];
  expectKey?: string;
  /** A private file naming the key of an approved review run (see above). */
  approvedRun?: string;
  sourceProfile?: string;
  policy?: string;
  roleArn?: string;
  duration?: number;
  source: AwsSource;
}

/**
 * `--name value` and `--name=value` for the given names, strictly (what
 * node:util parseArgs does for string options; loading it cost every AWS CLI
 * call about 1 ms). The last of a repeated option wins.
 */
function parseStringOptions(argv: readonly string[], names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const fail = (message: string) => new UsageError(`${message}\nusage: ${USAGE}`);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--") || a === "--") throw fail(`Unexpected argument '${a}'`);
    const eq = a.indexOf("=");
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (!names.includes(name)) throw fail(`Unknown option '--${name}'`);
    if (eq !== -1) {
      out[name] = a.slice(eq + 1);
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) throw fail(`Option '--${name} <value>' argument missing`);
    if (value.startsWith("-"))
      throw fail(
        `Option '--${name}' argument is ambiguous: to give a value starting with '-', write --${name}=${value}`,
      );
    out[name] = value;
    i++;
  }
  return out;
}

export function parseCredentialProcessArgs(argv: string[]): CredentialProcessArgs {
  const i = argv.indexOf("--for-argv");
  const own = i >= 0 ? argv.slice(0, i) : argv;
  const values = parseStringOptions(own, [
    "service",
    "layer",
    "rule",
    "expect-key",
    "approved-run",
    "source-profile",
    "policy",
    "role-arn",
    "duration",
    "aws-config-file",
    "aws-credentials-file",
  ]);
  const out: CredentialProcessArgs = { source: {} };
  if (values.service !== undefined) out.service = values.service;
  if (values.layer !== undefined) {
    if (!["managed", "user", "project"].includes(values.layer))
      throw new UsageError(`--layer must be managed, user or project, got "${values.layer}"`);
    out.layer = values.layer as LayerName;
  }
  if (values.rule !== undefined) out.rule = values.rule;
  if (i >= 0) out.forArgv = argv.slice(i + 1);
  if (out.rule !== undefined && out.forArgv !== undefined) throw new UsageError("give --rule or --for-argv, not both");
  if (values["expect-key"] !== undefined) out.expectKey = values["expect-key"];
  if (values["approved-run"] !== undefined) {
    if (out.rule !== undefined || out.forArgv !== undefined || out.expectKey === undefined)
      throw new UsageError("--approved-run goes with --expect-key and without --rule or --for-argv");
    out.approvedRun = values["approved-run"];
  }
  if (values["source-profile"] !== undefined) out.sourceProfile = values["source-profile"];
  if (values.policy !== undefined) out.policy = values.policy;
  if (values["role-arn"] !== undefined) {
    if (!values["role-arn"].startsWith("arn:")) throw new UsageError("--role-arn must be an ARN (arn:aws:iam::...)");
    out.roleArn = values["role-arn"];
  }
  if (values.duration !== undefined) {
    const n = Number(values.duration);
    if (!Number.isInteger(n) || n < 900 || n > 43200)
      throw new UsageError("--duration must be a whole number of seconds between 900 and 43200");
    out.duration = n;
  }
  if (values["aws-config-file"] !== undefined) out.source.configFile = values["aws-config-file"];
  if (values["aws-credentials-file"] !== undefined) out.source.credentialsFile = values["aws-credentials-file"];
  return out;
}

/** Policy name (policies/aws/NAME.json) or a file path, as a policy_file reference. */
export function policyRef(nameOrFile: string, cwd: string): string {
  if (nameOrFile.includes("/") || nameOrFile.endsWith(".json"))
    return nameOrFile.startsWith("/") ? nameOrFile : `${cwd}/${nameOrFile}`;
  if (!/^[A-Za-z0-9_.-]+$/.test(nameOrFile))
    throw new UsageError(`--policy "${nameOrFile}": expected a name or a path`);
  return `aws/${nameOrFile}.json`;
}

/**
 * The grant to mint for (pure given the policy). Throws PolicyDenied when the
 * current policy no longer allows it.
 */
export function resolveGrant(policy: Policy, a: CredentialProcessArgs, cwd: string, env: Io["env"]): Grant {
  if (a.forArgv !== undefined) {
    const d = decide(policy, { kind: "cli", binary: "aws", args: a.forArgv }, pathContext(cwd, env));
    if (d.action !== "allow") throw new PolicyDenied(describeDecision(d));
    if (!d.grant) throw new CredentialUnavailable(`${describeDecision(d)}; but no trusted layer grants a credential`);
    return d.grant;
  }
  // The layers that configure the service, by name or as the one covering `aws`.
  const found = policy.layers.flatMap((layer) => {
    const hit =
      a.service !== undefined
        ? layer.config.services[a.service] !== undefined
          ? ([a.service, layer.config.services[a.service]!] as const)
          : undefined
        : serviceForBinary(layer.config, "aws");
    return hit ? [{ layer, name: hit[0], service: hit[1] }] : [];
  });
  if (found.length === 0) {
    if (a.rule !== undefined || a.layer !== undefined)
      throw new PolicyDenied(
        `no policy configures the AWS service${a.service ? ` "${a.service}"` : ""} any more; the rule "${a.rule ?? "default"}" this profile was written for is gone`,
      );
    // Standalone (installed profile, no policy file): the flags alone.
    return {
      service: a.service ?? "aws",
      mode: "sts_policy",
      layer: "user",
      file: `${cwd}/(credential-process flags)`,
      // The schema's defaults, written out: this path must not load zod (it runs on every aws call).
      config: { downscope_mode: "sts_policy", default_action: "allow", on_missing_credential: "deny", rules: [] },
    };
  }
  const trusted = found.filter((f) => f.layer.trusted);
  const granting = a.layer !== undefined ? trusted.find((f) => f.layer.name === a.layer) : trusted[trusted.length - 1];
  if (!granting)
    throw new PolicyDenied(
      a.layer !== undefined
        ? `the ${a.layer} config no longer configures this service, or is no longer trusted`
        : "no trusted layer configures the AWS service, so none can grant a credential",
    );
  if (granting.service.downscope_mode !== "sts_policy")
    throw new CredentialUnavailable(
      `services.${granting.name} in ${granting.layer.file} uses downscope_mode ${granting.service.downscope_mode}; credential-process needs sts_policy`,
    );
  const base = {
    service: granting.name,
    mode: "sts_policy" as const,
    layer: granting.layer.name,
    file: granting.layer.file,
    config: granting.service,
  };
  if (a.rule !== undefined) {
    const rule = granting.service.rules.find((r) => r.name === a.rule);
    if (!rule)
      throw new PolicyDenied(
        `rule "${a.rule}" no longer exists in services.${granting.name} of ${granting.layer.file}`,
      );
    if (rule.action !== "allow")
      throw new PolicyDenied(`rule "${a.rule}" in ${granting.layer.file} is now ${rule.action}, not allow`);
    return { ...base, rule };
  }
  // No rule: the service's defaults; every layer (trusted or not) must still
  // allow by default, unless this is a run a human approved (checked by the caller).
  if (a.approvedRun === undefined)
    for (const f of found)
      if (f.service.default_action !== "allow")
        throw new PolicyDenied(
          `services.${f.name} in ${f.layer.file} has default_action ${f.service.default_action}: a profile without a rule cannot be granted a credential`,
        );
  return base;
}

/** Apply the installed profile's flags on top of the service. */
function withFlags(grant: Grant, a: CredentialProcessArgs, cwd: string): Grant {
  const patch: Partial<Service> = {};
  if (a.sourceProfile !== undefined) patch.source_profile = a.sourceProfile;
  if (a.roleArn !== undefined) patch.role_arn = a.roleArn;
  if (a.duration !== undefined) patch.duration_seconds = a.duration;
  if (a.policy !== undefined) {
    // The flag names the session policy outright: no rule policy, no service inline policy.
    patch.policy_file = policyRef(a.policy, cwd);
    patch.inline_policy = undefined;
    return { ...grant, rule: undefined, config: { ...grant.config, ...patch } };
  }
  return { ...grant, config: { ...grant.config, ...patch } };
}

export interface CredentialProcessDeps {
  interactive: boolean;
  processEnv: NodeJS.ProcessEnv;
  now: () => Date;
}

/** The STS request a credential-process command line stands for, after re-deciding with the current policy. */
export async function requestFor(a: CredentialProcessArgs, io: Pick<Io, "cwd" | "env">) {
  // A broken policy is a ConfigError: fail closed, with file positions.
  const policy: Policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  const grant = withFlags(resolveGrant(policy, a, io.cwd, io.env), a, io.cwd);
  const req = buildMintRequest(grant, { env: io.env, packageRoot: packageRoot(), source: a.source });
  return { req, margin: settingsOf(policy).cacheMarginSeconds ?? 300, policy };
}

export async function credentialProcessFor(
  argv: string[],
  io: Io,
  deps: CredentialProcessDeps,
): Promise<{ credential: AwsCredential; minted: boolean; args: CredentialProcessArgs; policy: Policy }> {
  if (io.env[MINTING_ENV] === "1")
    throw new CredentialUnavailable(
      "the source profile calls back into downscope credential-process (a loop): give a source_profile with its own credentials",
    );
  const a = parseCredentialProcessArgs(argv);
  const { req, margin, policy } = await requestFor(a, io);
  if (a.approvedRun !== undefined && readApproval(a.approvedRun) !== mintCacheKey(req))
    throw new PolicyDenied(
      "the approval for this command is gone (the approved command has ended) or does not match; the command needs approval again",
    );
  if (a.expectKey !== undefined && a.expectKey !== mintCacheKey(req))
    throw new PolicyDenied(
      "the policy for this command changed after it started (different session policy, role or source); run the command again",
    );
  const { credential, minted } = await obtainAwsCredential(
    req,
    { env: io.env, namespace: CACHE_NAMESPACE, now: deps.now, marginSeconds: margin },
    (r) => mintAwsCredential(r, { interactive: deps.interactive, processEnv: deps.processEnv }, io.stderr),
  );
  return { credential, minted, args: a, policy };
}

/** The key in an approved-run file, if it is a private regular file of ours. */
export function readApproval(file: string): string | undefined {
  try {
    const st = lstatSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return undefined;
    if (typeof process.getuid === "function" && st.uid !== process.getuid()) return undefined;
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

export function formatCredentialProcess(c: AwsCredential): string {
  return (
    JSON.stringify({
      Version: 1,
      AccessKeyId: c.AccessKeyId,
      SecretAccessKey: c.SecretAccessKey,
      SessionToken: c.SessionToken,
      Expiration: c.Expiration,
    }) + "\n"
  );
}

export const credentialProcess: Command = async (argv, io) => {
  const {
    credential,
    minted,
    args: a,
    policy,
  } = await credentialProcessFor(argv, io, {
    // The AWS CLI gives credential_process pipes for stdout and stderr; an MFA
    // prompt is possible only when a human sits at a terminal. Asked only when
    // minting: process.stdin and process.stderr set up streams (about 2 ms).
    get interactive() {
      return io.env.DOWNSCOPE_NONINTERACTIVE !== "1" && (process.stdin.isTTY === true || process.stderr.isTTY === true);
    },
    processEnv: process.env,
    now: () => new Date(),
  });
  if (io.env.DOWNSCOPE_DEBUG) io.stderr(`downscope: credential-process: ${minted ? "minted" : "cache hit"}\n`);
  io.stdout(formatCredentialProcess(credential));
  // The session it hands out is masked wherever it shows up in an agent's output later (docs/masking.md);
  // a cache hit was remembered when it was minted.
  if (minted) {
    const { rememberSecrets } = await import("../mask/known-secrets.js");
    rememberSecrets([credential.SecretAccessKey, credential.SessionToken], io.env);
  }
  const { auditEvent } = await import("../audit/event.js");
  await auditEvent(
    {
      event: "credential",
      cwd: io.cwd,
      service: a.service ?? "aws",
      layer: a.layer,
      rule: a.rule,
      action: "allow",
      policy: a.policy ?? a.rule ?? "service policy",
      // The key id names this credential (CloudTrail logs it too) and is short to hash.
      fingerprint: fingerprint(credential.AccessKeyId),
      reason: minted ? "minted" : "cache hit",
    },
    { env: io.env, cwd: io.cwd, policy, stderr: io.stderr },
  );
  return 0;
};
