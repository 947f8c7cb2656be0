/**
 * Small private JSON files (0600 in a 0700 directory we own), written
 * atomically. A file that is not a regular file, not ours, or readable by
 * others is treated as absent, so a planted file is ignored, never trusted.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { sha256Hex } from "./lazy-crypto.js";

const ownedByMe = (uid: number) => typeof process.getuid !== "function" || uid === process.getuid();

export function readPrivateJson<T>(path: string): T | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || !ownedByMe(st.uid)) return undefined;
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Creates dir (0700) if needed and throws unless it is a private directory owned by us. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || (st.mode & 0o077) !== 0 || !ownedByMe(st.uid))
    throw new Error(`${dir} is not a private directory owned by you (expected mode 0700)`);
}

/**
 * The text of a private copy named by its sha256 (trusted policies, locked
 * MCP configs): undefined unless it is our 0600 regular file and still hashes
 * to `hash`, so a copy planted or edited by someone else is never shown as the
 * version a person approved.
 */
export function readIntactCopy(path: string, hash: string): string | undefined {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || (st.mode & 0o077) !== 0 || !ownedByMe(st.uid)) return undefined;
    const text = readFileSync(path, "utf8");
    return sha256Hex(text) === hash ? text : undefined;
  } catch {
    return undefined;
  }
}

export function writePrivateJson(path: string, data: unknown): void {
  ensurePrivateDir(dirname(path));
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, JSON.stringify(data), { mode: 0o600, flag: "wx" });
  renameSync(tmp, path);
}
