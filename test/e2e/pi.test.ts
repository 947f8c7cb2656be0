/**
 * End to end with the real pi coding agent (@mariozechner/pi-coding-agent,
 * pinned in test/e2e/pi/package.json) and no network: a custom provider in
 * ~/.pi/agent/models.json (`api: openai-completions`, `baseUrl`) points it
 * at the scripted loopback API (test/e2e/fake-openai.ts), PI_OFFLINE=1 turns
 * off its update checks. `downscope install pi`, run by a person at a
 * terminal, writes downscope's extension into ~/.pi/agent/extensions/. pi
 * runs every tool call without asking, so only the extension can stop one.
 *
 * One session (print mode, -p) proves: a denied command never runs and the
 * model gets the reason; an allowed one is rewritten to downscope-exec and
 * the fake gh gets the read-only slot's token (its fingerprint); a review
 * never runs (pi asks the person through ctx.ui.confirm, and in print mode
 * there is none); the agent cannot remove the extension — not with its
 * write tool, not with `rm`, not with `downscope uninstall`. A second session
 * makes the hook hang: the extension's own timeout blocks the call.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hangTheHook, prepare, RO_FP, runAgent, type Session } from "./agent-run.js";
import type { ToolCall } from "./fake-openai.js";
import { ensureNpmCli, PI } from "./npm-cli.js";

let pi: string[] = [];
beforeAll(() => {
  pi = ensureNpmCli(PI);
}, 300_000);

const bash = (command: string): ToolCall => ({ name: "bash", args: { command } });

function models(s: Session) {
  s.sb.write(
    join(s.sb.home, ".pi/agent/models.json"),
    JSON.stringify({
      providers: {
        scripted: {
          baseUrl: s.api.url,
          api: "openai-completions",
          apiKey: "dummy-e2e-key",
          compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
          models: [{ id: "fake-model" }],
        },
      },
    }),
  );
}

const run = (s: Session, opts?: { killAfterMs?: number }) =>
  runAgent(s, [...pi, "-p", "--provider", "scripted", "--model", "fake-model", "go"], {
    ...opts,
    env: { PI_OFFLINE: "1" },
  });

describe("pi end to end", () => {
  it("deny, rewrite with the scoped token, review, and the extension the agent cannot remove", async () => {
    const calls: ToolCall[] = [
      bash("gh repo delete o/r --yes"),
      bash("gh pr list --limit 3"),
      bash("gh pr merge 12"),
      { name: "write", args: {} }, // the extension's real path once the sandbox exists, below
      bash("rm ~/.pi/agent/extensions/downscope.js"),
      bash("downscope uninstall pi"),
      { name: "write", args: { path: "notes.txt", content: "written by the agent\n" } },
    ];
    const s = await prepare("pi", calls, models);
    const ext = join(s.sb.home, ".pi/agent/extensions/downscope.js");
    calls[3] = { name: "write", args: { path: ext, content: "export default function () {}\n" } };
    const before = readFileSync(ext, "utf8");
    const r = await run(s);
    expect(r.code, r.stderr).toBe(0);
    expect(r.results).toHaveLength(7);
    const [deny, list, review, write, rm, uninstall] = r.results;
    expect(deny).toContain('denied by rule "repo deletion denied"');
    expect(list).toContain("fake-gh-output");
    expect(review).toContain("no one can approve it here");
    expect(review).not.toContain("DOWNSCOPE_APPROVAL");
    expect(write).toContain("only the user may change");
    expect(rm).toContain("only the user may change");
    expect(uninstall).toContain("is a downscope management command");
    expect(r.ghCalls).toEqual([`gh pr list --limit 3 fp=${RO_FP}`]);
    expect(readFileSync(ext, "utf8")).toBe(before);
    expect(readFileSync(join(s.sb.project, "notes.txt"), "utf8")).toBe("written by the agent\n");
  }, 180_000);

  it("a hook that hangs blocks the call (the extension's timeout)", async () => {
    const s = await prepare("pi", [bash("echo ran > ran.txt")], models);
    hangTheHook(s);
    const r = await run(s, { killAfterMs: 60_000 });
    expect(r.killed).toBe(false);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toContain("the hook could not run, so the tool call is blocked");
    expect(existsSync(join(s.sb.project, "ran.txt"))).toBe(false);
  }, 120_000);
});
