/**
 * The cheap gate of the hook's self-protection (self-protect.ts), run on every
 * Bash command: substring tests only, so that a command naming neither
 * downscope nor a protected path loads neither the parser nor the check.
 */
/** Strings without which a command cannot name downscope or a protected path literally. */
export const GATE = [
  ...["downscope", ".claude", ".config", ".local", ".cache", ".aws", "/etc", "HOME", "~", "../", "session-env"],
  // The other agents' hook and MCP files (docs/agents.md), and the project's .mcp.json.
  ...[".cursor", ".gemini", ".vscode", "claude_desktop_config", ".mcp.json"],
];

export function mayTouchSelf(command: string, extra: readonly string[]): boolean {
  for (const g of GATE) if (command.includes(g)) return true;
  for (const g of extra) if (g !== "" && command.includes(g)) return true;
  return false;
}
