/**
 * `downscope doctor` on the hooks `install` wrote into each agent: ok as
 * installed, and a warning for each way the agent would skip the hook or let
 * a call through when it fails (src/cli/doctor-agents.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../../src/cli/doctor.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

async function findings(sb: Sandbox, env: Record<string, string> = {}): Promise<Finding[]> {
  const r = await runCli(["doctor", "--json"], { env: { ...sb.env, ...env }, cwd: sb.project });
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
}
const install = (sb: Sandbox, agent: string, env: Record<string, string> = {}) =>
  runCli(["install", agent], { env: { ...sb.env, ...env }, cwd: sb.project });

describe("doctor: the agents' hooks", () => {
  it("Claude Code: an entry of downscope's without onFailure: block is a warning; install's own is not", async () => {
    const sb = sandbox();
    const dir = join(sb.root, "claude-config");
    await install(sb, "claude", { CLAUDE_CONFIG_DIR: dir });
    const file = join(dir, "settings.json");
    const ok = await findings(sb, { CLAUDE_CONFIG_DIR: dir });
    expect(ok.find((f) => f.check === "hook" && f.level === "ok")?.message).toContain(file);
    expect(ok.some((f) => f.message.includes("onFailure"))).toBe(false);
    const s = JSON.parse(readFileSync(file, "utf8"));
    delete s.hooks.PreToolUse[0].hooks[0].onFailure;
    writeFileSync(file, JSON.stringify(s));
    const warn = (await findings(sb, { CLAUDE_CONFIG_DIR: dir })).find((f) => f.message.includes("onFailure"));
    expect(warn).toMatchObject({ level: "warn", check: "hook", fix: "downscope install claude" });
    expect(warn?.message).toContain("PreToolUse");
  });

  it("Codex CLI: ok as installed; a hook moved by a group added before it is untrusted, and disabled hooks are named", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.home, ".codex/config.toml"), 'model = "gpt-5.5"\n');
    await install(sb, "codex");
    expect((await findings(sb)).find((f) => f.check === "codex")?.level).toBe("ok");
    // A group added above downscope's moves it to index 1: its trust record (index 0) no longer applies.
    const text = readFileSync(file, "utf8");
    writeFileSync(
      file,
      `[[hooks.PreToolUse]]\nmatcher = "x"\n[[hooks.PreToolUse.hooks]]\ntype = "command"\ncommand = "true"\n\n${text}`,
    );
    const moved = (await findings(sb)).find((f) => f.check === "codex");
    expect(moved).toMatchObject({ level: "warn", fix: "downscope install codex" });
    expect(moved?.message).toContain("trust record does not match");
    writeFileSync(file, `[features]\nhooks = false\n\n${text}`);
    expect((await findings(sb)).find((f) => f.check === "codex")?.message).toContain("features.hooks = false");
  });

  it("Copilot CLI: disableAllHooks is a warning", async () => {
    const sb = sandbox();
    await install(sb, "copilot");
    expect((await findings(sb)).find((f) => f.check === "copilot")?.level).toBe("ok");
    const file = join(sb.home, ".copilot/settings.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), disableAllHooks: true }));
    expect((await findings(sb)).find((f) => f.check === "copilot")).toMatchObject({ level: "warn" });
  });

  it("pi: a module whose node is gone is a warning (every call is blocked)", async () => {
    const sb = sandbox();
    await install(sb, "pi");
    expect((await findings(sb)).find((f) => f.check === "pi")?.level).toBe("ok");
    const file = join(sb.home, ".pi/agent/extensions/downscope.js");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^const NODE = .*$/m, 'const NODE = "/nonexistent/node";'));
    expect((await findings(sb)).find((f) => f.check === "pi")).toMatchObject({
      level: "warn",
      fix: "downscope install pi",
    });
  });
});
