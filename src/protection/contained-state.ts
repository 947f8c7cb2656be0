/**
 * Whether this user runs Claude Code contained (`downscope install claude
 * --contain`), and how the hook must name downscope-exec so that Claude Code's
 * `sandbox.excludedCommands` entry takes exactly the rewritten call out of the
 * sandbox (docs/security-model.md, "Contained mode").
 *
 * The record is a private file in downscope's state directory, which the
 * sandbox cannot write; `install --contain` (a person, at a terminal) writes
 * it and `uninstall` removes it. Reading it is one small file on the hook's
 * path, so its absence costs a failed open only.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { stateHome, type Env } from "../paths.js";
import { readPrivateJson, writePrivateJson } from "../private-store.js";

export interface ContainedState {
  version: 1;
  /** The Claude Code settings file holding the sandbox settings. */
  settingsFile: string;
  /** `<node> <downscope-exec.js>`, unquoted absolute paths: the prefix the hook writes and excludedCommands matches. */
  exec: string;
  /** Permission rules install added to permissions.deny, removed again by uninstall. */
  denyRules: string[];
  /**
   * The variables install kept out of every sandboxed process
   * (sandbox.credentials.envVars); a state from before this field: the
   * built-in list. The hook denies Bash while another credential variable is
   * present.
   */
  keptOut?: string[];
}

export const containedStatePath = (env: Env) => join(stateHome(env), "contained", "state.json");

/**
 * Remembered by the file's identity (device, inode, size, mtime, ctime), so a
 * resident process (`downscope serve`) sees `install --contain` or `uninstall`
 * on its very next call; a record changed in the last two seconds is read
 * again each time (as src/policy/load.ts does for policy files).
 */
let memo: { path: string; identity: string; state: ContainedState | undefined } | undefined;

function identity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    if (BigInt(Date.now()) * 1_000_000n - st.ctimeNs < 2_000_000_000n) return "unsettled";
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return "absent";
  }
}

export function containedState(env: Env): ContainedState | undefined {
  const path = containedStatePath(env);
  const id = identity(path);
  if (memo?.path === path && memo.identity === id && id !== "unsettled") return memo.state;
  const raw = readPrivateJson<Partial<ContainedState>>(path);
  const state =
    raw?.version === 1 &&
    typeof raw.exec === "string" &&
    typeof raw.settingsFile === "string" &&
    Array.isArray(raw.denyRules)
      ? (raw as ContainedState)
      : undefined;
  memo = { path, identity: id, state };
  return state;
}

export function writeContainedState(env: Env, state: ContainedState): void {
  writePrivateJson(containedStatePath(env), state);
  memo = undefined;
}

export function removeContainedState(env: Env): void {
  rmSync(containedStatePath(env), { force: true });
  memo = undefined;
}

/**
 * Inside Claude Code's sandbox (sandbox-runtime sets SANDBOX_RUNTIME=1 in
 * every sandboxed command). An agent can set it elsewhere too; that only
 * makes downscope refuse more, never less.
 */
export const inSandbox = (env: Env): boolean => env.SANDBOX_RUNTIME === "1";

/**
 * The credential variables session-start found that the sandbox does not keep
 * out — recognised by their value (a slot's token under another name), which
 * the hook cannot recompute cheaply on every call. Kept per session id; the
 * hook denies every Bash command of that session while one is set.
 */
const sessionFile = (env: Env, session: string) =>
  join(stateHome(env), "contained", "sessions", `${session.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);

export function writeSessionSecrets(env: Env, session: string, names: readonly string[]): void {
  if (names.length === 0) rmSync(sessionFile(env, session), { force: true });
  else writePrivateJson(sessionFile(env, session), { version: 1, names });
}

export function sessionSecrets(env: Env, session: string | undefined): string[] {
  if (session === undefined || session === "") return [];
  const r = readPrivateJson<{ version?: unknown; names?: unknown }>(sessionFile(env, session));
  return r?.version === 1 && Array.isArray(r.names) ? r.names.filter((n): n is string => typeof n === "string") : [];
}
