/**
 * `downscope install mcp --move-secrets`, the whole loop with the real
 * @modelcontextprotocol/server-everything reading its environment (get-env):
 * the plaintext secret leaves .mcp.json for a downscope slot, the entry an MCP
 * client starts as written gives it to that server and nothing else, no
 * other file, argv or environment holds it, and uninstall puts the file back
 * byte for byte. Once with the 0600 file store, once with the keyring (a
 * stand-in `secret-tool` on PATH that keeps what it is given in a file and
 * records its argv).
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { childPids, DOWNSCOPE_BIN, requireBuild, serverEntry, text, userPolicy } from "./helpers.js";

const EVERYTHING = serverEntry("@modelcontextprotocol/server-everything");
// Built here: no token-shaped string is committed.
const SECRET = "sk-proj-" + "MovedOutOfTheConfig".repeat(2);
/**
 * What the client sees where the server printed the secret: the proxy masks
 * secrets in every tools/call result (docs/masking.md), so the marker standing
 * where the value was is what shows the server had it (a server without it
 * prints nothing there: the controls below).
 */
const DELIVERED = /^\[masked/;
const SLOT = "mcp-everything-EVERYTHING_API_KEY";

function setup(): { sb: Sandbox; file: string; original: string } {
  const sb = sandbox();
  userPolicy(sb, "version: 1\nservices:\n  everything: { server: everything, downscope_mode: none }\n");
  // `downscope` on PATH, as an npm global install puts it.
  const shim = sb.write("bin/downscope", `#!/bin/sh\nexec "${process.execPath}" "${DOWNSCOPE_BIN}" "$@"\n`);
  chmodSync(shim, 0o755);
  sb.env.PATH = `${join(sb.root, "bin")}:${sb.env.PATH}`;
  const original = `{
  "mcpServers": {
    "everything": {
      "command": "${process.execPath}",
      "args": ["${EVERYTHING}", "stdio"],
      "env": {
        "EVERYTHING_API_KEY": "${SECRET}",
        "EVERYTHING_MODE": "plain"
      }
    }
  }
}
`;
  return { sb, file: sb.write("project/.mcp.json", original), original };
}

/** Every file under `dir` whose bytes contain the secret. */
function filesHolding(dir: string, secret: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    if (readFileSync(p).includes(secret)) out.push(p);
  }
  return out;
}

/** Starts the entry as the client would, exactly as written, and reads the server's environment. */
async function envSeenByServer(sb: Sandbox, file: string, server = "everything") {
  requireBuild();
  const e = (
    JSON.parse(readFileSync(file, "utf8")) as {
      mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }>;
    }
  ).mcpServers[server]!;
  const transport = new StdioClientTransport({
    command: e.command,
    args: e.args,
    env: { ...sb.env, ...e.env },
    cwd: sb.project,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: "t", version: "1" });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: "get-env", arguments: {} });
    const pid = transport.pid!;
    const procs = [pid, ...childPids(pid)];
    const proc = procs.map((p) => ({
      environ: readFileSync(`/proc/${p}/environ`, "utf8"),
      cmdline: readFileSync(`/proc/${p}/cmdline`, "utf8"),
    }));
    return {
      result: r,
      env: r.isError ? undefined : (JSON.parse(text(r)) as Record<string, string>),
      proxy: proc[0]!,
      children: proc.slice(1),
      stderr,
    };
  } finally {
    await client.close();
  }
}

