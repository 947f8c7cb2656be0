/**
 * Bypass: a review approval is a one-time pass for a command a human must
 * see. The decision service creates one whenever it answers `ask` for a
 * review rule, so anything that can POST a review command to the service's
 * loopback port could mint itself an approval without a human: a local
 * program, a web page (a form POST, or a page whose domain rebinds to
 * 127.0.0.1), another user of the machine.
 * Fix: every hook call must carry the request key that only Claude Code's
 * settings hold (src/serve/server.ts); a browser cannot send the JSON content
 * type without a preflight nor a foreign Host header past the check; other
 * users are refused by uid (test/security/serve-other-user.test.ts).
 * Proves: without the key, with a wrong one, as a form post and with a
 * rebound Host, the service answers an error status and no approval file is
 * created; with the key (as Claude Code sends it) one is.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";
import { claudePayload, HOOK_PATH, hookHeaders, post, testService, writeUserPolicy } from "../serve/service-fixture.js";

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

const approvals = (home: string) => {
  const dir = join(home, ".local/state/downscope/approvals");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
};

describe("approvals cannot be minted through the service without Claude Code's key", () => {
  it.each([
    ["no key", { "x-downscope-key": undefined }],
    ["a wrong key", { "x-downscope-key": "x".repeat(43) }],
    ["two keys", { "x-downscope-key": undefined }],
    ["a form post from a web page", { "content-type": "text/plain" }],
    ["a page whose domain rebinds to 127.0.0.1", { host: "evil.example:8080" }],
  ])("%s: refused, no approval", async (what, change) => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb);
    const headers: Record<string, string | undefined> = { ...hookHeaders(s.key, sb.env), ...change };
    const body = claudePayload(sb, "Bash", { command: "gh pr merge 12" });
    const r =
      what === "two keys"
        ? await post(s.port, HOOK_PATH, body, { ...headers, "x-downscope-key": `${s.key}, ${s.key}` })
        : await post(s.port, HOOK_PATH, body, headers);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body).not.toContain("DOWNSCOPE_APPROVAL");
    expect(approvals(sb.home)).toEqual([]);
  });

  it("with the key, as Claude Code sends it: ask, with an approval bound to the command", async () => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb);
    const r = await post(
      s.port,
      HOOK_PATH,
      claudePayload(sb, "Bash", { command: "gh pr merge 12" }),
      hookHeaders(s.key, sb.env),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/"permissionDecision":"ask".*DOWNSCOPE_APPROVAL=/);
    expect(approvals(sb.home)).toHaveLength(1);
  });
});
