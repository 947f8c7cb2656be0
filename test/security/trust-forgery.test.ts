/**
 * Bypass: the agent writes the trust store itself (from python, bypassing the
 * hook and the terminal confirmation), pinning its own widened policy (issue
 * 13). Fix: every pin is signed with the trust key (~/.config/downscope/
 * trust.key, unreadable inside contained mode's sandbox); a pin counts only if
 * its signature verifies whenever the key exists or the user runs contained.
 * Proves: a hand-written store trusts nothing once a key exists; in contained
 * mode a store trusts nothing where the key cannot be read; a genuine `trust`
 * still works.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { sha256Hex } from "../../src/lazy-crypto.js";
import { loadPolicy } from "../../src/policy/load.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const POLICY = "version: 1\nservices:\n  gh:\n    rules: []\n";

function setup() {
  const sb = sandbox();
  const policy = sb.write("project/.claude/downscoping.yaml", POLICY);
  const store = join(sb.home, ".local/state/downscope/trusted.json");
  const key = join(sb.home, ".config/downscope/trust.key");
  const trusted = async () =>
    (await loadPolicy({ cwd: sb.project, env: sb.env })).layers.find((l) => l.name === "project")!.trusted;
  const forge = (macs?: Record<string, string>) =>
    sb.write(
      store,
      JSON.stringify({ version: 1, files: { [policy]: sha256Hex(POLICY) }, ...(macs ? { macs } : {}) }),
      0o600,
    );
  return { sb, policy, store, key, trusted, forge };
}

describe("signed trust pins", () => {
  it("trust signs its pin with a private key, and the signed pin is trusted", async () => {
    const t = setup();
    expect((await runCli(["trust"], { env: t.sb.env, cwd: t.sb.project })).code).toBe(0);
    expect(statSync(t.key).mode & 0o777).toBe(0o600);
    const data = JSON.parse(readFileSync(t.store, "utf8")) as { macs: Record<string, string> };
    expect(data.macs[t.policy]).toMatch(/^[0-9a-f]{64}$/);
    expect(await t.trusted()).toBe(true);
  });

  it("a store written by hand trusts nothing once a key exists", async () => {
    const t = setup();
    await runCli(["trust"], { env: t.sb.env, cwd: t.sb.project });
    t.forge(); // no signatures
    expect(await t.trusted()).toBe(false);
    t.forge({ [t.policy]: "0".repeat(64) }); // a made-up signature
    expect(await t.trusted()).toBe(false);
  });

  it("a signature is bound to the path and the hash", async () => {
    const t = setup();
    await runCli(["trust"], { env: t.sb.env, cwd: t.sb.project });
    const data = JSON.parse(readFileSync(t.store, "utf8")) as {
      files: Record<string, string>;
      macs: Record<string, string>;
    };
    const wider = POLICY.replace("rules: []", "rules: [{ name: all, match: { command: ['*'] }, action: allow }]");
    writeFileSync(t.policy, wider);
    data.files[t.policy] = sha256Hex(wider); // repin the new content, keep the old signature
    writeFileSync(t.store, JSON.stringify(data), { mode: 0o600 });
    expect(await t.trusted()).toBe(false);
  });

  it("contained: where the key cannot be read (the sandbox), nothing is trusted; without contained mode an old unsigned store still is", async () => {
    const t = setup();
    t.forge();
    expect(await t.trusted()).toBe(true); // no key, not contained: the store from before signing
    writeContainedState(t.sb.env, {
      version: 1,
      settingsFile: "/x",
      exec: "/usr/bin/node /x/downscope-exec.js",
      denyRules: [],
    });
    expect(await t.trusted()).toBe(false);
    await runCli(["trust"], { env: t.sb.env, cwd: t.sb.project });
    expect(await t.trusted()).toBe(true); // the key is readable here (outside the sandbox)
    rmSync(t.key); // as inside the sandbox, where the key is hidden
    expect(await t.trusted()).toBe(false);
  });
});
