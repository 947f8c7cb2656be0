/**
 * Building a child's environment: strip first, then set (aws-vault's
 * cli/exec.go does the same). Pure.
 */
import { realpathSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute } from "node:path";
import type { Env } from "../paths.js";
import { isInside } from "../policy/match.js";
import type { Policy } from "../policy/policy.js";
import type { Service } from "../policy/schema.js";
import { neverPassed, TRUST_VARS } from "../protection/unsafe-env.js";

export { neverPassed, TRUST_VARS };

/** Variables downscope itself uses to talk to downscope-exec; never passed on. */
export const INTERNAL_ENV = ["DOWNSCOPE_APPROVAL"] as const;

/**
 * The last word on a child's environment, in every mode: what no CLI gets
 * (NEVER_PASSED) is removed, and so is every TRUST_VARS entry the policy does
 * not pass. `keep` names what the channel itself set (its own GH_PAGER, its
 * own git settings), which stays.
 */
export function withoutUnsafe(
  env: Readonly<Record<string, string>>,
  passEnv: readonly string[],
  keep: ReadonlySet<string> = new Set(),
): { env: Record<string, string>; removed: string[] } {
  const pass = new Set(passEnv);
  const out: Record<string, string> = {};
  const removed: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!keep.has(k) && (neverPassed(k, v) || (TRUST_VARS.has(k) && !pass.has(k)))) removed.push(k);
    else out[k] = v;
  }
  return { env: out, removed: removed.sort() };
}

/**
 * Every variable any token slot of any service in any layer reads, and every
 * service's `strip_env` (they name ambient credentials): a child must never
 * see another slot's token.
 */
export function slotSourceVars(policy: Policy, service?: Service): string[] {
  const out = new Set<string>(INTERNAL_ENV);
  for (const layer of policy.layers)
    for (const svc of Object.values(layer.config.services)) {
      for (const slot of Object.values(svc.token_slots ?? {})) if (slot.env_var !== undefined) out.add(slot.env_var);
      for (const v of svc.strip_env ?? []) out.add(v);
    }
  for (const v of service?.strip_env ?? []) out.add(v);
  return [...out].sort();
}

/** A copy of env without the named variables (and without unset values). */
export function without(env: Env, names: Iterable<string>): Record<string, string> {
  const drop = new Set(names);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !drop.has(k)) out[k] = v;
  return out;
}

/** What changed between two environments: names only, for --explain. */
export function envDiff(
  before: Env,
  after: Readonly<Record<string, string>>,
): { set: string[]; changed: string[]; removed: string[] } {
  const set: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (before[k] === undefined) set.push(k);
    else if (before[k] !== v) changed.push(k);
  }
  for (const [k, v] of Object.entries(before)) if (v !== undefined && after[k] === undefined) removed.push(k);
  return { set: set.sort(), changed: changed.sort(), removed: removed.sort() };
}

/** Shell-quotes a word for display or for an `export` line. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The child's PATH. gh runs `git`, kubectl runs an editor or `diff`, found on
 * PATH with the credential in their environment; a PATH the agent prefixed
 * for one command (`PATH=/tmp/x:$PATH gh pr list`) would hand the token to
 * its own `git`. Kept: absolute, existing directories outside the working
 * directory and the temp directories that neither group nor others can write.
 * Not covered: a program planted in a directory already on the user's PATH
 * (see docs/exec.md, "Limits").
 */
export function safeChildPath(path: string | undefined, cwd: string): { path: string; dropped: string[] } {
  const real = (p: string) => {
    try {
      return realpathSync.native(p);
    } catch {
      return undefined;
    }
  };
  const unsafeRoots = [cwd, tmpdir(), "/tmp", "/var/tmp", "/dev/shm"].map((d) => real(d) ?? d).filter((d) => d !== "/");
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const entry of (path ?? "").split(delimiter)) {
    const r = isAbsolute(entry) ? real(entry) : undefined;
    let ok = r !== undefined && !unsafeRoots.some((u) => isInside(r, u));
    if (ok) {
      try {
        const st = statSync(r!);
        ok = st.isDirectory() && (st.mode & 0o022) === 0;
      } catch {
        ok = false;
      }
    }
    if (ok) {
      if (!kept.includes(entry)) kept.push(entry);
    } else if (entry !== "") dropped.push(entry);
    else dropped.push("(empty: the current directory)");
  }
  return { path: kept.join(delimiter), dropped };
}
