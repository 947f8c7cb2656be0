/**
 * gh: GH_TOKEN (github.com) or GH_ENTERPRISE_TOKEN (an Enterprise host) = the
 * slot's token, with every other way gh finds a credential cut off. The
 * research behind each line is the gh table in docs/exec.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PolicyDenied } from "../../errors.js";
import { valueFlagsFor } from "../../policy/cli-knowledge.js";
import type { Channel, ChannelInput } from "../channel.js";
import { without } from "../env.js";
import { slotToken } from "./slot-token.js";
import type { MintInfo } from "../../credentials/provider.js";

/** The token a gh command runs with: a slot's, or one minted by the GitHub App. */
async function ghToken(input: ChannelInput): Promise<{ value: string; host: string; minted?: MintInfo } | undefined> {
  if (input.grant.mode === "github_app") {
    const [{ githubAppScope, ghHostForApi, DEFAULT_API_URL }, { githubAppRequest, obtainInstallationToken }] =
      await Promise.all([import("../../credentials/github-app-scope.js"), import("../../credentials/github-app.js")]);
    const host = normalizeHost(ghHostForApi(input.grant.config.api_url ?? DEFAULT_API_URL));
    // Hosts first: nothing is minted for a command that would send the token elsewhere.
    checkHosts(input, host);
    const scope = githubAppScope(input.grant, input.args, input.parentEnv, input.cwd);
    const t = await obtainInstallationToken(githubAppRequest(input.grant, scope), {
      env: input.parentEnv,
      cwd: input.cwd,
      now: input.now,
    });
    return { value: t.value, host, minted: t.info };
  }
  const token = await slotToken(input);
  const host = normalizeHost(token?.slot.host ?? "github.com");
  checkHosts(input, host);
  return token === undefined ? undefined : { value: token.value, host };
}

function checkHosts(input: ChannelInput, host: string): void {
  for (const h of namedHosts(input.args, input.parentEnv)) {
    if (h !== host)
      throw new PolicyDenied(
        `${input.binary}: the command names host ${h}, but the scoped credential is for ${host}; downscope does not send it elsewhere`,
      );
  }
}

/** Sent where no credential may go; the server answers 401, and gh never falls back to a stored login. */
export const NO_CREDENTIAL = "downscope-no-credential-for-this-host";

/** Removed before anything is set: credentials, hosts, config/data dirs, and programs gh would start with the token in their environment. */
export const GH_STRIP = [
  "GH_TOKEN",
  "GITHUB_TOKEN",
  "GH_ENTERPRISE_TOKEN",
  "GITHUB_ENTERPRISE_TOKEN",
  "GH_HOST",
  "GH_CONFIG_DIR",
  "GH_DATA_DIR",
  "GH_STATE_DIR",
  "GH_PATH",
  "GH_EDITOR",
  "GIT_EDITOR",
  "VISUAL",
  "EDITOR",
  "GH_BROWSER",
  "BROWSER",
  "GH_PAGER",
  "PAGER",
  "GIT_PAGER",
  "GIT_ASKPASS",
  "SSH_ASKPASS",
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_EXEC_PATH",
  "GIT_CONFIG_GLOBAL",
  "GIT_CONFIG_SYSTEM",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
] as const;

/** config.yml keys that run programs or redirect requests: never copied. */
const UNSAFE_CONFIG_KEYS = ["aliases", "http_unix_socket", "pager", "editor", "browser", "hosts"];

export function normalizeHost(h: string): string {
  let s = h.trim().toLowerCase();
  s = s.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  if (s === "api.github.com") return "github.com";
  return s;
}

export const isEnterprise = (host: string) => normalizeHost(host) !== "github.com";

/** The host part of a -R/--repo or GH_REPO value ([HOST/]OWNER/REPO or a URL), if it names one. */
export function repoHost(v: string): string | undefined {
  if (v.includes("://")) {
    try {
      return normalizeHost(new URL(v).host);
    } catch {
      return v;
    }
  }
  if (/^[^/]+@[^:]+:/.test(v)) return normalizeHost(v.slice(v.indexOf("@") + 1, v.indexOf(":")));
  const parts = v.split("/");
  return parts.length >= 3 ? normalizeHost(parts[0]!) : undefined;
}

