/** `downscope install mcp` / `uninstall mcp`: rewrite one entry, keep every other byte, restore exactly. */
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { unifiedDiff, valueSpan } from "../../src/cli/install-mcp.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { DOWNSCOPE_BIN, FIXTURES, requireBuild, text, userPolicy } from "./helpers.js";

const MCP_JSON = `{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "\${GITHUB_TOKEN}" }
    },
    "files": { "command": "node", "args": ["x.js"] },
    "remote": { "type": "http", "url": "https://example.invalid/mcp" }
  }
}
`;

function run(sb: Sandbox, ...argv: string[]) {
  return runCli(argv, { env: sb.env, cwd: sb.project });
}

function entry(file: string, server: string, key = "mcpServers") {
  return (
    JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, { command: string; args?: string[] }>>
  )[key]![server]!;
}

describe("install mcp", () => {
  it("shows a diff on --dry-run and writes nothing", async () => {
    const sb = sandbox();
    const file = sb.write("project/.mcp.json", MCP_JSON);
    const r = await run(sb, "install", "mcp", "--server", "github", "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`--- ${file}`);
    expect(r.stdout).toContain('-      "command": "npx",');
    expect(r.stdout).toContain('+      "command": "downscope",');
    expect(r.stdout.match(/^@@/gm)).toHaveLength(1);
    expect(readFileSync(file, "utf8")).toBe(MCP_JSON);
  });

  it("routes one entry through the proxy, keeps the rest byte for byte, and uninstall restores exactly in any order", async () => {
    const sb = sandbox();
    const file = sb.write("project/.mcp.json", MCP_JSON);
    expect((await run(sb, "install", "mcp", "--server", "github")).code).toBe(0);
    expect(entry(file, "github")).toMatchObject({
      command: "downscope",
      args: ["mcp-proxy", "--server", "github", "--", "npx", "-y", "@modelcontextprotocol/server-github"],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: "${GITHUB_TOKEN}" },
    });
    const after = readFileSync(file, "utf8");
    expect(after).toContain('    "files": { "command": "node", "args": ["x.js"] },\n');
    expect((await run(sb, "install", "mcp", "--server", "github")).stderr).toContain("already runs through downscope");
    expect(readFileSync(file, "utf8")).toBe(after);

    expect((await run(sb, "install", "mcp", "--server", "files")).code).toBe(0);
    expect(entry(file, "files").args).toEqual(["mcp-proxy", "--server", "files", "--", "node", "x.js"]);
    // Uninstall the first one first: the file changed since, the entry still comes back verbatim.
    const u1 = await run(sb, "uninstall", "mcp", "--server", "github");
    expect(u1.stderr).toContain("restored the entry exactly");
    expect((await run(sb, "uninstall", "mcp", "--server", "files")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(MCP_JSON);
    expect((await run(sb, "uninstall", "mcp", "--server", "files")).stderr).toContain("nothing to do");
  });

  it.each([
    ["cursor", ".cursor/mcp.json", "mcpServers"],
    ["vscode", ".vscode/mcp.json", "servers"],
  ])("knows the %s project file", async (client, path, key) => {
    const sb = sandbox();
    const original = JSON.stringify({ [key]: { fs: { type: "stdio", command: "node", args: ["s.js"] } } }, null, "\t");
    const file = sb.write(`project/${path}`, original);
    expect((await run(sb, "install", "mcp", "--client", client, "--server", "fs")).code).toBe(0);
    expect(entry(file, "fs", key).args).toEqual(["mcp-proxy", "--server", "fs", "--", "node", "s.js"]);
    expect(readFileSync(file, "utf8")).toContain('\t\t\t"type": "stdio",');
    expect((await run(sb, "uninstall", "mcp", "--client", client, "--server", "fs")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(original);
  });

  it("prints its usage on --help", async () => {
    const sb = sandbox();
    const r = await run(sb, "uninstall", "mcp", "--help");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "usage: downscope install mcp [--path FILE | --client claude|claude-desktop|cursor|gemini|vscode",
    );
  });

  it("restores from the proxy's own command line when there is no install record", async () => {
    const sb = sandbox();
    const file = sb.write(
      "project/.mcp.json",
      '{"mcpServers":{"a":{"command":"downscope","args":["mcp-proxy","--server","a","--","srv","--flag"]}}}',
    );
    expect((await run(sb, "uninstall", "mcp", "--server", "a")).stderr).toContain("no install record");
    expect(entry(file, "a")).toEqual({ command: "srv", args: ["--flag"] });
  });

  it.each<[string, string[], string | undefined, number, RegExp]>([
    ["missing file", ["--server", "x"], undefined, 64, /\.mcp\.json does not exist/],
    ["bad JSON", ["--server", "x"], '{\n  "mcpServers": {,\n}', 78, /\.mcp\.json:2:\d+: not valid JSON/],
    ["no servers object", ["--server", "x"], '{"other": {}}', 78, /no `mcpServers` \(or `servers`\) object/],
    [
      "unknown server",
      ["--server", "x"],
      MCP_JSON,
      64,
      /has no server "x" under mcpServers; it has: github, files, remote/,
    ],
    ["http server", ["--server", "remote"], MCP_JSON, 64, /not a stdio server/],
    ["unknown client", ["--client", "emacs", "--server", "x"], MCP_JSON, 64, /unknown client "emacs"/],
    ["both", ["--client", "claude", "--path", "a", "--server", "x"], MCP_JSON, 64, /--path or --client, not both/],
    ["no server", [], MCP_JSON, 64, /--server NAME is required/],
    ["unknown flag", ["--server", "x", "--force"], MCP_JSON, 64, /unknown option --force/],
  ])("refuses: %s", async (_name, argv, content, code, message) => {
    const sb = sandbox();
    if (content !== undefined) sb.write("project/.mcp.json", content);
    const r = await run(sb, "install", "mcp", ...argv);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    if (content !== undefined) expect(readFileSync(join(sb.project, ".mcp.json"), "utf8")).toBe(content);
  });

  it("writes an entry an MCP client can start as it is", async () => {
    requireBuild();
    const sb = sandbox();
    // `downscope` on PATH, as an npm global install would put it.
    const shim = sb.write("bin/downscope", `#!/bin/sh\nexec "${process.execPath}" "${DOWNSCOPE_BIN}" "$@"\n`);
    chmodSync(shim, 0o755);
    userPolicy(sb, "version: 1\nservices:\n  fake: { server: fake, downscope_mode: none }\n");
    const file = sb.write(
      "project/.mcp.json",
      JSON.stringify({
        mcpServers: { fake: { command: process.execPath, args: [join(FIXTURES, "fake-server.mjs")] } },
      }),
    );
    expect((await run(sb, "install", "mcp", "--server", "fake")).code).toBe(0);
    const e = entry(file, "fake");
    const client = new Client({ name: "t", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: e.command,
        args: e.args,
        cwd: sb.project,
        env: { ...sb.env, PATH: `${join(sb.root, "bin")}:${sb.env.PATH}` },
        stderr: "pipe",
      }),
    );
    try {
      expect(text(await client.callTool({ name: "echo", arguments: { via: "proxy" } }))).toBe('{"via":"proxy"}');
    } finally {
      await client.close();
    }
    expect(existsSync(file)).toBe(true);
  });
});

describe("valueSpan and unifiedDiff", () => {
  it.each<[string, string[], string | undefined]>([
    ['{"a":{"b":[1,{"c":"}"}]}}', ["a", "b"], '[1,{"c":"}"}]'],
    ['{"a":1,"a":2}', ["a"], "2"],
    ['{"x":{"y":"q\\"z"},"a":{}}', ["a"], "{}"],
    ['{"a":1}', ["b"], undefined],
    ["[1]", ["a"], undefined],
  ])("%s %j → %s", (json, path, want) => {
    const span = valueSpan(json, path);
    expect(span ? json.slice(span[0], span[1]) : undefined).toBe(want);
  });

  it("prints hunks with line numbers", () => {
    const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
    const b = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n";
    expect(unifiedDiff(a, b, "f")).toBe(
      "--- f\n+++ f (downscope)\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
    );
    expect(unifiedDiff(a, a, "f")).toBe("");
  });
});
