/**
 * End to end with the real OpenCode (opencode-ai, pinned in
 * test/e2e/opencode/package.json) and no network: a custom provider
 * (`@ai-sdk/openai-compatible` with `options.baseURL`) points it at the
 * scripted loopback API (test/e2e/fake-openai.ts); `downscope install
 * opencode`, run by a person at a terminal, writes downscope's plugin into
 * the config directory. OpenCode's default permissions run bash and file
 * edits without asking, so only the plugin can stop a call.
 *
 * One session proves: a denied command never runs and the model gets the
 * reason; an allowed one is rewritten to downscope-exec and the fake gh gets
 * the read-only slot's token (its fingerprint); a review never runs (OpenCode
 * plugins cannot ask: denied); the agent cannot remove the plugin — not with
 * its write tool, not with `rm`, not with `downscope uninstall`. A second
 * session makes the hook hang: the plugin's own timeout blocks the call.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { hangTheHook, prepare, RO_FP, runAgent, type Session } from "./agent-run.js";
import type { ToolCall } from "./fake-openai.js";
import { ensureNpmCli, OPENCODE } from "./npm-cli.js";

let opencode: string[] = [];
beforeAll(() => {
  opencode = ensureNpmCli(OPENCODE);
}, 300_000);

const bash = (command: string): ToolCall => ({ name: "bash", args: { command, description: "scripted" } });

function providerSettings(s: Session) {
  s.sb.write(
    join(s.sb.home, ".config/opencode/opencode.json"),
    JSON.stringify({
      provider: {
        scripted: {
          npm: "@ai-sdk/openai-compatible",
          name: "Scripted",
          options: { baseURL: s.api.url, apiKey: "dummy-e2e-key" },
          models: { "fake-model": { name: "Scripted" } },
        },
      },
      model: "scripted/fake-model",
      autoupdate: false,
      share: "disabled",
    }),
  );
}

/**
 * Offline: OpenCode fetches its model catalog from models.dev and installs
 * @opencode-ai/plugin into each config directory from the npm registry at
 * start (a failure is only logged; a registry that refuses connections makes
 * it retry for minutes). The catalog fetch is turned off and the registry is
 * the scripted API's loopback origin, which answers 404 at once, so the
 * session touches nothing beyond loopback.
 */
const offline = (s: Session) => {
  const registry = new URL("/", s.api.url).toString();
  return {
    OPENCODE_DISABLE_MODELS_FETCH: "true",
    OPENCODE_DISABLE_AUTOUPDATE: "true",
    OPENCODE_DISABLE_DEFAULT_PLUGINS: "true",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "true",
    OPENCODE_DISABLE_SHARE: "true",
    BUN_CONFIG_REGISTRY: registry,
    NPM_CONFIG_REGISTRY: registry,
    npm_config_registry: registry,
  };
};

const run = (s: Session, opts?: { killAfterMs?: number }) =>
  runAgent(s, [...opencode, "run", "go"], { ...opts, env: offline(s) });

describe("OpenCode end to end", () => {
  it("deny, rewrite with the scoped token, review, and the plugin the agent cannot remove", async () => {
    const calls: ToolCall[] = [
      bash("gh repo delete o/r --yes"),
      bash("gh pr list --limit 3"),
      bash("gh pr merge 12"),
      { name: "write", args: { filePath: "PLUGIN", content: "export const Gone = async () => ({});\n" } },
      bash("rm ~/.config/opencode/plugin/downscope.js"),
      bash("downscope uninstall opencode"),
      { name: "write", args: { filePath: "notes.txt", content: "written by the agent\n" } },
    ];
    const s = await prepare("opencode", calls, providerSettings);
    const plugin = join(s.sb.home, ".config/opencode/plugin/downscope.js");
    calls[3] = { name: "write", args: { filePath: plugin, content: "export const Gone = async () => ({});\n" } };
    const before = readFileSync(plugin, "utf8");
    const r = await run(s);
    expect(r.code, r.stderr).toBe(0);
    expect(r.results).toHaveLength(7);
    const [deny, list, review, write, rm, uninstall, notes] = r.results;
    expect(deny).toContain('denied by rule "repo deletion denied"');
    expect(list).toContain("fake-gh-output");
    expect(review).toContain("ask the user to run it themselves");
    expect(review).not.toContain("DOWNSCOPE_APPROVAL");
    expect(write).toContain("only the user may change");
    expect(rm).toContain("only the user may change");
    expect(uninstall).toContain("is a downscope management command");
    expect(notes).not.toMatch(/downscope/);
    expect(r.ghCalls).toEqual([`gh pr list --limit 3 fp=${RO_FP}`]);
    expect(readFileSync(plugin, "utf8")).toBe(before);
    expect(readFileSync(join(s.sb.project, "notes.txt"), "utf8")).toBe("written by the agent\n");
  }, 180_000);

  it("a hook that hangs blocks the call (the plugin's timeout)", async () => {
    const s = await prepare("opencode", [bash("echo ran > ran.txt")], providerSettings);
    hangTheHook(s);
    const r = await run(s, { killAfterMs: 60_000 });
    expect(r.killed).toBe(false);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toContain("the hook could not run, so the tool call is blocked");
    expect(existsSync(join(s.sb.project, "ran.txt"))).toBe(false);
  }, 120_000);
});
