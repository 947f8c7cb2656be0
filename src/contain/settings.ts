/**
 * The Claude Code settings that contain an agent (pure): its own sandbox
 * (bubblewrap on Linux, Seatbelt on macOS) with no way out, every credential
 * store unreadable, downscope's files and Claude Code's settings unwritable,
 * credential variables removed from sandboxed commands, and downscope-exec —
 * exactly the hook's rewrite — run outside the sandbox where it can reach the
 * credentials it scopes. Each entry is proven against the real CLI in
 * test/e2e/contained.test.ts; what each does and why is in
 * docs/security-model.md ("Contained mode").
 *
 * Checked against Claude Code 2.1.328's settings schema:
 *   sandbox.enabled, failIfUnavailable, allowUnsandboxedCommands,
 *   excludedCommands (Bash rule syntax; a call is excluded only when every
 *   part matches; env prefixes, redirects, pipes keep it sandboxed),
 *   filesystem.denyRead / denyWrite, credentials.envVars ({name, mode:"deny"}
 *   unsets the variable in bwrap itself, so it is in no /proc/<pid>/environ);
 *   permissions.deny Read(…)/Edit(…) bind the file tools, which do not run
 *   in the sandbox.
 */
import { dirname, isAbsolute, join } from "node:path";
import { KNOWN_TOKEN_VARS } from "../exec/env.js";
import { runRoot } from "../exec/run-dir.js";
import { protectedPaths, slotsDir, trustKeyPath } from "../hook/protected-paths.js";
import { cacheHome, configHome, dataHome, stateHome, type Env } from "../paths.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Credential stores of the CLIs an agent may reach for; home-relative. */
export const CREDENTIAL_STORES = [
  ".aws",
  ".config/gh",
  ".config/gcloud",
  ".kube",
  ".docker/config.json",
  ".netrc",
  ".git-credentials",
  ".ssh",
  ".config/hub",
  ".config/git/credentials",
  ".npmrc",
  ".pypirc",
  ".azure",
  ".terraform.d/credentials.tfrc.json",
] as const;

/** Environment variables that carry or locate credentials, removed from every sandboxed command. */
export const CREDENTIAL_ENV = [
  ...KNOWN_TOKEN_VARS,
  ...["GITLAB_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"],
  ...["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"],
  ...["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "CLOUDSDK_AUTH_ACCESS_TOKEN", "KUBECONFIG"],
  ...["NPM_TOKEN", "DOCKER_AUTH_CONFIG", "AZURE_CLIENT_SECRET"],
] as const;

export interface ContainInput {
  env: Env;
  /** `<node> <downscope-exec.js>`: what the hook writes before a service call. */
  exec: string;
  /** Token files (`file:` slot sources) and environment variables (`env_var:`) named in the policy layers. */
  slotFiles: string[];
  slotVars: string[];
}

export interface ContainSettings {
  sandbox: { [k: string]: Json };
  denyRules: string[];
  /** Directories to create (empty, 0700) before the first session: a denyRead on a path created later misses commands already running. */
  preCreate: string[];
}

export function containSettings(input: ContainInput): ContainSettings {
  const home = input.env.HOME ?? "";
  const fromHome = (rel: string) => join(home, rel);
  const readDeny = new Set<string>([
    ...CREDENTIAL_STORES.map(fromHome),
    ...input.slotFiles,
    slotsDir(input.env),
    trustKeyPath(input.env),
    join(configHome(input.env), "audit.key"),
    cacheHome(input.env), // the credential cache and compiled policies
  ]);
  for (const v of ["GOOGLE_APPLICATION_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"]) {
    const p = input.env[v];
    if (p && isAbsolute(p)) readDeny.add(p);
  }
  for (const p of (input.env.KUBECONFIG ?? "").split(":")) if (isAbsolute(p)) readDeny.add(p);
  // The run directories downscope-exec (outside the sandbox) writes credential files into.
  readDeny.add(runRoot(input.env));

  const writeDeny = new Set<string>([
    configHome(input.env),
    stateHome(input.env),
    cacheHome(input.env),
    dataHome(input.env),
    fromHome(".claude"),
    fromHome(".claude.json"),
  ]);
  for (const p of protectedPaths(input.env, "/nonexistent-project")) {
    if (!p.path.startsWith("/nonexistent-project")) writeDeny.add(p.path);
  }

  const envVars = [...new Set([...CREDENTIAL_ENV, ...input.slotVars])].sort().map((name) => ({ name, mode: "deny" }));
  const rule = (kind: "Read" | "Edit", p: string, dir: boolean) =>
    `${kind}(${ruleSpelling(p, home)}${dir ? "/**" : ""})`;
  const isDir = (p: string) =>
    !/\.(json|key|yaml|yml|tfrc\.json)$/.test(p) && !/(\.netrc|credentials|\.npmrc|\.pypirc)$/.test(p);
  const denyRules = [
    ...[...readDeny].sort().map((p) => rule("Read", p, isDir(p))),
    ...[...writeDeny].sort().map((p) => rule("Edit", p, isDir(p))),
    "Edit(./.claude/settings.json)",
    "Edit(./.claude/settings.local.json)",
  ];
  const preCreate = [...readDeny].filter((p) => isDir(p) && p.startsWith(`${home}/`) && home !== "");
  return {
    sandbox: {
      enabled: true,
      failIfUnavailable: true,
      allowUnsandboxedCommands: false,
      excludedCommands: [`${input.exec} *`],
      filesystem: { denyRead: [...readDeny].sort(), denyWrite: [...writeDeny].sort() },
      credentials: { envVars },
    },
    denyRules,
    preCreate: preCreate.filter((p) => dirname(p) !== p),
  };
}

/** Permission-rule paths: `~/…` under the home, `//abs` for other absolute paths (a single `/` is relative to the settings file). */
function ruleSpelling(p: string, home: string): string {
  if (home !== "" && p.startsWith(`${home}/`)) return `~/${p.slice(home.length + 1)}`;
  return `/${p}`;
}
