/**
 * The cheap gate of the hook's self-protection (self-protect.ts), run on every
 * Bash command: substring tests only, so that a command naming neither
 * downscope nor a protected path loads neither the parser nor the check.
 *
 * Also what the hook needs to know before loading the file-tool check
 * (file-tools.ts, its own bundle): which tools write files, and the
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

/** Claude Code's tools that read files (src/hook/file-tools.ts says which input fields name what they read). */
export const FILE_READ_TOOL_NAMES: ReadonlySet<string> = new Set(["Read", "NotebookRead", "Grep", "Glob"]);

/** The project an agent works in: Claude Code names it in CLAUDE_PROJECT_DIR for hooks. */
export function projectDir(env: Env, cwd: string): string {
  const p = env.CLAUDE_PROJECT_DIR;
  return p && isAbsolute(p) ? p : cwd;
}
/**
 * The variables that move an agent's config directory (src/agents/: each
 * agent's configVar; test/hook/agents-files.test.ts keeps the two lists
 * equal): a command naming the directory they point at by its absolute path
 * passes the gate through their values.
 */
export const AGENT_DIR_VARS = [
  ...["CLAUDE_CONFIG_DIR", "GEMINI_CLI_HOME", "CODEX_HOME", "OPENCODE_CONFIG_DIR", "COPILOT_HOME"],
  "PI_CODING_AGENT_DIR",
];

/** Strings without which a command cannot name downscope or a protected path literally. */
export const GATE = [
  ...["downscope", ".claude", ".config", ".local", ".cache", ".aws", "/etc", "HOME", "~", "../", "session-env"],
  // The other agents' hook, plugin and settings files (src/agents/; test/hook/agents-files.test.ts checks that
  // every one is named here), the MCP clients' files and the project's .mcp.json.
  ...[".cursor", ".gemini", ".codex", ".opencode", "opencode.json", ".copilot", ".github", ".pi"],
  ...[".vscode", "claude_desktop_config", ".mcp.json"],
  // The agents' config directories by their variables (`cp x $CLAUDE_CONFIG_DIR/settings.json`).
  ...AGENT_DIR_VARS,
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

/**
 * Strings without which a Bash command cannot name a credential store
 * literally (src/hook/credential-reads.ts): the first component of each under
 * the home, and the last of each path the policy protects.
 */
const READ_GATE = [
  ...[".aws", ".config", ".kube", ".ssh", ".netrc", ".git-credentials", ".docker", ".npmrc", ".pypirc", ".cargo"],
  ...[".azure", ".terraform.d", "_history", ".histfile", ".zhistory", ".local/share/fish", "downscope"],
];

export function mayReadSecrets(command: string, protectReads: readonly string[]): boolean {
  for (const g of READ_GATE) if (command.includes(g)) return true;
  for (const p of protectReads) {
    const last = p.replace(/\/+$/, "").split("/").pop();
    if (last !== undefined && last !== "" && last !== "~" && command.includes(last)) return true;
  }
  return false;
}
