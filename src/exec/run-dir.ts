/**
 * The per-run private directory for credential files: 0700, under
 * $XDG_RUNTIME_DIR/downscope (tmpfs on most Linux systems) or the OS temp dir,
 * named run-<pid>-<random> so leftovers of crashed runs (dead pid) can be
 * swept. Removed on every exit path by main.ts.
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { runRoot, type Env } from "../paths.js";

/** Ensures root exists, is ours and private, or throws. */
function ensurePrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new Error(`${dir} is not a private directory owned by you (expected mode 0700); remove it and retry`);
}

export function createRunDir(env: Env): string {
  const root = runRoot(env);
  ensurePrivate(root);
  sweepRunDirs(root);
  return mkdtempSync(join(root, `run-${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes run dirs whose process is gone (a run killed with SIGKILL cannot clean up). */
export function sweepRunDirs(root: string): number {
  let swept = 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  for (const n of names) {
    const m = /^run-(\d+)-/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    rmSync(join(root, n), { recursive: true, force: true });
    swept++;
  }
  return swept;
}

/**
 * Removes the run directory and what the channel wrote in it (a few files and
 * directories). Walked here rather than with rmSync's recursive mode, whose
 * implementation costs a run about 1 ms to load; anything unexpected falls
 * back to it.
 */
export function removeRunDir(dir: string): void {
  try {
    removeTree(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

function removeTree(path: string): void {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const e of entries) {
    const child = join(path, e.name);
    if (e.isDirectory()) removeTree(child);
    else unlinkSync(child);
  }
  rmdirSync(path);
}
