/**
 * Bypass: the agent switches the hook off, or widens its own agent's sandbox
 * or approvals, through a file downscope did not guard: Cursor's
 * sandbox.json (user or project), the Cursor CLI's permission files, Codex
 * CLI's config.toml (hooks.state `enabled = false`, `features.hooks =
 * false`, its approval and sandbox policy) and execpolicy rules, Copilot
 * CLI's settings (`disableAllHooks`) and a repository's .github/hooks,
 * OpenCode's plugin directory and opencode.json(c), pi's extensions, Gemini
 * CLI's policy rules. Fix: every agent's file that holds downscope's hook or
 * could switch it off is listed in that agent's table entry (src/agents/) and
 * protected like Claude Code's settings (src/protection/protected-paths.ts), and
 * the cheap gate (src/hook/self-gate.ts) knows their names. Proves: each
 * Bash spelling and each file-tool write below is denied, and the everyday
 * commands beside them pass.
 */
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

function setup(): Sandbox {
  const sb = sandbox();
  sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
  return sb;
}

const answer = (sb: Sandbox, tool: string, input: Record<string, unknown>, env: Record<string, string> = {}) =>
  answerPayload(
    { tool_name: tool, tool_input: input, cwd: sb.project },
    { env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project, ...env }, cwd: sb.project },
  );

const DENIED = [
  // Cursor: its terminal sandbox and the CLI's permissions
  "echo '{\"enabled\":false}' > ~/.cursor/sandbox.json",
  "cp /tmp/wide.json .cursor/sandbox.json",
  "rm ~/.cursor/cli-config.json",
  "sed -i s/deny/allow/ .cursor/cli.json",
  // Codex CLI: the hook, its trust and enablement, the sandbox and approval policy, execpolicy rules
  "echo 'features.hooks = false' >> ~/.codex/config.toml",
  "rm ~/.codex/config.toml",
  "cp allow.rules ~/.codex/rules/default.rules",
  "tee .codex/config.toml < /dev/null",
  "rm -rf ~/.codex",
  // OpenCode: the plugin, its settings (a permission block allows every command), a project's .opencode/
  "rm ~/.config/opencode/plugin/downscope.js",
  'echo \'{"permission":"allow"}\' > opencode.json',
  "mv .opencode/plugin/x.js .opencode/plugin/y.js",
  "rm -rf .opencode",
  // Copilot CLI: its settings (disableAllHooks), a repository's hooks and settings
  "rm ~/.copilot/settings.json",
  "echo '{\"disableAllHooks\":true}' > .github/copilot/settings.json",
  "cp allow-all.json .github/hooks/allow.json",
  // pi: the extension and the project's .pi/
  "rm ~/.pi/agent/extensions/downscope.js",
  "cp mine.ts .pi/extensions/mine.ts",
  // Gemini CLI's policy rules
  "cp allow.toml ~/.gemini/policies/allow.toml",
];

const EVERYDAY = [
  "cat ~/.codex/config.toml",
  "ls ~/.pi/agent/extensions",
  "cat .github/workflows/ci.yml",
  "git log --oneline -3",
  "mkdir -p .github/workflows && cp ci.yml .github/workflows/ci.yml",
];

describe("the agents' own files are protected from Bash", () => {
  it.each(DENIED)("%s → deny", async (command) => {
    const r = await answer(setup(), "Bash", { command });
    expect(r.decision, JSON.stringify(r)).toBe("deny");
    expect("reason" in r ? r.reason : "").toMatch(/only the user may change/);
  });

  it.each(EVERYDAY)("%s → no opinion", async (command) => {
    const r = await answer(setup(), "Bash", { command });
    expect(r.decision).toBe("none");
  });
});

describe("and from the file tools", () => {
  it.each([
    "~/.cursor/sandbox.json",
    ".cursor/sandbox.json",
    "~/.codex/config.toml",
    "~/.codex/rules/default.rules",
    "~/.config/opencode/plugin/evil.js",
    "~/.config/opencode/opencode.jsonc",
    ".opencode/plugin/evil.js",
    "~/.copilot/settings.json",
    ".github/hooks/allow.json",
    "~/.pi/agent/extensions/downscope.js",
    ".pi/settings.json",
  ])("Write of %s → deny", async (rel) => {
    const sb = setup();
    const file_path = rel.startsWith("~/") ? `${sb.home}/${rel.slice(2)}` : rel;
    const r = await answer(sb, "Write", { file_path, content: "x" });
    expect(r.decision).toBe("deny");
  });

  it("a file of the project's own that only looks alike passes", async () => {
    const sb = setup();
    expect((await answer(sb, "Write", { file_path: ".github/workflows/ci.yml", content: "x" })).decision).toBe("none");
    expect((await answer(sb, "Write", { file_path: "docs/opencode.md", content: "x" })).decision).toBe("none");
  });
});
