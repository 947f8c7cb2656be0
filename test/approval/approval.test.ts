/**
 * Review approvals are argv-bound, single-use and short-lived.
 * Bypass guarded against: the agent running a review command itself, reusing
 * an approval, or stretching one to other arguments.
 */
import { describe, expect, it } from "vitest";
import { readdirSync, statSync } from "node:fs";
import { approvalsDir, APPROVAL_TTL_MS, consumeApproval, createApproval } from "../../src/approval/approval.js";
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
