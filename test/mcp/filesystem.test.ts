/**
 * Path rules in front of the real @modelcontextprotocol/server-filesystem.
 * The server itself is allowed the whole sandbox, so anything it is sent it
 * would serve: a call that comes back with downscope's text AND is absent
 * from the server's recorded stdin was stopped by the proxy.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { connect, FIXTURES, serverEntry, text, userPolicy, type Connected } from "./helpers.js";

const FILESYSTEM = serverEntry("@modelcontextprotocol/server-filesystem");

const POLICY = `
version: 1
services:
  files:
    server: filesystem
    downscope_mode: none
    rules:
      - name: ssh keys are off limits
        match: { denied_paths: ["~/.ssh"] }
        action: deny
      - name: only the project's src
        match: { allowed_paths: ["./src"] }
        action: deny
        reason: the agent may only touch ./src
`;

const open: Connected[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.client.close().catch(() => undefined);
});

function setup(): { sb: Sandbox; log: string } {
  const sb = sandbox();
  sb.write("project/src/hello.txt", "hello from src\n");
  sb.write("home/.ssh/id_rsa", "fake-private-key-material\n", 0o600);
  sb.write("outside/secret.txt", "fake-outside-secret\n");
  symlinkSync(join(sb.root, "outside/secret.txt"), join(sb.project, "src/link.txt"));
  mkdirSync(join(sb.project, "src/sub"));
  userPolicy(sb, POLICY);
  return { sb, log: join(sb.root, "upstream-stdin.log") };
}

async function start(sb: Sandbox, log: string) {
  const c = await connect(sb, {
    server: "filesystem",
    upstream: [join(FIXTURES, "record-stdin.mjs"), log, "--", process.execPath, FILESYSTEM, sb.root],
  });
  open.push(c);
  return c;
}

describe("mcp-proxy with server-filesystem", () => {
  /*
   * Bypass: the filesystem server allows whatever directory it was started
   * with; an agent reads ~/.ssh/id_rsa, climbs out with ../.., or follows a
   * symlink planted under an allowed directory.
   * Fix: path arguments (path, paths[], source, destination) are expanded,
   * normalised and symlink-resolved, then checked against allowed_paths and
   * denied_paths before the call is forwarded.
   * Proves: allowed reads pass; each escape gets downscope's denial and never
   * reaches the server (its recorded stdin does not contain it); writes and
   * moves outside ./src have no effect.
   */
  it("allows reads under ./src and stops every escape before the server sees it", async () => {
    const { sb, log } = setup();
    const c = await start(sb, log);

    const ok = await c.client.callTool({
      name: "read_text_file",
      arguments: { path: join(sb.project, "src/hello.txt") },
    });
    expect(ok.isError).toBeFalsy();
    expect(text(ok)).toContain("hello from src");
    const rel = await c.client.callTool({
      name: "list_directory",
      arguments: { path: join(sb.project, "src/sub/..") },
    });
    expect(rel.isError).toBeFalsy();

    const escapes: [string, Record<string, unknown>, string][] = [
      ["read_text_file", { path: "~/.ssh/id_rsa" }, "ssh keys are off limits"],
      ["read_text_file", { path: join(sb.home, ".ssh/id_rsa") }, "ssh keys are off limits"],
      ["read_text_file", { path: "../../etc/passwd" }, "only the project's src"],
      ["read_text_file", { path: "src/../../outside/secret.txt" }, "only the project's src"],
      ["read_text_file", { path: join(sb.project, "src/link.txt") }, "only the project's src"],
      ["read_multiple_files", { paths: [join(sb.project, "src/hello.txt"), "~/.ssh/id_rsa"] }, "ssh keys"],
      ["write_file", { path: "~/.ssh/authorized_keys", content: "fake-key" }, "ssh keys are off limits"],
      [
        "move_file",
        { source: join(sb.project, "src/hello.txt"), destination: join(sb.root, "outside/moved.txt") },
        "only the project's src",
      ],
    ];
    for (const [tool, args, rule] of escapes) {
      const r = await c.client.callTool({ name: tool, arguments: args });
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(r)).toContain(`downscope: denied by rule "${rule}`);
      expect(text(r)).not.toContain("fake-private-key-material");
      expect(text(r)).not.toContain("fake-outside-secret");
    }

    const received = readFileSync(log, "utf8");
    expect(received).toContain("hello.txt"); // the recorder works
    for (const never of ["id_rsa", "etc/passwd", "outside", "link.txt", "authorized_keys", "moved.txt"])
      expect(received).not.toContain(never);
    expect(existsSync(join(sb.home, ".ssh/authorized_keys"))).toBe(false);
    expect(existsSync(join(sb.root, "outside/moved.txt"))).toBe(false);
    expect(existsSync(join(sb.project, "src/hello.txt"))).toBe(true);
  });

  it("without the proxy the same server would have served the key (the test above can fail)", async () => {
    const { sb } = setup();
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    const client = new Client({ name: "direct", version: "1" });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [FILESYSTEM, sb.root], env: sb.env, stderr: "pipe" }),
    );
    try {
      const r = await client.callTool({ name: "read_text_file", arguments: { path: join(sb.home, ".ssh/id_rsa") } });
      expect(text(r)).toContain("fake-private-key-material");
    } finally {
      await client.close();
    }
  });
});
