/**
 * Which session policy a grant carries: the rule's `policy`/`policy_file`,
 * else the service's `inline_policy`/`policy_file`, else the packaged
 * read-only policy (policies/aws/read-only.json). A `policy_file` is looked up
 * relative to the config file's directory, then under the package's
 * `policies/` directory. The result is minified and hashed (the hash is part
 * of the cache key, so editing a policy mints a new credential).
 */
import { sha256Hex as lazySha256Hex } from "../lazy-crypto.js";
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import { checkSessionPolicy, minifyPolicy, SESSION_POLICY_MAX_ARNS } from "../policy/iam.js";
import type { Rule, Service } from "../policy/schema.js";

export const DEFAULT_POLICY_FILE = "aws/read-only.json";

export interface SessionPolicy {
  /** Minified JSON sent as `Policy`; undefined: no inline policy (managed ARNs only). */
  policy?: string;
  /** sha256 of `policy` (or of "" when there is none). */
  hash: string;
  /** Managed policy ARNs sent as `PolicyArns` ([] = none). */
  arns: string[];
  /** Where the policy came from, for messages: a file path or a config path. */
  origin: string;
}

export function sha256Hex(s: string): string {
  return lazySha256Hex(s);
}

/** Absolute path of a policy_file reference, or undefined when it exists nowhere. */
export function findPolicyFile(ref: string, configFile: string, packageRoot: string): string | undefined {
  if (isAbsolute(ref)) return existsSync(ref) ? ref : undefined;
  for (const base of [dirname(configFile), join(packageRoot, "policies")]) {
    const p = resolve(base, ref);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Read and check a policy file; every problem is a ConfigError naming the file. */
export function readPolicyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([
      {
        file: path,
        path: "",
        message: `cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      },
    ]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ file: path, path: "", message: `not valid JSON: ${(e as Error).message}` }]);
  }
  const problems = checkSessionPolicy(doc);
  if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ file: path, path: "", message })));
  return doc;
}

export interface PolicySource {
  rule?: Rule;
  service: Service;
  /** The config file that supplies the service (policy_file is relative to it). */
  configFile: string;
  packageRoot: string;
  /** Dotted path of the service in that file, for messages (services.aws). */
  servicePath: string;
}

export function resolveSessionPolicy(src: PolicySource): SessionPolicy {
  const { rule, service } = src;
  const arns = rule?.policy_arns ?? service.policy_arns ?? [];
  if (arns.length > SESSION_POLICY_MAX_ARNS)
    throw new ConfigError([
      { file: src.configFile, path: src.servicePath, message: `at most ${SESSION_POLICY_MAX_ARNS} policy_arns` },
    ]);
  const at = (p: string) => (rule ? `${src.servicePath} rule "${rule.name}" ${p}` : `${src.servicePath}.${p}`);
  let doc: unknown;
  let origin: string;
  const fileRef = rule?.policy_file ?? (rule?.policy === undefined ? service.policy_file : undefined);
  if (rule?.policy !== undefined) {
    doc = rule.policy;
    origin = `${src.configFile}: ${at("policy")}`;
  } else if (fileRef !== undefined) {
    const file = findPolicyFile(fileRef, src.configFile, src.packageRoot);
    if (file === undefined)
      throw new ConfigError([
        {
          file: src.configFile,
          path: at("policy_file"),
          message: `policy file "${fileRef}" not found next to the config file nor under the package's policies/`,
        },
      ]);
    doc = readPolicyFile(file);
    origin = file;
  } else if (service.inline_policy !== undefined && rule?.policy_arns === undefined) {
    doc = service.inline_policy;
    origin = `${src.configFile}: ${src.servicePath}.inline_policy`;
  } else if (arns.length > 0) {
    // Managed policy ARNs alone scope the session.
    return { hash: sha256Hex(""), arns, origin: `${src.configFile}: ${at("policy_arns")}` };
  } else {
    const file = join(src.packageRoot, "policies", DEFAULT_POLICY_FILE);
    doc = readPolicyFile(file);
    origin = `${file} (default: no policy configured)`;
  }
  const problems = checkSessionPolicy(doc);
  if (problems.length > 0)
    throw new ConfigError(problems.map((message) => ({ file: src.configFile, path: at("policy"), message })));
  const policy = minifyPolicy(doc);
  return { policy, hash: sha256Hex(policy), arns, origin };
}

/** lint: every policy_file of an sts_policy service exists and is a valid session policy. */
export function awsPolicyFileCheck(configFile: string, packageRoot: string) {
  return (
    config: { services: Record<string, Service> },
    report: (path: (string | number)[], severity: "error" | "warning", message: string) => void,
  ): void => {
    for (const [name, svc] of Object.entries(config.services)) {
      if (svc.downscope_mode !== "sts_policy") continue;
      const refs: [(string | number)[], string][] = [];
      if (svc.policy_file !== undefined) refs.push([["services", name, "policy_file"], svc.policy_file]);
      svc.rules.forEach((r, i) => {
        if (r.policy_file !== undefined) refs.push([["services", name, "rules", i, "policy_file"], r.policy_file]);
      });
      for (const [path, ref] of refs) {
        const file = findPolicyFile(ref, configFile, packageRoot);
        if (file === undefined) {
          report(path, "error", `policy file "${ref}" not found next to the config file nor under policies/`);
          continue;
        }
        try {
          readPolicyFile(file);
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          for (const i of e.issues) report(path, "error", `${file}: ${i.message}`);
        }
      }
    }
  };
}
