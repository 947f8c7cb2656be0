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
 *
 * Gated approvals (Cursor, src/hook/agents/cursor.ts): where the hook that
 * rewrites the command (preToolUse) cannot ask and the hook that can ask
 * (beforeShellExecution) cannot rewrite, the approval is recorded `pending`
 * and is worth nothing until the asking hook has seen the exact command and
 * answered `ask` (openGatedApproval). A pending approval that reaches
 * downscope-exec some other way (a script, a hook that never ran) is refused.
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
  /** Gated approvals only: `pending` until the asking hook answered ask, then `asked`. */
  gate?: "pending" | "asked";
}

const sha = sha256Hex;
/** The argv an approval is bound to: binary basename and arguments, exactly. */
export const argvDigest = (binary: string, args: readonly string[]) => sha(JSON.stringify([binary, ...args]));

export function approvalsDir(env: Env): string {
  return join(stateHome(env), "approvals");
}

/**
 * Records a pending approval for this argv and returns the nonce to put in the
 * command. `gated`: valid only once openGatedApproval has run for it.
 */
export function createApproval(
  binary: string,
  args: readonly string[],
  env: Env,
  now = Date.now(),
  gated = false,
): string {
  const dir = approvalsDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  sweepExpired(dir, now);
  const nonce = nodeCrypto().randomBytes(24).toString("base64url");
  const data: ApprovalFile = {
    version: 1,
    argv: argvDigest(binary, args),
    expiresAt: now + APPROVAL_TTL_MS,
    ...(gated ? { gate: "pending" as const } : {}),
  };
  writeFileSync(join(dir, `${sha(nonce)}.json`), JSON.stringify(data), { mode: 0o600, flag: "wx" });
  return nonce;
}

export type ApprovalCheck = { ok: true } | { ok: false; reason: string };

/** What a nonce looks like (24 random bytes, base64url); anything else is refused before any file is named by it. */
export const NONCE_PATTERN = "[A-Za-z0-9_-]{20,100}";
const NONCE = new RegExp(`^${NONCE_PATTERN}$`);

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
  return withClaimed(nonce, binary, args, env, now, { suffix: "claimed", restoreRefused: false }, (data) => ({
    check:
      data.gate === undefined || data.gate === "asked"
        ? { ok: true }
        : { ok: false, reason: "the approval was never put to a human (the hook that asks did not see the command)" },
    keep: false,
  }));
}

/**
 * The asking hook's half of a gated approval: the nonce names a pending gated
 * approval for exactly this argv, still valid, in a file of this user's; it is
 * marked asked (once: claimed by a rename, so two hooks cannot both open it).
 * Anything else is not an approval the hook made, and the caller denies. A
 * refused open leaves the approval as it was.
 */
export function openGatedApproval(
  nonce: string,
  binary: string,
  args: readonly string[],
  env: Env,
  now = Date.now(),
): ApprovalCheck {
  return withClaimed(nonce, binary, args, env, now, { suffix: "opening", restoreRefused: true }, (data, path) => {
    if (data.gate !== "pending") {
      const reason =
        data.gate === "asked" ? "the approval was already put to a human" : "the approval is not a hook's pending one";
      return { check: { ok: false, reason }, keep: true };
    }
    writeFileSync(path, JSON.stringify({ ...data, gate: "asked" } satisfies ApprovalFile), { mode: 0o600 });
    return { check: { ok: true }, keep: true };
  });
}

/**
 * The approval file for nonce, claimed by renaming it to `<file>.<pid>.<suffix>`
 * (so no two processes hold it) and checked — this user's regular file, well
 * formed, unexpired, for exactly this argv — then handed to `use`, which says
 * whether the claimed file goes back under its name (`keep`) or is removed.
 * A refusal before `use` removes it unless `restoreRefused`. The claimed name
 * never outlives the call.
 */
function withClaimed(
  nonce: string,
  binary: string,
  args: readonly string[],
  env: Env,
  now: number,
  how: { suffix: string; restoreRefused: boolean },
  use: (data: ApprovalFile, path: string) => { check: ApprovalCheck; keep: boolean },
): ApprovalCheck {
  if (!NONCE.test(nonce)) return { ok: false, reason: "the approval is malformed" };
  const file = join(approvalsDir(env), `${sha(nonce)}.json`);
  const claimed = `${file}.${process.pid}.${how.suffix}`;
  try {
    renameSync(file, claimed);
  } catch {
    return { ok: false, reason: "the approval is unknown or was already used" };
  }
  let keep = how.restoreRefused;
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
    const r = use(data, claimed);
    keep = r.keep;
    return r.check;
  } catch {
    return { ok: false, reason: "the approval is malformed" };
  } finally {
    if (!keep) rmSync(claimed, { force: true });
    else
      try {
        renameSync(claimed, file);
      } catch {
        rmSync(claimed, { force: true });
      }
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
      if (n.endsWith(".claimed") || n.endsWith(".opening")) {
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
