/**
 * The policy engine's public face: load the layers for a cwd and environment,
 * and decide an invocation. Loading errors propagate as ConfigError; callers
 * asked for a decision turn them into a deny.
 */
import { realpathSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { homedir, type Env } from "../paths.js";
import { decide, type Decision, type PathContext } from "./evaluate.js";
import type { Invocation } from "./invocation.js";
import { loadPolicy } from "./load.js";

export function pathContext(cwd: string, env: Env): PathContext {
  return { cwd, home: env.HOME ?? homedir(), realpath: realpathExisting };
}

/** realpath of the longest existing prefix, so paths that do not exist yet still resolve their symlinked parents. */
export function realpathExisting(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    const parent = dirname(p);
    if (parent === p) return p;
    return join(realpathExisting(parent), basename(p));
  }
}

export async function decideWithPolicy(inv: Invocation, opts: { cwd: string; env: Env }): Promise<Decision> {
  const policy = await loadPolicy(opts);
  return decide(policy, inv, pathContext(opts.cwd, opts.env));
}

export { decide, describeDecision, type Decision, type Grant } from "./evaluate.js";
export type { Invocation } from "./invocation.js";
export { loadPolicy } from "./load.js";
export type { Policy, Layer, LayerName } from "./policy.js";
