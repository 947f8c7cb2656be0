/**
 * End to end with the real Codex CLI (@openai/codex, pinned in
 * test/e2e/codex/package.json) and no network: a custom model provider
 * (`base_url`, the Responses API) points it at the scripted loopback API
 * (test/e2e/fake-openai.ts); `downscope install codex`, run by a person at a
 * terminal, adds the PreToolUse hook and its trust record to config.toml.
 * `codex exec -s danger-full-access` runs every call without asking (approval
 * "never" in exec mode) and outside Codex's own sandbox, so only the hook
 * can stop a call.
 *
 * One session proves, in order: a denied command never runs and the model
 * gets the reason; an allowed one is rewritten to downscope-exec and the fake
 * gh gets the read-only slot's token (its fingerprint); a review never runs
 * (Codex would run an `ask`: the hook denies); the agent cannot remove the
 * hook — not with apply_patch on config.toml (the path is read out of the
 * patch), not with `rm`, not with `downscope uninstall`; an ordinary patch
 * applies. A second session makes the hook hang (the watchdog kills it and
 * the command line's exit 2 blocks the call before Codex's own timeout would
 * have run it).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hangTheHook, prepare, RO_FP, runAgent, type Session } from "./agent-run.js";
import type { ToolCall } from "./fake-openai.js";
import { CODEX, ensureNpmCli } from "./npm-cli.js";

let codex: string[] = [];
beforeAll(() => {
  codex = ensureNpmCli(CODEX);
}, 300_000);

const shell = (cmd: string): ToolCall => ({ name: "exec_command", args: { cmd } });
const patch = (body: string): ToolCall => ({ name: "apply_patch", input: `*** Begin Patch\n${body}\n*** End Patch\n` });

/** The user's own config.toml before install: the scripted provider. */
function providerSettings(s: Session) {
  s.sb.write(
    join(s.sb.home, ".codex/config.toml"),
    `# the user's settings\nmodel = "gpt-5.5"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\nname = "scripted"\nbase_url = "${s.api.url}"\nwire_api = "responses"\n`,
  );
}

const run = (s: Session, opts?: { killAfterMs?: number }) =>
  runAgent(s, [...codex, "exec", "--skip-git-repo-check", "-s", "danger-full-access", "go"], opts);

describe("Codex CLI end to end", () => {
  it("deny, rewrite with the scoped token, review, and the hook the agent cannot remove", async () => {
    const calls = [
      shell("gh repo delete o/r --yes"),
      shell("gh pr list --limit 3"),
      shell("gh pr merge 12"),
      patch("*** Update File: CONFIG"), // the real path once the sandbox exists, below
      shell("rm ~/.codex/config.toml"),
      shell("downscope uninstall codex"),
      patch("*** Add File: notes.txt\n+written by the agent"),
    ];
    const s = await prepare("codex", calls, providerSettings);
    const config = join(s.sb.home, ".codex/config.toml");
    calls[3] = patch(`*** Update File: ${config}\n@@\n-# the user's settings\n+# changed by the agent`);
    const before = readFileSync(config, "utf8");
    const r = await run(s);
    expect(r.code, r.stderr).toBe(0);
    expect(r.results).toHaveLength(7);
    const [deny, list, review, patched, rm, uninstall, notes] = r.results as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    expect(deny).toContain('denied by rule "repo deletion denied"');
    expect(deny).toContain("deleting repositories is not for agents");
    expect(list).toContain("fake-gh-output");
    expect(review).toContain("ask the user to run it themselves");
    expect(review).not.toContain("DOWNSCOPE_APPROVAL");
    expect(patched).toMatch(/only the user may change|cannot be checked/);
    expect(rm).toContain("only the user may change");
    expect(uninstall).toContain("is a downscope management command");
    expect(notes).not.toMatch(/downscope/);
    // Only the allowed call reached gh, with the read-only slot's token.
    expect(r.ghCalls).toEqual([`gh pr list --limit 3 fp=${RO_FP}`]);
    // The hook's own record: the three service calls, then the three attempts on its own files.
    expect(r.hookEvents.map((e) => e[0])).toEqual(["deny", "allow", "ask", "deny", "deny", "deny"]);
    expect(readFileSync(config, "utf8")).toBe(before);
    expect(readFileSync(join(s.sb.project, "notes.txt"), "utf8")).toBe("written by the agent\n");
  }, 180_000);

  it("a hook that hangs blocks the call (the watchdog, then exit 2)", async () => {
    const s = await prepare("codex", [shell("echo ran > ran.txt")], providerSettings);
    hangTheHook(s);
    const started = Date.now();
    const r = await run(s, { killAfterMs: 60_000 });
    expect(r.killed).toBe(false);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toContain("the hook could not run, so the tool call is blocked");
    expect(existsSync(join(s.sb.project, "ran.txt"))).toBe(false);
    // Killed by the watchdog (8 s), before Codex's own timeout (10 s) would have let the call run.
    expect(Date.now() - started).toBeGreaterThan(7_000);
  }, 120_000);
});