/** Hosts an invocation would talk to that it names explicitly (flags, URLs, GH_REPO). */
export function namedHosts(args: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const hosts: string[] = [];
  const valueFlags = valueFlagsFor("gh", []);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      for (const rest of args.slice(i + 1)) if (/^https?:\/\//i.test(rest)) hosts.push(normalizeHost(rest));
      break;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq === -1 ? a : a.slice(0, eq);
    const inline = eq === -1 ? undefined : a.slice(eq + 1);
    if (name === "--hostname") {
      const v = inline ?? args[++i];
      if (v !== undefined) hosts.push(normalizeHost(v));
      continue;
    }
    if (name === "-R" || name === "--repo" || (a.startsWith("-R") && a.length > 2 && !a.startsWith("--"))) {
      const v = inline ?? (a.startsWith("-R") && a.length > 2 ? a.slice(2) : args[++i]);
      const h = v === undefined ? undefined : repoHost(v);
      if (h !== undefined) hosts.push(h);
      continue;
    }
    if (a.startsWith("-")) {
      if (inline === undefined && valueFlags.has(a)) i++;
      continue;
    }
    if (/^https?:\/\//i.test(a)) hosts.push(normalizeHost(a));
  }
  const repo = env.GH_REPO;
  if (repo !== undefined && repo !== "") {
    const h = repoHost(repo);
    if (h !== undefined) hosts.push(h);
  }
  return hosts;
}

/** The user's config.yml without the keys that run programs or redirect requests. */
async function safeConfig(input: ChannelInput): Promise<string> {
  const e = input.parentEnv;
  const dir =
    e.GH_CONFIG_DIR ??
    (e.XDG_CONFIG_HOME ? join(e.XDG_CONFIG_HOME, "gh") : e.HOME ? join(e.HOME, ".config", "gh") : undefined);
  if (dir === undefined) return "";
  let text: string;
  try {
    text = readFileSync(join(dir, "config.yml"), "utf8");
  } catch {
    return "";
  }
  const { parse, stringify } = await import("yaml");
  try {
    const data: unknown = parse(text);
    if (data === null || typeof data !== "object" || Array.isArray(data)) return "";
    const copy = { ...(data as Record<string, unknown>) };
    for (const k of UNSAFE_CONFIG_KEYS) delete copy[k];
    return stringify(copy);
  } catch {
    return "";
  }
}

export const channel: Channel = async (input) => {
  const token = await ghToken(input);
  const host = token?.host ?? "github.com";
  const env = without(input.baseEnv, GH_STRIP);
  for (const k of Object.keys(env)) if (/^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(k)) delete env[k];
  const pass = input.grant.config.pass_env ?? [];
  for (const k of pass) if (input.parentEnv[k] !== undefined) env[k] = input.parentEnv[k];

  const configDir = join(input.tmpDir, "gh-config");
  const dataDir = join(input.tmpDir, "gh-data");
  mkdirSync(configDir, { mode: 0o700 });
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(join(configDir, "config.yml"), await safeConfig(input), { mode: 0o600 });
  env.GH_CONFIG_DIR = configDir;
  env.GH_DATA_DIR = dataDir;
  env.GH_STATE_DIR = dataDir;
  env.GH_PAGER = "";

  if (token === undefined) {
    env.GH_TOKEN = NO_CREDENTIAL;
    env.GH_ENTERPRISE_TOKEN = NO_CREDENTIAL;
    return { env, secrets: [] };
  }
  if (isEnterprise(host)) {
    env.GH_ENTERPRISE_TOKEN = token.value;
    env.GH_TOKEN = NO_CREDENTIAL;
    env.GH_HOST = host;
  } else {
    env.GH_TOKEN = token.value;
    env.GH_ENTERPRISE_TOKEN = NO_CREDENTIAL;
  }
  if (input.parentEnv.GH_REPO) env.GH_REPO = input.parentEnv.GH_REPO;
  return { env, secrets: [token.value], ...(token.minted ? { minted: token.minted } : {}) };
};
