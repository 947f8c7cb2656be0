/**
 * Private credential cache with cross-process single flight.
 *
 * Files live under $XDG_CACHE_HOME/downscope/<namespace>/ (0700), one per key
 * (sha256 of everything that changes the credential), written atomically
 * (write to a temp file, rename) with mode 0600. A file that is corrupt, not
 * ours (owner), or too permissive is ignored and replaced.
 *
 * Single flight: a lock file created with O_EXCL; waiters poll until the
 * holder writes the entry or the lock goes stale (holder died). Ten parallel
 * `aws` calls therefore make one STS call.
 *
 * The hit path (readCached) uses only node:fs and JSON: no SDK is loaded.
 */
import { sha256Hex } from "../lazy-crypto.js";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { CredentialUnavailable } from "../errors.js";
import { ensurePrivateDir as ensurePrivate, readPrivateJson, writePrivateJson } from "../private-store.js";
import { cacheHome, type Env } from "../paths.js";

export interface CacheEntry<T> {
  /** ISO time after which the entry must not be used. */
  expiresAt: string;
  value: T;
}

export interface CacheOptions {
  env: Env;
  namespace: string;
  now: () => Date;
  /** Refresh this many seconds before expiry (default 300). */
  marginSeconds?: number;
  /** How long to wait for another process's refresh (default 60 s). */
  lockTimeoutMs?: number;
  /** A lock older than this is considered abandoned (default 120 s). */
  staleLockMs?: number;
  /** Shape check of a cached value; an entry that fails it is ignored and replaced like a corrupt one. */
  isValid?: (value: unknown) => boolean;
}

export function cacheKey(parts: unknown): string {
  return sha256Hex(JSON.stringify(parts)).slice(0, 40);
}

export function cacheDir(opts: Pick<CacheOptions, "env" | "namespace">): string {
  return join(cacheHome(opts.env), opts.namespace);
}

function ensurePrivateDir(dir: string): void {
  try {
    ensurePrivate(dir);
  } catch {
    throw new CredentialUnavailable(
      `cache directory ${dir} is not a private directory owned by you (expected mode 0700); remove it or run \`downscope cache clear\``,
    );
  }
}

/** A valid, private, unexpired entry, or undefined. Never throws. */
export function readCached<T>(key: string, opts: CacheOptions): CacheEntry<T> | undefined {
  const entry = readPrivateJson<CacheEntry<T>>(join(cacheDir(opts), `${key}.json`));
  if (entry === undefined || typeof entry !== "object" || entry === null) return undefined;
  const expires = Date.parse(entry.expiresAt);
  if (!Number.isFinite(expires)) return undefined;
  const margin = (opts.marginSeconds ?? 300) * 1000;
  if (expires - margin <= opts.now().getTime()) return undefined;
  if (opts.isValid && !opts.isValid(entry.value)) return undefined;
  return entry;
}

export function writeCached<T>(key: string, entry: CacheEntry<T>, opts: CacheOptions): void {
  const dir = cacheDir(opts);
  ensurePrivateDir(dir);
  writePrivateJson(join(dir, `${key}.json`), entry);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The cached value for key, or mint() it once across all processes.
 * mint() returns the value and its expiry.
 */
export async function getOrMint<T>(
  key: string,
  opts: CacheOptions,
  mint: () => Promise<CacheEntry<T>>,
): Promise<{ entry: CacheEntry<T>; minted: boolean }> {
  const hit = readCached<T>(key, opts);
  if (hit) return { entry: hit, minted: false };
  const dir = cacheDir(opts);
  ensurePrivateDir(dir);
  const lock = join(dir, `${key}.lock`);
  const deadline = Date.now() + (opts.lockTimeoutMs ?? 60_000);
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lock, "wx", 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (fd !== undefined) {
      try {
        closeSync(fd);
        // Someone may have finished between our miss and our lock.
        const again = readCached<T>(key, opts);
        if (again) return { entry: again, minted: false };
        const entry = await mint();
        writeCached(key, entry, opts);
        return { entry, minted: true };
      } finally {
        rmSync(lock, { force: true });
      }
    }
    await sleep(25);
    const done = readCached<T>(key, opts);
    if (done) return { entry: done, minted: false };
    try {
      if (Date.now() - statSync(lock).mtimeMs > (opts.staleLockMs ?? 120_000)) rmSync(lock, { force: true });
    } catch {
      /* lock gone: retry */
    }
    if (Date.now() > deadline)
      throw new CredentialUnavailable(
        `timed out waiting for another downscope process to refresh a credential (lock ${lock}); if none is running, remove the lock`,
      );
  }
}

/** `downscope cache clear`: remove every cached credential. */
export function clearCache(env: Env): void {
  rmSync(cacheHome(env), { recursive: true, force: true });
}
