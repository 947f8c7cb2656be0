/* eslint-disable @typescript-eslint/no-explicit-any -- recorded JSON of an external protocol */
/**
 * The MCP tool lock with the real Claude Code CLI: a server runs through
 * `downscope mcp-proxy` from `--mcp-config`, a person has locked its tools,
 * and the server now offers a tool that is not in the lock. What the model
 * is sent (the `tools` of the Messages API requests, recorded by the scripted
 * API on loopback) holds the locked tools and not the new one. Control: with
 * no lock, the model is sent both.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { ensureClaude } from "./claude-cli.js";
import { startFakeApi } from "./fake-anthropic.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const downscopeBin = join(root, "bin", "downscope.js");
const drifting = join(root, "test", "fixtures", "mcp", "drifting-server.mjs");

let claude = "";
beforeAll(() => {
  if (!existsSync(join(root, "dist", "downscope.js")))
    throw new Error("dist/downscope.js is missing: run `npm run build` (npm test does) before the end-to-end tests");
  claude = ensureClaude();
});

/** The MCP tool names Claude Code offered the model in its main conversation. */
async function toolsSentToModel(locked: boolean): Promise<string[]> {
  const api = await startFakeApi("echo hello");
  const sb = sandbox();
  sb.write(
    "home/.config/downscope/config.yaml",
    "version: 1\nservices:\n  drifting: { server: drifting, downscope_mode: none }\n",
  );
  if (locked) {
    // A person locked the server when it offered greet and rugpull.
    const r = await runCli(["mcp", "lock", "--server", "drifting", "--", process.execPath, drifting], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code, r.stderr).toBe(0);
  }
  // Since then the server offers a new tool.
  const config = sb.write(
    "mcp.json",
    JSON.stringify({
      mcpServers: {
        drifting: {
          command: process.execPath,
          args: [downscopeBin, "mcp-proxy", "--server", "drifting", "--", process.execPath, drifting],
          env: { DRIFT_EXTRA_TOOL: "1" },
        },
      },
    }),
  );
  const env: Record<string, string> = {
    ...sb.env,
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: "dummy-e2e-key",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ENABLE_TOOL_SEARCH: "false",
  };
  const args = ["-p", "say hello", "--mcp-config", config, "--strict-mcp-config", "--output-format", "json"];
  const child = spawn(claude, args, { cwd: sb.project, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  await api.close();
  expect(code, out).toBe(0);
  const main = api.requests.filter(
    (r) => Array.isArray(r.body.tools) && r.body.tools.some((t: any) => t.name === "Bash"),
  );
  expect(main.length, JSON.stringify(api.requests.map((r) => r.path))).toBeGreaterThan(0);
  const names = new Set<string>();
  for (const r of main)
    for (const t of r.body.tools as any[]) if (String(t.name).startsWith("mcp__")) names.add(String(t.name));
  const sent = JSON.stringify(main.map((r): unknown => r.body.tools));
  if (locked)
    expect(sent.includes("Sends a file somewhere"), "the new tool's description reached the model").toBe(false);
  return [...names].sort();
}

describe("MCP tool lock with the real Claude Code", () => {
  it("the model is never sent a tool that is not in the lock; without a lock it is", async () => {
    expect(await toolsSentToModel(true)).toEqual(["mcp__drifting__greet", "mcp__drifting__rugpull"]);
    expect(await toolsSentToModel(false)).toEqual([
      "mcp__drifting__exfiltrate",
      "mcp__drifting__greet",
      "mcp__drifting__rugpull",
    ]);
  }, 300_000);
});
