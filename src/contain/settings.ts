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
import { statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { CREDENTIAL_STORES, STORE_FILES } from "../protection/credential-stores.js";
import { protectedPaths, slotsDir, trustKeyPath } from "../protection/protected-paths.js";
import { CREDENTIAL_ENV, secretVars } from "../protection/secret-env.js";
import { cacheHome, configHome, dataHome, runRoot, stateHome, type Env } from "../paths.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ContainInput {
  env: Env;
  /** `<node> <downscope-exec.js>`: what the hook writes before a service call. */
  exec: string;
  /** Token files (`file:` slot sources) and environment variables (`env_var:`) named in the policy layers. */
  slotFiles: string[];
  slotVars: string[];
  /** The slots' tokens as read at install (never written anywhere): a variable holding one is kept out too. */
  slotValues?: string[];
}

export interface ContainSettings {
  sandbox: { [k: string]: Json };
  denyRules: string[];
  /** Directories to create (empty, 0700) before the first session: a denyRead on a path created later misses commands already running. */
  preCreate: string[];
  /** The variables removed from every sandboxed process. */
  keptOut: string[];
}

export function containSettings(input: ContainInput): ContainSettings {
  const home = input.env.HOME ?? "";
  const fromHome = (rel: string) => join(home, rel);
  // path → whether it is a directory (a rule then covers what is below it, and install creates it if missing).
  const readDeny = new Map<string, boolean>([
    ...CREDENTIAL_STORES.map((rel) => [fromHome(rel), !STORE_FILES.has(rel)] as const),
    ...input.slotFiles.map((f) => [f, false] as const),
    [slotsDir(input.env), true],
    [trustKeyPath(input.env), false],
    [join(configHome(input.env), "audit.key"), false],
    [cacheHome(input.env), true], // the credential cache and compiled policies
    [runRoot(input.env), true], // the run directories downscope-exec (outside the sandbox) writes credential files into
  ]);
  for (const v of ["GOOGLE_APPLICATION_CREDENTIALS", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"]) {
    const p = input.env[v];
    if (p && isAbsolute(p)) readDeny.set(p, false);
  }
  for (const p of (input.env.KUBECONFIG ?? "").split(":")) if (isAbsolute(p)) readDeny.set(p, false);

  const writeDeny = new Map<string, boolean>([
    [configHome(input.env), true],
    [stateHome(input.env), true],
    [cacheHome(input.env), true],
    [dataHome(input.env), true],
    [fromHome(".claude"), true],
  ]);
  for (const p of protectedPaths(input.env, "/nonexistent-project"))
    if (!p.path.startsWith("/nonexistent-project") && !writeDeny.has(p.path))
      writeDeny.set(p.path, isDirectory(p.path));

  // Every credential variable of the installer's environment too, whatever its name (MY_GH_PAT).
  const keptOut = [
    ...new Set([...CREDENTIAL_ENV, ...input.slotVars, ...secretVars(input.env, new Set(input.slotValues ?? []))]),
  ].sort();
  const envVars = keptOut.map((name) => ({ name, mode: "deny" }));
  const rule = (kind: "Read" | "Edit", [p, dir]: [string, boolean]) =>
    `${kind}(${ruleSpelling(p, home)}${dir ? "/**" : ""})`;
  const sorted = (m: Map<string, boolean>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  const denyRules = [
    ...sorted(readDeny).map((e) => rule("Read", e)),
    ...sorted(writeDeny).map((e) => rule("Edit", e)),
    "Edit(./.claude/settings.json)",
    "Edit(./.claude/settings.local.json)",
  ];
  const preCreate = sorted(readDeny)
    .filter(([p, dir]) => dir && home !== "" && p.startsWith(`${home}/`))
    .map(([p]) => p);
  return {
    sandbox: {
      enabled: true,
      failIfUnavailable: true,
      allowUnsandboxedCommands: false,
      excludedCommands: [`${input.exec} *`],
      filesystem: { denyRead: sorted(readDeny).map(([p]) => p), denyWrite: sorted(writeDeny).map(([p]) => p) },
      credentials: { envVars },
    },
    denyRules,
    preCreate,
    keptOut,
  };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return !/\.[a-z]+$/.test(p);
  }
}

/** Permission-rule paths: `~/…` under the home, `//abs` for other absolute paths (a single `/` is relative to the settings file). */
function ruleSpelling(p: string, home: string): string {
  if (home !== "" && p.startsWith(`${home}/`)) return `~/${p.slice(home.length + 1)}`;
  return `/${p}`;
}
