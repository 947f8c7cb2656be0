/**
 * End to end with the real GitHub Copilot CLI (@github/copilot, pinned in
 * test/e2e/copilot/package.json) and no network: its documented BYOK
 * variables (`copilot help environment`: COPILOT_PROVIDER_BASE_URL with an
 * OpenAI-compatible API, COPILOT_OFFLINE=true: no GitHub login, telemetry or
 * update check) point it at the scripted loopback API
 * (test/e2e/fake-openai.ts). `downscope install copilot`, run by a person at
 * a terminal, adds the preToolUse hook to $COPILOT_HOME/settings.json.
 * `--allow-all-tools` runs every call without asking, so only the hook can
 * stop a call.
 *
 * One session proves: a denied command never runs and the model gets the
 * reason; an allowed one is rewritten (modifiedArgs) to downscope-exec and
 * the fake gh gets the read-only slot's token (its fingerprint); a review is
 * put to Copilot CLI's own prompt, which in -p mode has no one to approve,
 * so it never runs; the agent cannot remove the hook — not with its edit
 * tool, not with `rm`, not with `downscope uninstall`. A second session makes
 * the hook hang: the watchdog kills it and the call is blocked before Copilot
 * CLI's own timeout (which runs the call) would have fired.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hangTheHook, prepare, RO_FP, runAgent, type Session } from "./agent-run.js";
import type { ToolCall } from "./fake-openai.js";
import { COPILOT, ensureNpmCli } from "./npm-cli.js";

let copilot: string[] = [];
beforeAll(() => {
  copilot = ensureNpmCli(COPILOT);
}, 300_000);

const bash = (command: string): ToolCall => ({ name: "bash", args: { command, description: "scripted" } });

const byok = (s: Session) => ({
  COPILOT_OFFLINE: "true",
  COPILOT_PROVIDER_BASE_URL: s.api.url,
  COPILOT_PROVIDER_API_KEY: "dummy-e2e-key",
  COPILOT_MODEL: "gpt-4.1",
  COPILOT_AUTO_UPDATE: "false",
});

const run = (s: Session, opts?: { killAfterMs?: number }) =>
  runAgent(s, [...copilot, "-p", "go", "--allow-all-tools", "--no-auto-update"], { ...opts, env: byok(s) });

const settings = (s: Session) => s.sb.write(join(s.sb.home, ".copilot/settings.json"), '{\n  "banner": "never"\n}\n');

describe("Copilot CLI end to end", () => {
  it("deny, rewrite with the scoped token, review, and the hook the agent cannot remove", async () => {
    const calls: ToolCall[] = [
      bash("gh repo delete o/r --yes"),
      bash("gh pr list --limit 3"),
      bash("gh pr merge 12"),
      { name: "edit", args: {} }, // the settings file's real path once the sandbox exists, below
      bash("rm ~/.copilot/settings.json"),
      bash("downscope uninstall copilot"),
      { name: "create", args: { path: "PROJECT/notes.txt", file_text: "written by the agent\n" } },
    ];
    const s = await prepare("copilot", calls, settings);
    const file = join(s.sb.home, ".copilot/settings.json");
    calls[3] = {
      name: "edit",
      args: { path: file, old_str: '"banner"', new_str: '"disableAllHooks": true, "banner"' },
    };
    calls[6] = { name: "create", args: { path: join(s.sb.project, "notes.txt"), file_text: "written by the agent\n" } };
    const before = readFileSync(file, "utf8");
    const r = await run(s);
    expect(r.code, r.stderr).toBe(0);
    expect(r.results).toHaveLength(7);
    const [deny, list, review, edit, rm, uninstall] = r.results;
    expect(deny).toContain('denied by rule "repo deletion denied"');
    expect(list).toContain("fake-gh-output");
    expect(review).toMatch(/pr merge needs a human/);
    expect(edit).toContain("only the user may change");
    expect(rm).toContain("only the user may change");
    expect(uninstall).toContain("is a downscope management command");
    expect(r.ghCalls).toEqual([`gh pr list --limit 3 fp=${RO_FP}`]);
    expect(r.hookEvents.slice(0, 3).map((e) => e[0])).toEqual(["deny", "allow", "ask"]);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(readFileSync(join(s.sb.project, "notes.txt"), "utf8")).toBe("written by the agent\n");
  }, 180_000);

  it("a hook that hangs blocks the call (the watchdog, then exit 2)", async () => {
    const s = await prepare("copilot", [bash("echo ran > ran.txt")], settings);
    hangTheHook(s);
    const r = await run(s, { killAfterMs: 60_000 });
    expect(r.killed).toBe(false);
    expect(existsSync(join(s.sb.project, "ran.txt"))).toBe(false);
    expect(r.results.join("\n") + r.stdout).toMatch(/Denied by preToolUse hook/);
  }, 120_000);
});
