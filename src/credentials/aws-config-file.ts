/**
 * The shared AWS config file (~/.aws/config), read and edited as text so that
 * everything we do not own stays byte-for-byte as it was.
 * Format: https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html
 * (`[default]`, `[profile NAME]`, `key = value`, nested values on indented lines).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "../paths.js";

export function awsConfigPath(env: Env): string {
  return env.AWS_CONFIG_FILE || join(env.HOME || homedir(), ".aws", "config");
}

export function awsCredentialsPath(env: Env): string {
  return env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), ".aws", "credentials");
}

export const sectionName = (profile: string) => (profile === "default" ? "default" : `profile ${profile}`);

/** The settings of one profile: key → its raw lines (the `key = value` line and any indented sub-lines). */
export function profileSettings(text: string, profile: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const want = sectionName(profile);
  let inSection = false;
  let current: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(line);
    if (header) {
      inSection =
        header[1]!.replace(/\s+/g, " ") === want || (profile === "default" && header[1] === "profile default");
      current = undefined;
      continue;
    }
    if (!inSection || /^\s*([#;].*)?$/.test(line)) continue;
    if (/^\s/.test(line) && current) {
      current.push(line);
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (kv) {
      current = [line.trimEnd()];
      out.set(kv[1]!.toLowerCase(), current);
    }
  }
  return out;
}

/**
 * Settings copied from the source profile into the private profile: how to
 * talk to AWS, never where credentials come from (no keys, role_arn,
 * source_profile, sso_*, credential_process, mfa_serial) and no endpoint_url
 * (the scoped credential goes only where the trusted policy allows).
 */
export const COPIED_SETTINGS = [
  "region",
  "output",
  "ca_bundle",
  "retry_mode",
  "max_attempts",
  "cli_pager",
  "cli_timestamp_format",
  "cli_binary_format",
  "parameter_validation",
  "s3",
  "sts_regional_endpoints",
  "use_fips_endpoint",
  "use_dualstack_endpoint",
  "defaults_mode",
  "tcp_keepalive",
] as const;

/** Quote one word for a credential_process line: the AWS CLI splits it with POSIX shlex, the JS SDK runs it through sh. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
