/**
 * Bypass: a user whose agent config lives where its variable moves it
 * (CLAUDE_CONFIG_DIR, CODEX_HOME, OPENCODE_CONFIG_DIR, COPILOT_HOME,
 * PI_CODING_AGENT_DIR, GEMINI_CLI_HOME) got the hook written to the default
 * directory — so no hook at all — and a self-protection guarding the default
 * directory while the agent's real settings were open to it. Fix: each
 * agent's table entry names its variable (src/agents/); install writes and
 * the hook protects the directory the variable names (and the default one),
 * the gate passes commands naming it by its absolute path, and `$VAR/…` is
 * read as that directory. Proves: writes to the moved settings are denied by
 * Bash (absolute path, `$VAR`, `${VAR}`) and by the file tools, and the
 * default directory stays protected.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const answer = (sb: Sandbox, env: Record<string, string>, tool: string, input: Record<string, unknown>) =>
  answerPayload(
    { tool_name: tool, tool_input: input, cwd: sb.project },
    { env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project, ...env }, cwd: sb.project },
  );

// [variable, the file inside the directory it names, and where it is by default]
const CASES = [
  ["CLAUDE_CONFIG_DIR", "settings.json", ".claude/settings.json"],
  ["CODEX_HOME", "config.toml", ".codex/config.toml"],
  ["OPENCODE_CONFIG_DIR", "plugin/downscope.js", ".config/opencode/plugin/downscope.js"],
  ["COPILOT_HOME", "settings.json", ".copilot/settings.json"],
  ["PI_CODING_AGENT_DIR", "extensions/downscope.js", ".pi/agent/extensions/downscope.js"],
  ["GEMINI_CLI_HOME", ".gemini/settings.json", ".gemini/settings.json"],
] as const;

describe.each(CASES)("%s moves the agent's settings", (variable, rel, usual) => {
  const moved = (sb: Sandbox) => join(sb.root, "elsewhere", variable.toLowerCase());

  it.each([
    (dir: string) => `rm ${dir}/${rel}`,
    (dir: string) => `echo '{}' > ${dir}/${rel}`,
    () => `rm $${variable}/${rel}`,
    () => `cp /dev/null \${${variable}}/${rel}`,
  ])("Bash %# → deny", async (spell) => {
    const sb = sandbox();
    const dir = moved(sb);
    const r = await answer(sb, { [variable]: dir }, "Bash", { command: spell(dir) });
    expect(r.decision, JSON.stringify(r)).toBe("deny");
  });

  it("the file tools → deny, and the default directory stays protected", async () => {
    const sb = sandbox();
    const dir = moved(sb);
    const env = { [variable]: dir };
    expect((await answer(sb, env, "Write", { file_path: join(dir, rel), content: "{}" })).decision).toBe("deny");
    expect((await answer(sb, env, "Edit", { file_path: join(sb.home, usual) })).decision).toBe("deny");
  });

  it("a file beside it that is not the agent's passes", async () => {
    const sb = sandbox();
    const dir = moved(sb);
    const r = await answer(sb, { [variable]: dir }, "Write", { file_path: join(sb.root, "elsewhere", "notes.txt") });
    expect(r.decision).toBe("none");
  });
});
