/**
 * `downscope install mcp --client claude-desktop|cursor|gemini|vscode`: each
 * client's config file, a byte-identical round trip, and the entry started
 * the way a desktop app starts it — no shell, a minimal PATH without
 * `downscope` on it, no TTY, cwd / — from an `npx` entry against the real
 * @modelcontextprotocol/server-everything, with the policy enforced.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it } from "vitest";
import { claudeDesktopConfig } from "../../src/cli/install-mcp.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { DOWNSCOPE_BIN, requireBuild, text, userPolicy } from "./helpers.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const run = (sb: Sandbox, ...argv: string[]) => runCli(argv, { env: sb.env, cwd: sb.project });
const entry = (file: string, server: string) =>
  (JSON.parse(readFileSync(file, "utf8")) as { mcpServers: Record<string, { command: string; args: string[] }> })
    .mcpServers[server]!;

describe("install mcp: client config files", () => {
  it.each<[NodeJS.Platform, Record<string, string>, string]>([
    ["linux", { HOME: "/home/u" }, "/home/u/.config/Claude/claude_desktop_config.json"],
    ["linux", { HOME: "/home/u", XDG_CONFIG_HOME: "/x" }, "/x/Claude/claude_desktop_config.json"],
    ["darwin", { HOME: "/Users/u" }, "/Users/u/Library/Application Support/Claude/claude_desktop_config.json"],
  ])("Claude Desktop on %s %j → %s", (platform, env, want) => {
    expect(claudeDesktopConfig(env, platform)).toBe(want);
  });

  it.each<[string, string[], (sb: Sandbox) => string]>([
    ["claude-desktop", [], (sb) => join(sb.env.XDG_CONFIG_HOME!, "Claude", "claude_desktop_config.json")],
    ["gemini", [], (sb) => join(sb.project, ".gemini", "settings.json")],
    ["gemini", ["--scope", "user"], (sb) => join(sb.home, ".gemini", "settings.json")],
    ["cursor", ["--scope", "user"], (sb) => join(sb.home, ".cursor", "mcp.json")],
  ])("%s %j: round trip is byte-identical", async (client, scope, path) => {
    const sb = sandbox();
    const original = `{
  "theme": "dark",
  "mcpServers": {
    "everything": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"] },
    "other": { "command": "other-server" }
  }
}
`;
    const file = sb.write(path(sb), original);
    const r = await run(sb, "install", "mcp", "--client", client, ...scope, "--server", "everything");
    expect(r.code, r.stderr).toBe(0);
    const e = entry(file, "everything");
    if (client === "claude-desktop") {
      expect(e.command).toBe(process.execPath);
      expect(e.args.slice(0, 6)).toEqual([DOWNSCOPE_BIN, "mcp-proxy", "--server", "everything", "--", "npx"]);
    } else
      expect(e).toEqual({
        command: "downscope",
        args: ["mcp-proxy", "--server", "everything", "--", "npx", "-y", "@modelcontextprotocol/server-everything"],
      });
    expect(entry(file, "other")).toEqual({ command: "other-server" });
    expect((await run(sb, "install", "mcp", "--client", client, ...scope, "--server", "everything")).stderr).toContain(
      "already runs through downscope",
    );
    expect((await run(sb, "uninstall", "mcp", "--client", client, ...scope, "--server", "everything")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(original);
  });

  it.each<[string[], RegExp]>([
    [["--client", "claude-desktop", "--scope", "project"], /claude-desktop has no project MCP config file/],
    [["--client", "vscode", "--scope", "user"], /vscode has no user MCP config file/],
    [["--client", "cursor", "--scope", "team"], /--scope must be user or project/],
    [["--path", "x.json", "--scope", "user"], /--scope goes with --client/],
  ])("refuses %j", async (argv, message) => {
    const r = await run(sandbox(), "install", "mcp", ...argv, "--server", "x");
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
  });
});

describe("install mcp --client claude-desktop: started as the desktop app starts it", () => {
  it("an npx entry runs through the proxy with no shell, a minimal PATH, no TTY, and the policy holds", async () => {
    requireBuild();
    const sb = sandbox();
    userPolicy(
      sb,
      `version: 1
services:
  everything:
    server: everything
    downscope_mode: none
    rules:
      - { name: no sums, match: { tools: [get-sum] }, action: deny, reason: sums are off limits }
`,
    );
    // As a user writes it for Claude Desktop (offline here: the package comes from this checkout's node_modules).
    const file = sb.write(
      join(sb.env.XDG_CONFIG_HOME!, "Claude", "claude_desktop_config.json"),
      JSON.stringify({
        mcpServers: { everything: { command: "npx", args: ["--offline", "--prefix", ROOT, "mcp-server-everything"] } },
      }),
    );
    expect((await run(sb, "install", "mcp", "--client", "claude-desktop", "--server", "everything")).code).toBe(0);
    const e = entry(file, "everything");
    // What a desktop app has: a minimal PATH (no downscope on it), no shell, cwd /, pipes for stdio.
    const env = { ...sb.env, PATH: "/usr/bin:/bin" };
    const client = new Client({ name: "claude-desktop-like", version: "1" });
    await client.connect(new StdioClientTransport({ command: e.command, args: e.args, cwd: "/", env, stderr: "pipe" }));
    try {
      expect(text(await client.callTool({ name: "echo", arguments: { message: "via proxy" } }))).toContain("via proxy");
      const denied = await client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
      expect(denied.isError).toBe(true);
      expect(text(denied)).toContain("sums are off limits");
    } finally {
      await client.close();
    }
  });
});
