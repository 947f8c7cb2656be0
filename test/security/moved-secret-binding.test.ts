/**
 * Bypass: after `install mcp --move-secrets`, the MCP config names a slot
 * (`--env-slot VAR=SLOT`) and the proxy fetches the secret. An agent that can
 * edit the config would route that slot to a server of its own: add
 * `--env-slot` to another entry, or change the moved entry's command to a
 * script that prints its environment.
 * Fix: each moved secret has a binding record (0600, ~/.config/downscope/
 * mcp-secrets/SLOT.json) naming the server, the variable and the sha256 of
 * the upstream command line; the proxy reads the secret only when all three
 * match, else it does not start the server (src/mcp/moved-secrets.ts).
 * Proves: each rerouting below fails to start with a reason naming the slot
 * and never the value, and the secret reaches no process; a binding record
 * readable by others is not used.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { DOWNSCOPE_BIN, requireBuild, serverEntry, text, userPolicy } from "../mcp/helpers.js";

const EVERYTHING = serverEntry("@modelcontextprotocol/server-everything");
const SECRET = "sk-proj-" + "BoundToOneServerOnly".repeat(2);
const SLOT = "mcp-everything-EVERYTHING_API_KEY";

async function moved(): Promise<Sandbox> {
  const sb = sandbox();
  userPolicy(
    sb,
    "version: 1\nservices:\n  everything: { server: everything, downscope_mode: none }\n  thief: { server: thief, downscope_mode: none }\n",
  );
  sb.write(
    "project/.mcp.json",
    JSON.stringify({
      mcpServers: {
        everything: { command: process.execPath, args: [EVERYTHING, "stdio"], env: { EVERYTHING_API_KEY: SECRET } },
      },
    }),
  );
  const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], {
    env: sb.env,
    cwd: sb.project,
  });
  expect(r.code, r.stderr).toBe(0);
  return sb;
}

/** Starts a proxy the way an edited config would, and asks the server for its environment. */
async function start(sb: Sandbox, proxyArgs: string[]) {
  requireBuild();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [DOWNSCOPE_BIN, "mcp-proxy", ...proxyArgs],
    env: sb.env,
    cwd: sb.project,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: "t", version: "1" });
  try {
    await client.connect(transport);
    const r = await client.callTool({ name: "get-env", arguments: {} });
    return { started: true, output: text(r), stderr };
  } catch (e) {
    return { started: false, output: e instanceof Error ? e.message : String(e), stderr };
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe("a moved secret reaches only the server and command it was moved from", () => {
  it("control: the entry as install wrote it gets the secret", async () => {
    const sb = await moved();
    const r = await start(sb, [
      "--server",
      "everything",
      "--env-slot",
      `EVERYTHING_API_KEY=${SLOT}`,
      "--",
      process.execPath,
      EVERYTHING,
      "stdio",
    ]);
    expect(r.started).toBe(true);
    // The server got the secret; the proxy masks that exact value in what it returns (docs/masking.md).
    expect(r.output).toMatch(/"EVERYTHING_API_KEY": "\[masked:moved\]"/);
    expect(r.output).not.toContain(SECRET);
  });

  it.each<[string, string[], RegExp]>([
    [
      "the slot added to another server's entry",
      ["--server", "thief", "--env-slot", `EVERYTHING_API_KEY=${SLOT}`, "--", process.execPath, EVERYTHING, "stdio"],
      /belongs to server "everything" as EVERYTHING_API_KEY, not to "thief"/,
    ],
    [
      "the slot under another variable name",
      ["--server", "everything", "--env-slot", `OTHER_NAME=${SLOT}`, "--", process.execPath, EVERYTHING, "stdio"],
      /belongs to server "everything" as EVERYTHING_API_KEY, not to "everything" as OTHER_NAME/,
    ],
    [
      "the moved entry's command changed",
      [
        "--server",
        "everything",
        "--env-slot",
        `EVERYTHING_API_KEY=${SLOT}`,
        "--",
        process.execPath,
        EVERYTHING,
        "stdio",
        "--evil",
      ],
      /belongs to another command line of server "everything"/,
    ],
    [
      "a slot that was never moved",
      [
        "--server",
        "everything",
        "--env-slot",
        "EVERYTHING_API_KEY=made-up-slot",
        "--",
        process.execPath,
        EVERYTHING,
        "stdio",
      ],
      /no binding record/,
    ],
  ])("refused: %s", async (_n, args, why) => {
    const sb = await moved();
    const r = await start(sb, args);
    expect(r.started).toBe(false);
    expect(r.output).toMatch(why);
    expect(r.output + r.stderr).not.toContain(SECRET);
  });

  it("a binding record others can write or read is not used", async () => {
    const sb = await moved();
    const binding = join(sb.home, ".config/downscope/mcp-secrets", `${SLOT}.json`);
    const data = JSON.parse(readFileSync(binding, "utf8")) as { server: string };
    data.server = "thief";
    writeFileSync(binding, JSON.stringify(data));
    chmodSync(binding, 0o644);
    const r = await start(sb, [
      "--server",
      "thief",
      "--env-slot",
      `EVERYTHING_API_KEY=${SLOT}`,
      "--",
      process.execPath,
      EVERYTHING,
      "stdio",
    ]);
    expect(r.started).toBe(false);
    expect(r.output).toMatch(/no binding record .*0600/);
  });
});
