/**
 * The cheap gate of the hook's self-protection (self-protect.ts), run on every
 * Bash command: substring tests only, so that a command naming neither
 * downscope nor a protected path loads neither the parser nor the check.
 *
 * Also what the hook needs to know before loading the file-tool check
 * (protected-paths.ts, its own bundle): which tools write files, and the
 * project's directory.
 */
import { isAbsolute } from "node:path";
import type { Env } from "../paths.js";

/** Claude Code's tools that write files, and the input field naming the file. */
export const FILE_WRITE_TOOLS: ReadonlyMap<string, string> = new Map([
  ["Write", "file_path"],
  ["Edit", "file_path"],
  ["MultiEdit", "file_path"],
  ["NotebookEdit", "notebook_path"],
]);

/** The project an agent works in: Claude Code names it in CLAUDE_PROJECT_DIR for hooks. */
export function projectDir(env: Env, cwd: string): string {
  const p = env.CLAUDE_PROJECT_DIR;
  return p && isAbsolute(p) ? p : cwd;
}
/** Strings without which a command cannot name downscope or a protected path literally. */
export const GATE = [
  ...["downscope", ".claude", ".config", ".local", ".cache", ".aws", "/etc", "HOME", "~", "../", "session-env"],
  // The other agents' hook and MCP files (docs/agents.md), and the project's .mcp.json.
  ...[".cursor", ".gemini", ".vscode", "claude_desktop_config", ".mcp.json"],
  // Removals of a directory above them by a relative name (`rm -rf .` in the project, `cd ~ && rm -rf .config`).
  ...["rm ", "rmdir", "unlink", "shred", "trash"],
  // The decision service's keeper, which a kill by its script's name would stop (`pkill -f serve-keeper`).
  "serve-keeper",
];

export function mayTouchSelf(command: string, extra: readonly string[]): boolean {
  for (const g of GATE) if (command.includes(g)) return true;
  for (const g of extra) if (g !== "" && command.includes(g)) return true;
  return false;
}
