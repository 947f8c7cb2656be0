/**
 * Review approvals: how a command that a rule sends to `review` can run once
 * the human has approved it in Claude Code's prompt.
 *
 * The hook cannot see the human's answer; it answers `ask` with a rewritten
 * command `DOWNSCOPE_APPROVAL=<nonce> downscope-exec gh pr merge 12`. Before
 * answering, it records the approval: a file named by sha256(nonce) holding the
 * hash of the exact argv and an expiry. If the human approves, Claude Code runs
 * the command; downscope-exec finds the file for the nonce, checks the argv and
 * the expiry, and consumes it (single use, claimed by an atomic rename). If the
 * human refuses, nothing runs and the file expires.
 *
 * What it protects against: the agent running a review command by itself
 * (it has no nonce), reusing an approval (single use), or using an approval for
 * different arguments (argv-bound). What it does not: an agent running as the
 * same user that reads Claude Code's transcript or the process environment of
 * the approved command while it runs. Only the nonce's hash is on disk.
 */
import { nodeCrypto, sha256Hex } from "../lazy-crypto.js";
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stateHome, type Env } from "../paths.js";

export const APPROVAL_ENV = "DOWNSCOPE_APPROVAL";
/** How long a pending approval stays valid: the human may take a while to answer. */
export const APPROVAL_TTL_MS = 15 * 60 * 1000;

interface ApprovalFile {
  version: 1;
  argv: string;
  expiresAt: number;
}

const sha = sha256Hex;
/** The argv an approval is bound to: binary basename and arguments, exactly. */
export const argvDigest = (binary: string, args: readonly string[]) => sha(JSON.stringify([binary, ...args]));

export function approvalsDir(env: Env): string {
  return join(stateHome(env), "approvals");
}

/** Records a pending approval for this argv and returns the nonce to put in the command. */
export function createApproval(binary: string, args: readonly string[], env: Env, now = Date.now()): string {
  const dir = approvalsDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  sweepExpired(dir, now);
  const nonce = nodeCrypto().randomBytes(24).toString("base64url");
  const data: ApprovalFile = { version: 1, argv: argvDigest(binary, args), expiresAt: now + APPROVAL_TTL_MS };
  writeFileSync(join(dir, `${sha(nonce)}.json`), JSON.stringify(data), { mode: 0o600, flag: "wx" });
  return nonce;
}

export type ApprovalCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks and consumes the approval for nonce. Single use even under races:
 * the file is claimed by renaming it before it is read.
 */
export function consumeApproval(
  nonce: string | undefined,
  binary: string,
  args: readonly string[],
  env: Env,
  now = Date.now(),
): ApprovalCheck {
  if (nonce === undefined || nonce === "") return { ok: false, reason: "no approval was given for it" };
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(nonce)) return { ok: false, reason: "the approval is malformed" };
  const dir = approvalsDir(env);
  const file = join(dir, `${sha(nonce)}.json`);
  const claimed = `${file}.${process.pid}.claimed`;
  try {
    renameSync(file, claimed);
  } catch {
    return { ok: false, reason: "the approval is unknown or was already used" };
  }
  try {
    const st = lstatSync(claimed);
    if (!st.isFile() || (typeof process.getuid === "function" && st.uid !== process.getuid()))
      return { ok: false, reason: "the approval file is not yours" };
    const data = JSON.parse(readFileSync(claimed, "utf8")) as ApprovalFile;
    if (data.version !== 1 || typeof data.expiresAt !== "number")
      return { ok: false, reason: "the approval is malformed" };
    if (data.expiresAt < now) return { ok: false, reason: "the approval has expired" };
    if (data.argv !== argvDigest(binary, args))
      return { ok: false, reason: "the approval was given for a different command" };
    return { ok: true };
  } catch {
    return { ok: false, reason: "the approval is malformed" };
  } finally {
    rmSync(claimed, { force: true });
  }
}

function sweepExpired(dir: string, now: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    try {
      if (n.endsWith(".claimed")) {
        if (now - lstatSync(p).mtimeMs > 60_000) rmSync(p, { force: true });
        continue;
      }
      const data = JSON.parse(readFileSync(p, "utf8")) as ApprovalFile;
      if (!(data.expiresAt >= now)) rmSync(p, { force: true });
    } catch {
      rmSync(p, { force: true });
    }
  }
}
