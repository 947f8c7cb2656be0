/**
 * Review approvals are argv-bound, single-use and short-lived.
 * Bypass guarded against: the agent running a review command itself, reusing
 * an approval, or stretching one to other arguments.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  approvalsDir,
  APPROVAL_TTL_MS,
  consumeApproval,
  createApproval,
  openGatedApproval,
} from "../../src/approval/approval.js";
import { sandbox } from "../helpers/sandbox.js";

describe("approvals", () => {
  it("are single use and bound to the exact argv", () => {
    const { env } = sandbox();
    const nonce = createApproval("gh", ["pr", "merge", "12"], env);
    expect(consumeApproval(nonce, "gh", ["pr", "merge", "13"], env)).toEqual({
      ok: false,
      reason: "the approval was given for a different command",
    });
    const again = createApproval("gh", ["pr", "merge", "12"], env);
    expect(consumeApproval(again, "gh", ["pr", "merge", "12"], env)).toEqual({ ok: true });
    expect(consumeApproval(again, "gh", ["pr", "merge", "12"], env).ok).toBe(false);
  });

  it("expire, and an absent or forged nonce is refused", () => {
    const { env } = sandbox();
    const t0 = Date.now();
    const nonce = createApproval("gh", ["pr", "merge"], env, t0);
    expect(consumeApproval(nonce, "gh", ["pr", "merge"], env, t0 + APPROVAL_TTL_MS + 1)).toEqual({
      ok: false,
      reason: "the approval has expired",
    });
    expect(consumeApproval(undefined, "gh", [], env).ok).toBe(false);
    expect(consumeApproval("x".repeat(32), "gh", [], env)).toEqual({
      ok: false,
      reason: "the approval is unknown or was already used",
    });
    expect(consumeApproval("../../etc/passwd", "gh", [], env)).toEqual({
      ok: false,
      reason: "the approval is malformed",
    });
  });

  it("keep only the nonce's hash on disk, privately", () => {
    const { env } = sandbox();
    const nonce = createApproval("gh", ["pr", "merge"], env);
    const dir = approvalsDir(env);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).not.toContain(nonce);
    expect(statSync(`${dir}/${files[0]}`).mode & 0o777).toBe(0o600);
  });
});

/**
 * Gated approvals (Cursor): made by the hook that rewrites, opened by the hook
 * that asks. Bypasses guarded against: a pending approval used without the
 * asking hook having seen the command (a script, a hook that never ran), an
 * approval opened twice, or for other arguments, or an ordinary (Claude Code)
 * approval passed off as a gated one.
 */
describe("gated approvals", () => {
  const argv = ["pr", "merge", "12"];

  it("are worth nothing to downscope-exec until opened, and then single use", () => {
    const { env } = sandbox();
    const pending = createApproval("gh", argv, env, Date.now(), true);
    expect(consumeApproval(pending, "gh", argv, env)).toEqual({
      ok: false,
      reason: "the approval was never put to a human (the hook that asks did not see the command)",
    });
    // That refusal used it up: a pending approval that reached downscope-exec some other way is gone.
    expect(openGatedApproval(pending, "gh", argv, env).ok).toBe(false);

    const nonce = createApproval("gh", argv, env, Date.now(), true);
    expect(openGatedApproval(nonce, "gh", argv, env)).toEqual({ ok: true });
    expect(openGatedApproval(nonce, "gh", argv, env)).toEqual({
      ok: false,
      reason: "the approval was already put to a human",
    });
    expect(consumeApproval(nonce, "gh", argv, env)).toEqual({ ok: true });
    expect(consumeApproval(nonce, "gh", argv, env).ok).toBe(false);
  });

  it("open only for the exact argv, and a refused open leaves the approval as it was", () => {
    const { env } = sandbox();
    const nonce = createApproval("gh", argv, env, Date.now(), true);
    expect(openGatedApproval(nonce, "gh", ["pr", "merge", "13"], env)).toEqual({
      ok: false,
      reason: "the approval was given for a different command",
    });
    expect(openGatedApproval(nonce, "gh", argv, env)).toEqual({ ok: true });
  });

  it("an ordinary approval, a forged, malformed or expired nonce cannot be opened", () => {
    const { env } = sandbox();
    const ordinary = createApproval("gh", argv, env);
    expect(openGatedApproval(ordinary, "gh", argv, env)).toEqual({
      ok: false,
      reason: "the approval is not a hook's pending one",
    });
    expect(consumeApproval(ordinary, "gh", argv, env)).toEqual({ ok: true }); // untouched by the refused open
    expect(openGatedApproval("x".repeat(32), "gh", argv, env).ok).toBe(false);
    expect(openGatedApproval("../../etc/passwd", "gh", argv, env)).toEqual({
      ok: false,
      reason: "the approval is malformed",
    });
    const t0 = Date.now();
    const old = createApproval("gh", argv, env, t0, true);
    expect(openGatedApproval(old, "gh", argv, env, t0 + APPROVAL_TTL_MS + 1)).toEqual({
      ok: false,
      reason: "the approval has expired",
    });
  });

  it("an opened approval stays private (0600), and a gate value the hook did not write is refused", () => {
    const { env } = sandbox();
    const nonce = createApproval("gh", argv, env, Date.now(), true);
    expect(openGatedApproval(nonce, "gh", argv, env)).toEqual({ ok: true });
    const [file] = readdirSync(approvalsDir(env));
    const path = join(approvalsDir(env), file!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8")).gate).toBe("asked");
    // (Writing to downscope's state directory is denied by the hook: test/security/self-disable.test.ts.)
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), gate: "yes" }));
    expect(consumeApproval(nonce, "gh", argv, env).ok).toBe(false);
  });
});
