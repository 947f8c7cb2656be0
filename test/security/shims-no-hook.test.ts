// Bypass: the agent avoids the PreToolUse hook's rewrite by calling gh from a
// script or `bash -c` (the hook sees only `bash -c '...'`, or nothing at all).
// Fix: shims first on PATH route every gh call through downscope-exec, which
// decides again with the policy. Proves: `bash -c 'gh repo delete x --yes'`
// with the shims on PATH is denied with no hook involved, an allowed call gets
// only the scoped token, and a gh placed before the real one on PATH gets none.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { execSandbox, parseEnv, run } from "../exec/helpers.js";

function setup() {
  const sb = execSandbox();
  sb.userConfig(`
version: 1
services:
  gh:
    token_slots: { ro: { env_var: GH_RO_SRC } }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: not permitted for AI use }
`);
  const gh = sb.fake("gh");
  const shims = join(sb.root, "shims");
  return { sb, gh, shims };
}

describe("shims without the hook", () => {
  it("bash -c 'gh repo delete x --yes' is denied; gh pr list runs with the slot token", async () => {
    const { sb, gh, shims } = setup();
    expect((await runCli(["shims", "install", "--dir", shims], { env: sb.env, cwd: sb.project })).code).toBe(0);
    const env = {
      ...sb.env,
      PATH: `${shims}:${sb.env.PATH}`,
      GH_RO_SRC: "fake-gh-token-ro-123",
      GH_TOKEN: "fake-ambient",
    };
    const denied = await run("/bin/bash", ["-c", "gh repo delete x --yes"], { env, cwd: sb.project });
    expect(denied.code).toBe(77);
    expect(denied.stderr).toContain('denied by rule "repo deletion denied" (gh, user config)');
    expect(existsSync(`${gh}.rec.argv`)).toBe(false);

    const ok = await run("/bin/bash", ["-c", "gh pr list"], { env, cwd: sb.project });
    expect(ok.code).toBe(0);
    expect(parseEnv(readFileSync(`${gh}.rec.env`, "utf8")).GH_TOKEN).toBe("fake-gh-token-ro-123");
  });

  it("a gh put first on PATH after pinning gets no credential", async () => {
    const { sb, shims } = setup();
    await runCli(["shims", "install", "--dir", shims], { env: sb.env, cwd: sb.project });
    const evil = sb.write(join(sb.project, "bin/gh"), '#!/bin/sh\nenv > "$0.rec"\n', 0o755);
    const env = {
      ...sb.env,
      PATH: `${shims}:${join(sb.project, "bin")}:${sb.env.PATH}`,
      GH_RO_SRC: "fake-gh-token-ro-123",
    };
    const r = await run("/bin/bash", ["-c", "gh pr list"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/is not the pinned real binary/);
    expect(existsSync(`${evil}.rec`)).toBe(false);
  });
});
