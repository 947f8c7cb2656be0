/*
 * Attack: `downscope suggest --out` or `report --html` (commands the agent may
 * run) pointed at another agent's settings file — Cursor's hooks.json, Gemini
 * CLI's settings.json — overwrites the hook that decides that agent's calls,
 * or an MCP config that routes a server through the proxy. Fix: --out refuses
 * the other agents' hook and MCP files as it refuses Claude Code's. Proves:
 * each is refused, at user and project scope; ordinary files are not.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { protectedOutputProblem } from "../../src/out-path.js";

const env = { HOME: "/home/u" };

describe("--out refuses the other agents' settings files", () => {
  it.each([
    "/home/u/.cursor/hooks.json",
    "/srv/p/.cursor/hooks.json",
    "/home/u/.cursor/mcp.json",
    "/srv/p/.cursor/mcp.json",
    "/home/u/.gemini/settings.json",
    "/srv/p/.gemini/settings.json",
    "/home/u/.config/Claude/claude_desktop_config.json",
    "/home/u/Library/Application Support/Claude/claude_desktop_config.json",
    "/srv/p/.vscode/mcp.json",
    "/srv/p/.mcp.json",
  ])("%s", (file) => {
    expect(protectedOutputProblem(file, env)).toMatch(/agent settings file/);
  });

  it.each(["/srv/p/hooks.json", "/srv/p/settings.json", "/srv/p/.gemini/notes.md", join("/srv/p", "report.html")])(
    "%s is an ordinary file",
    (file) => {
      expect(protectedOutputProblem(file, env)).toBeUndefined();
    },
  );
});