describe("install mcp --move-secrets", () => {
  it("moves the secret into a 0600 slot, the server still gets it, and uninstall restores the file byte for byte", async () => {
    const { sb, file, original } = setup();
    const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code, r.stderr).toBe(0);
    // What the person confirmed: a diff with a fingerprint in place of the value.
    expect(r.prompts[0]).toMatch(/-\s+"EVERYTHING_API_KEY": "\[secret sha256:[0-9a-f]{12}\]",/);
    expect(r.prompts[0]).toContain(`--env-slot`);
    expect(r.prompts[0] + r.stderr + r.stdout).not.toContain(SECRET);

    const written = JSON.parse(readFileSync(file, "utf8")) as {
      mcpServers: { everything: { command: string; args: string[]; env: Record<string, string> } };
    };
    expect(written.mcpServers.everything).toEqual({
      command: "downscope",
      args: [
        "mcp-proxy",
        "--server",
        "everything",
        "--env-slot",
        `EVERYTHING_API_KEY=${SLOT}`,
        "--",
        process.execPath,
        EVERYTHING,
        "stdio",
      ],
      env: { EVERYTHING_MODE: "plain" },
    });
    // The only file holding the secret is the slot: 0600 in a 0700 directory.
    const slot = join(sb.home, ".config/downscope/slots", SLOT);
    expect(filesHolding(sb.root, SECRET)).toEqual([slot]);
    expect(statSync(slot).mode & 0o777).toBe(0o600);
    expect(statSync(join(sb.home, ".config/downscope/slots")).mode & 0o777).toBe(0o700);
    expect(statSync(join(sb.home, ".config/downscope/mcp-secrets", `${SLOT}.json`)).mode & 0o777).toBe(0o600);

    // The client starts the entry as written: the server reads its variable; nothing else holds it.
    const seen = await envSeenByServer(sb, file);
    expect(seen.env?.EVERYTHING_API_KEY).toMatch(DELIVERED);
    expect(seen.env?.EVERYTHING_MODE).toBe("plain");
    expect(seen.proxy.environ).not.toContain(SECRET);
    expect(seen.proxy.cmdline).not.toContain(SECRET);
    for (const c of seen.children) expect(c.cmdline).not.toContain(SECRET);
    expect(seen.stderr).not.toContain(SECRET);

    const u = await runCli(["uninstall", "mcp", "--server", "everything"], { env: sb.env, cwd: sb.project });
    expect(u.code, u.stderr).toBe(0);
    expect(u.prompts[0]).toContain(`[the secret kept in slot ${SLOT}]`);
    expect(u.prompts[0] + u.stderr).not.toContain(SECRET);
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(existsSync(slot)).toBe(false);
    expect(existsSync(join(sb.home, ".config/downscope/mcp-secrets", `${SLOT}.json`))).toBe(false);
    expect(filesHolding(sb.root, SECRET)).toEqual([file]);
  });

  it("uses the system keyring when there is one: the secret goes in on stdin, never in argv", async () => {
    const { sb, file, original } = setup();
    // A stand-in secret-tool: store reads stdin, lookup prints, clear forgets; every argv is logged.
    const store = join(sb.root, "keyring");
    const tool = sb.write(
      "bin/secret-tool",
      `#!/bin/sh
echo "$@" >> "${store}.argv"
case "$1" in
  store) umask 077; cat > "${store}"; exit 0 ;;
  lookup) [ -f "${store}" ] && cat "${store}" ;;
  clear) rm -f "${store}" ;;
esac
`,
    );
    chmodSync(tool, 0o755);
    const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`EVERYTHING_API_KEY → the keyring (service downscope, account ${SLOT})`);
    expect(filesHolding(sb.root, SECRET)).toEqual([store]);
    expect(readFileSync(`${store}.argv`, "utf8")).not.toContain(SECRET);
    const seen = await envSeenByServer(sb, file);
    // A keyring slot is known to nothing but the proxy that injected it, and still masked (it was not, before).
    expect(seen.env?.EVERYTHING_API_KEY).toMatch(DELIVERED);
    // The server's own environ holds it (it was given it); the tool result, the proxy and argv do not.
    expect(JSON.stringify(seen.env)).not.toContain(SECRET);
    expect(seen.proxy.environ).not.toContain(SECRET);
    expect(seen.proxy.cmdline).not.toContain(SECRET);
    for (const c of seen.children) expect(c.cmdline).not.toContain(SECRET);
    expect(seen.stderr).not.toContain(SECRET);
    expect((await runCli(["uninstall", "mcp", "--server", "everything"], { env: sb.env, cwd: sb.project })).code).toBe(
      0,
    );
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(existsSync(store)).toBe(false);
    expect(readFileSync(`${store}.argv`, "utf8")).toMatch(
      /^store .*\nlookup .*\n(lookup .*\n)*clear service downscope account /,
    );
  });

  it("a changed command line gets the secret only after a person gives it to the new one", async () => {
    const { sb, file } = setup();
    expect(
      (await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], { env: sb.env, cwd: sb.project }))
        .code,
    ).toBe(0);
    // A new version of the server, say: the command line in the config changes.
    writeFileSync(file, readFileSync(file, "utf8").replace('"stdio"', '"stdio",\n        "--changed"'));
    await expect(envSeenByServer(sb, file)).rejects.toThrow(/belongs to another command line of server "everything"/);
    const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.prompts[0]).toMatch(
      /# EVERYTHING_API_KEY \(slot mcp-everything-EVERYTHING_API_KEY\) was given to `.* stdio`; it will be given to `.* stdio --changed`/,
    );
    expect((await envSeenByServer(sb, file)).env?.EVERYTHING_API_KEY).toMatch(DELIVERED);
  });

  it("--dry-run shows the change without the secret and changes nothing", async () => {
    const { sb, file, original } = setup();
    const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets", "--dry-run"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /# EVERYTHING_API_KEY \(sha256:[0-9a-f]{12}\) moves to downscope slot mcp-everything-EVERYTHING_API_KEY/,
    );
    expect(r.stdout).not.toContain(SECRET);
    expect(readFileSync(file, "utf8")).toBe(original);
    expect(existsSync(join(sb.home, ".config/downscope/slots"))).toBe(false);
  });

  it.each<[string, string, RegExp]>([
    [
      "nothing to move",
      '{"mcpServers":{"everything":{"command":"node","args":["s.js"],"env":{"MODE":"x"}}}}',
      /no plaintext secret in its env; nothing to move/,
    ],
    [
      "a remote server",
      '{"mcpServers":{"everything":{"type":"http","url":"https://x.invalid","headers":{}}}}',
      /is not a stdio server/,
    ],
    [
      "a multi-line value",
      '{"mcpServers":{"everything":{"command":"node","env":{"API_KEY":"abcdefgh\\nijklmnop"}}}}',
      /API_KEY has line breaks or surrounding spaces/,
    ],
  ])("%s", async (_n, content, message) => {
    const sb = sandbox();
    const file = sb.write("project/.mcp.json", content);
    const r = await runCli(["install", "mcp", "--server", "everything", "--move-secrets"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.stderr).toMatch(message);
    expect(readFileSync(file, "utf8")).toBe(content);
  });
});
