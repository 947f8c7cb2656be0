/**
 * Contained mode's stage of the exec plan: the real CLI, which runs outside
 * Claude Code's sandbox because that is where its credential is, is held as
 * tightly as the agent, but for the network (docs/security-model.md,
 * "Contained mode"; docs/adr/ADR-001-confined-cli-allowlist.md).
 *
 *   - inside the sandbox nothing is handed out (`sandboxedRefusal`): a call
 *     that got there from a pipe, a script or a shim fails closed with advice;
 *   - before any credential is read (`prepareConfinement`): no `env_var` slot
 *     (it lives in the agent's environment), no token file for a custom CLI
 *     (`inject_file_env`: a file the CLI can be told to upload), the shell
 *     inside the project, and every argument that names an existing path
 *     naming one inside it (confine/path-args.ts);
 *   - around the child (`wrap`): the plan's file, argv and environment in, a
 *     confined argv and environment out — bubblewrap with an allowlisted
 *     filesystem (confine/namespace.ts), an allowlisted environment
 *     (confine/child-env.ts) and git pinned and neutralised (confine/git.ts).
 *
 * The channels cooperate: told `confined`, they put the credential only in
 * the child's environment, never in a file, so nothing on any path of the
 * namespace is secret (with no procfs, the environment has no path either).
 */
import { realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { CredentialUnavailable, PolicyDenied } from "../errors.js";
import {
  cacheHome,
  configHome,
  dataHome,
  expandHome,
  inside,
  lexists as exists,
  stateHome,
  type Env,
} from "../paths.js";
import type { Grant } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";
import { CREDENTIAL_STORES } from "../protection/credential-stores.js";
import { credentialReads } from "../protection/credential-stores.js";
import { home, protectedPaths } from "../protection/protected-paths.js";
import { confinedEnv } from "./confine/child-env.js";
import { ghClones, gitEnv, projectRepo } from "./confine/git.js";
import { namespaceArgv } from "./confine/namespace.js";
import { checkPathArgs } from "./confine/path-args.js";
import { TRUST_VARS } from "./env.js";

export function sandboxedRefusal(binary: string, args: readonly string[]): PolicyDenied {
  const call = [binary, ...args].join(" ");
  return new PolicyDenied(
    `contained mode: \`${call.length > 100 ? `${call.slice(0, 97)}...` : call}\` reached downscope-exec inside the sandbox (from a pipe, a chain, a script or a shim), where no credential is handed out. Run it as a command of its own — just \`${binary} …\`, no pipe, chain, redirect, variable prefix or script — so that it runs outside the sandbox with its scoped credential; then process its output in a second command.`,
  );
}

/** The one bubblewrap Claude Code's sandbox uses too: root-owned, in a system directory. */
export function systemBwrap(): string | undefined {
  for (const p of ["/usr/bin/bwrap", "/bin/bwrap"]) {
    try {
      const st = statSync(p);
      if (st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The project the session works in: Claude Code's CLAUDE_PROJECT_DIR, else the policy's project root. */
export function containedProject(env: Env, policyRoot: string | undefined, cwd: string): string {
  const p = env.CLAUDE_PROJECT_DIR;
  if (p && p.startsWith("/")) return p;
  return policyRoot ?? cwd;
}

export function assertInProject(cwd: string, project: string): void {
  if (!inside(cwd, project))
    throw new PolicyDenied(
      `contained mode: service calls run outside the sandbox only from inside the project (${project}); the shell is in ${cwd}. \`cd\` back into the project first.`,
    );
}

export interface ConfineRequest {
  /** The service's binary name and its arguments. */
  binary: string;
  args: readonly string[];
  /** downscope-exec's environment. */
  env: Env;
  cwd: string;
  policy: Policy;
  grant: Grant;
}

export interface ChildSpec {
  /** The real binary. */
  file: string;
  /** The channel's environment for it. */
  env: Readonly<Record<string, string>>;
  /** The names the channel set itself (kept, whatever they are called). */
  set: ReadonlySet<string>;
  /** The run's private directory (the config the channel wrote). */
  runDir: string;
}

export interface SpawnSpec {
  file: string;
  /** argv[0] is what the process is called. */
  argv: string[];
  env: Record<string, string>;
}

export interface Confinement {
  project: string;
  wrap(child: ChildSpec): SpawnSpec;
}

/**
 * The checks a confined run must pass before a credential is read, and the
 * confinement to wrap the child in. Throws PolicyDenied or
 * CredentialUnavailable with what to do instead.
 */
export function prepareConfinement(req: ConfineRequest): Confinement {
  const { grant } = req;
  const slot = grant.slot !== undefined ? grant.config.token_slots?.[grant.slot] : undefined;
  if (slot?.env_var !== undefined)
    throw new CredentialUnavailable(
      `contained mode: slot "${grant.slot}" reads the environment variable ${slot.env_var}, which lives in the agent's environment. Store the token where the sandbox cannot read it — \`downscope slot set ${grant.slot}\` (then \`file: ~/.config/downscope/slots/${grant.slot}\`), or a keyring entry — and ask the user to do so`,
    );
  if ((slot?.inject_file_env ?? grant.config.inject_file_env) !== undefined)
    throw new CredentialUnavailable(
      `contained mode: services.${grant.service} hands its token to ${req.binary} in a file (inject_file_env), which the CLI could be told to upload; use inject_as (a variable) for it, or run it outside contained mode`,
    );
  const projectFile = req.policy.layers.find((l) => l.name === "project")?.file;
  const project = realpathOr(containedProject(req.env, projectFile && dirname(dirname(projectFile)), req.cwd));
  const cwd = realpathOr(req.cwd);
  assertInProject(cwd, project);
  checkPathArgs(req.binary, req.args, cwd, project);
  const bwrap = systemBwrap();
  if (bwrap === undefined)
    throw new CredentialUnavailable(
      "contained mode: bubblewrap (/usr/bin/bwrap) is missing, so the command cannot be confined; install it (apt install bubblewrap)",
    );
  const passEnv = grant.config.pass_env ?? [];
  const readOnlyFiles = trustFiles(req.env, passEnv, project);
  const hidden = hiddenPaths(req.env, req.policy, project);
  const repo = req.binary === "gh" || req.binary === "gcloud" ? projectRepo(project) : undefined;
  const pin = !(req.binary === "gh" && ghClones(req.args));
  const realHome = realpathOr(home(req.env));

  return {
    project,
    wrap(child) {
      const { env } = confinedEnv(req.binary, child.env, child.set, passEnv);
      Object.assign(env, gitEnv(repo, pin, join(child.runDir, "no-repository")));
      env.HOME = realHome;
      env.TMPDIR = "/tmp";
      const writableDirs = repo === undefined ? [] : [repo.gitDir, repo.commonDir].filter((d) => !inside(d, project));
      const argv = namespaceArgv(bwrap, {
        binary: realpathOr(child.file),
        args: req.args,
        home: realHome,
        project,
        cwd,
        runDir: child.runDir,
        path: env.PATH ?? "",
        hidden,
        readOnlyFiles,
        writableDirs: [...new Set(writableDirs)],
      });
      return { file: bwrap, argv, env };
    },
  };
}

/**
 * The certificate and proxy files a trusted policy passes (`pass_env:
 * [SSL_CERT_FILE]`): bound read-only into the namespace, and refused where
 * the agent can write them (the project, a temp directory).
 */
function trustFiles(env: Env, passEnv: readonly string[], project: string): string[] {
  const out: string[] = [];
  for (const name of passEnv) {
    if (!TRUST_VARS.has(name) || !/(_FILE|_DIR|_BUNDLE|_CERTS)$/.test(name)) continue;
    const v = env[name];
    if (v === undefined || v === "") continue;
    if (!isAbsolute(v))
      throw new PolicyDenied(`contained mode: ${name} (passed by pass_env) must be an absolute path; it is ${v}`);
    const real = realpathOr(v);
    if (inside(real, project) || ["/tmp", "/var/tmp", "/dev/shm"].some((t) => inside(real, t)))
      throw new PolicyDenied(
        `contained mode: ${name} (passed by pass_env) names ${real}, a place the agent can write; keep the certificate outside the project and temp directories`,
      );
    out.push(real);
  }
  return out;
}

/** What must stay empty even inside a tree the CLI sees (a project in the home, a tool in ~/.local). */
function hiddenPaths(env: Env, policy: Policy, project: string): string[] {
  const h = home(env);
  const out = new Set<string>([configHome(env), stateHome(env), cacheHome(env), dataHome(env)]);
  for (const p of protectedPaths(env, project)) if (p.secret) out.add(p.path);
  for (const rel of CREDENTIAL_STORES) out.add(join(h, rel));
  for (const p of credentialReads(env)) out.add(p.path);
  for (const layer of policy.layers)
    for (const svc of Object.values(layer.config.services)) {
      for (const slot of Object.values(svc.token_slots ?? {}))
        if (slot.file !== undefined) out.add(expandHome(slot.file, env));
      if (svc.private_key?.file !== undefined) out.add(expandHome(svc.private_key.file, env));
    }
  return [...out].map((p) => (isAbsolute(p) ? realpathOr(p) : p)).filter((p) => isAbsolute(p) && exists(p));
}

function realpathOr(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}
