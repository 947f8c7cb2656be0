/**
 * The MCP lock as the proxy may use it: found, read, and checked against the
 * signed pin `downscope mcp lock` made when a person confirmed it (docs/adr/
 * ADR-040-mcp-tool-lock.md).
 *
 * The lockfile sits in the project, where the agent can write. So it counts
 * only while its sha256 matches a pin in $XDG_STATE_HOME/downscope/
 * mcp-lock-pins.json, each pin HMAC-signed with the trust key (src/policy/
 * trust.ts, domain "mcp-lock"). Anything else is `broken`, which hides and
 * refuses every tool: a lockfile that is edited, unpinned (committed by
 * someone else, planted), deleted while its pin remains, or unreadable can
 * never make a drifted tool visible. With neither a lockfile nor a pin the
 * lock is `off` and the proxy behaves as before the lock existed.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { sha256Hex } from "../lazy-crypto.js";
import { lexists as exists, mcpLockPinsPath, stateHome, type Env } from "../paths.js";
import { readPins, writePins } from "../policy/trust.js";
import { ensurePrivateDir, readIntactCopy } from "../private-store.js";
import { LOCK_FILE, parseLock, type LockFile, type LockedTool } from "./lock.js";

export const PIN_DOMAIN = "mcp-lock";

export type LockView =
  { kind: "off" } | { kind: "locked"; file: string; lock: LockFile } | { kind: "broken"; file: string; why: string };

/** One server's pinned tools; undefined when the lock is off. A server missing from a lock has no tools pinned. */
export type ServerLock =
  | { kind: "off" }
  | { kind: "locked"; file: string; tools: Record<string, LockedTool> }
  | { kind: "broken"; file: string; why: string };

export function serverLock(view: LockView, server: string): ServerLock {
  if (view.kind !== "locked") return view;
  const entry = Object.hasOwn(view.lock.servers, server) ? view.lock.servers[server] : undefined;
  return { kind: "locked", file: view.file, tools: entry?.tools ?? {} };
}

export const readLockPins = (env: Env) => readPins(env, mcpLockPinsPath(env), PIN_DOMAIN);

/**
 * The lockfile for a process working in `cwd`: the nearest
 * `.claude/downscope-mcp.lock` at or above it that exists or is pinned. A
 * pinned one counts even when deleted, so removing the file cannot switch the
 * lock off.
 */
export function findLockFile(cwd: string, pins: ReadonlyMap<string, string>): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, LOCK_FILE);
    if (pins.has(candidate) || exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The lock view for `cwd` now. Never throws: every problem is `broken`. */
export function readLockView(cwd: string, env: Env): LockView {
  let pins: Map<string, string>;
  try {
    pins = readLockPins(env);
  } catch (e) {
    return { kind: "broken", file: join(cwd, LOCK_FILE), why: `the lock pins cannot be read (${errText(e)})` };
  }
  const file = findLockFile(cwd, pins);
  if (file === undefined) return { kind: "off" };
  return viewOf(file, pins.get(file));
}

function viewOf(file: string, pin: string | undefined): LockView {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      kind: "broken",
      file,
      why:
        code === "ENOENT"
          ? "the lockfile a person locked has been removed"
          : `the lockfile cannot be read (${code ?? errText(e)})`,
    };
  }
  if (pin === undefined)
    return {
      kind: "broken",
      file,
      why: "the lockfile was not locked by you on this machine (committed by someone else, or written by hand)",
    };
  if (sha256Hex(text) !== pin)
    return { kind: "broken", file, why: "the lockfile has changed since a person locked it" };
  const parsed = parseLock(text);
  if (!parsed.ok) return { kind: "broken", file, why: `the lockfile is not valid: ${parsed.message}` };
  return { kind: "locked", file, lock: parsed.lock };
}

/**
 * readLockView, remembered while neither the lockfile nor the pin store
 * changes (same device, inode, size, mtime and ctime, and not changed in the
 * last two seconds, so a write within the timestamp granularity is never
 * missed). The proxy asks on every tools/list and tools/call.
 *
 * While the lock is off, only the pin store is looked at: a lock a person
 * makes always changes it, and a lockfile that appears without a pin could
 * only hide tools (it is not in force until the proxy starts again). So an
 * unlocked proxy pays one stat per call, not one per directory above it.
 */
export function lockViewReader(cwd: string, env: Env, now: () => number = Date.now): () => LockView {
  let memo: { pins: string; key: string; view: LockView } | undefined;
  return () => {
    const pins = identity(mcpLockPinsPath(env), now);
    if (memo?.view.kind === "off" && memo.pins === pins && pins !== "?") return memo.view;
    const key = locateKey(cwd, env, now);
    if (pins === "?" || key.includes("?")) return readLockView(cwd, env);
    if (memo?.pins !== pins || memo.key !== key) memo = { pins, key, view: readLockView(cwd, env) };
    return memo.view;
  };
}

/** The identity of every candidate lockfile above cwd (which of them exist decides which is used). */
function locateKey(cwd: string, env: Env, now: () => number): string {
  const parts: string[] = [];
  let dir = resolve(cwd);
  for (;;) {
    parts.push(identity(join(dir, LOCK_FILE), now));
    const parent = dirname(dir);
    if (parent === dir) return parts.join(",");
    dir = parent;
  }
}

/** "-" for a missing file, "?" for one changed in the last two seconds (never remembered). */
function identity(file: string, now: () => number): string {
  try {
    const st = statSync(file, { bigint: true });
    if (BigInt(Math.trunc(now())) * 1_000_000n - st.ctimeNs < 2_000_000_000n) return "?";
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return "-";
  }
}

// ---------------------------------------------------------------- written by `downscope mcp lock` only

const copiesDir = (env: Env) => join(stateHome(env), "mcp-lock");

/** Pins `text` as the lockfile `file` a person confirmed, and keeps a private copy for the next diff. */
export function pinLock(env: Env, file: string, text: string): string {
  const hash = sha256Hex(text);
  ensurePrivateDir(copiesDir(env));
  const copy = join(copiesDir(env), `${hash}.json`);
  const tmp = `${copy}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, copy);
  const pins = readLockPins(env);
  pins.set(file, hash);
  writePins(env, mcpLockPinsPath(env), PIN_DOMAIN, pins);
  return hash;
}

/** Removes the pin of `file` (`downscope mcp unlock`). */
export function unpinLock(env: Env, file: string): boolean {
  const pins = readLockPins(env);
  const had = pins.delete(file);
  if (had) writePins(env, mcpLockPinsPath(env), PIN_DOMAIN, pins);
  return had;
}

/** The text a person last locked as `file`, if its private copy is intact. */
export function lockedCopy(env: Env, file: string): string | undefined {
  const hash = readLockPins(env).get(file);
  if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return readIntactCopy(join(copiesDir(env), `${hash}.json`), hash);
}

/** Writes the lockfile itself (committed with the project: an ordinary 0644 file), atomically. */
export function writeLockFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.downscope-mcp.lock.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
