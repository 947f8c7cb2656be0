/**
 * Building a child's environment: strip first, then set (aws-vault's
 * cli/exec.go does the same). Pure.
 */
import type { Env } from "../paths.js";
import type { Policy } from "../policy/policy.js";
import type { Service } from "../policy/schema.js";

/** Variables downscope itself uses to talk to downscope-exec; never passed on. */
export const INTERNAL_ENV = ["DOWNSCOPE_APPROVAL"] as const;

/**
 * Every variable any token slot of any service in any layer reads, plus the
 * service's own `strip_env`: a child must never see another slot's token.
 */
export function slotSourceVars(policy: Policy, service?: Service): string[] {
  const out = new Set<string>(INTERNAL_ENV);
  for (const layer of policy.layers)
    for (const svc of Object.values(layer.config.services))
      for (const slot of Object.values(svc.token_slots ?? {})) if (slot.env_var !== undefined) out.add(slot.env_var);
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
