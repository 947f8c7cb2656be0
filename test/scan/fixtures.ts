/**
 * The scan fixtures (test/fixtures/scan/) laid out in a sandbox where each
 * client looks for them, with the fake secrets filled in at run time.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const DIR = resolve(import.meta.dirname, "../fixtures/scan");

/** Fake secrets of the right shapes, built here so that no token-shaped string is committed. */
export const SECRETS: Record<string, string> = {
  GITHUB_TOKEN: "ghp_" + "F4ke".repeat(9),
  DB_PASSWORD: "s3cr3t-" + "pa55".repeat(3),
  REMOTE_KEY: "rk-" + "fake".repeat(8),
  SLACK_TOKEN: "xoxb-" + "1234567890-".repeat(2) + "fakeFAKEfake",
  OPENAI_KEY: "sk-proj-" + "FakeKey0".repeat(4),
  AWS_KEY_ID: "AKIA" + "FAKE".repeat(4),
  BRAVE_KEY: "BSA" + "fakebrave".repeat(3),
  ANTHROPIC_KEY: "sk-ant-api03-" + "fAkE".repeat(10),
  CONTEXT7_KEY: "ctx7sk-" + "fake".repeat(6),
  FIGMA_TOKEN: "figd_" + "fake".repeat(8),
};

export interface ScanSandbox extends Sandbox {
  /** Where each fixture went. */
  files: Record<string, string>;
}

export function scanSandbox(opts: { codexHome?: boolean } = {}): ScanSandbox {
  const sb = sandbox();
  const managed = sb.env.DOWNSCOPE_CLAUDE_MANAGED_DIR!;
  const codexHome = opts.codexHome ? join(sb.home, "codex-home") : join(sb.home, ".codex");
  if (opts.codexHome) sb.env.CODEX_HOME = codexHome;
  const fill = (text: string) =>
    text
      .replace(/@@HOME@@/g, sb.home)
      .replace(/@@PROJECT@@/g, sb.project)
      .replace(/@@DIGEST@@/g, "0123456789abcdef".repeat(4))
      .replace(/@@([A-Z0-9_]+)@@/g, (_, k: string) => SECRETS[k] ?? `@@${k}@@`);
  const place: [string, string][] = [
    ["claude-code/claude.json", join(sb.home, ".claude.json")],
    ["claude-code/mcp.json", join(sb.project, ".mcp.json")],
    ["claude-code/managed-mcp.json", join(managed, "managed-mcp.json")],
    ["claude-desktop/claude_desktop_config.json", join(sb.home, ".config/Claude/claude_desktop_config.json")],
    ["cursor/mcp.json", join(sb.home, ".cursor/mcp.json")],
    ["cursor/project-mcp.json", join(sb.project, ".cursor/mcp.json")],
    ["vscode/mcp.json", join(sb.project, ".vscode/mcp.json")],
    ["vscode/user-mcp.json", join(sb.home, ".config/Code/User/mcp.json")],
    ["vscode/settings.json", join(sb.home, ".config/Code/User/settings.json")],
    ["windsurf/mcp_config.json", join(sb.home, ".codeium/windsurf/mcp_config.json")],
    ["gemini/settings.json", join(sb.home, ".gemini/settings.json")],
    ["gemini/project-settings.json", join(sb.project, ".gemini/settings.json")],
    ["codex/config.toml", join(codexHome, "config.toml")],
  ];
  const files: Record<string, string> = {};
  for (const [from, to] of place) files[from] = sb.write(to, fill(readFileSync(join(DIR, from), "utf8")));
  return { ...sb, files };
}
