/**
 * Drives `downscope mcp-proxy` as a real process: with the official SDK
 * Client over stdio (real servers from npm), or with raw lines (to send what
 * no SDK would).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js";
import type { Sandbox } from "../helpers/sandbox.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DOWNSCOPE_BIN = join(ROOT, "bin/downscope.js");
export const FIXTURES = join(ROOT, "test/fixtures/mcp");
const require = createRequire(import.meta.url);

/** The entry script of an npm MCP server from devDependencies; fails loudly when missing. */
export function serverEntry(
  pkg: "@modelcontextprotocol/server-everything" | "@modelcontextprotocol/server-filesystem",
) {
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`${pkg} is not installed: run \`npm ci\` (it is a devDependency)`);
  }
  const pj = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: Record<string, string> };
  return join(dir, Object.values(pj.bin)[0]!);
}

export function requireBuild(): void {
  if (!existsSync(join(ROOT, "dist/downscope.js")))
    throw new Error("dist/downscope.js is missing: run `npm run build` first (npm test does)");
}

/** Writes the user-layer policy (always trusted) into the sandbox. */
export function userPolicy(sb: Sandbox, yaml: string): void {
  sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), yaml);
}

export interface Connected {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  proxyPid: number;
}

/** An SDK Client talking to `downscope mcp-proxy --server NAME -- node <upstream...>`. */
export async function connect(
  sb: Sandbox,
  opts: {
    server: string;
    upstream: string[];
    env?: Record<string, string>;
    cwd?: string;
    capabilities?: ClientCapabilities;
  },
): Promise<Connected> {
  requireBuild();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [DOWNSCOPE_BIN, "mcp-proxy", "--server", opts.server, "--", process.execPath, ...opts.upstream],
    env: { ...sb.env, ...opts.env },
    cwd: opts.cwd ?? sb.project,
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const client = new Client({ name: "downscope-test", version: "1.0.0" }, { capabilities: opts.capabilities ?? {} });
  await client.connect(transport);
  return { client, transport, stderr: () => err, proxyPid: transport.pid! };
}

/** Text of the first content item of a tool result. */
export function text(result: unknown): string {
  const r = result as { content?: { type: string; text?: string }[] };
  return r.content?.find((c) => c.type === "text")?.text ?? "";
}

/** Direct children of a process (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is reaped when its parent is gone.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Waits until `cond` holds, polling; throws after `ms` with `what`. */
export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The proxy as a raw process: send lines, read JSON lines. */
export class RawProxy {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Record<string, unknown>[] = [];
  stderr = "";
  exitCode: number | null | undefined;
  private buf = "";

  constructor(sb: Sandbox, server: string, upstream: string[], env: Record<string, string> = {}) {
    requireBuild();
    this.child = spawn(process.execPath, [DOWNSCOPE_BIN, "mcp-proxy", "--server", server, "--", ...upstream], {
      cwd: sb.project,
      env: { ...sb.env, ...env },
    });
    this.child.stdout.on("data", (c: Buffer) => {
      this.buf += c.toString();
      let i;
      while ((i = this.buf.indexOf("\n")) !== -1) {
        this.messages.push(JSON.parse(this.buf.slice(0, i)) as Record<string, unknown>);
        this.buf = this.buf.slice(i + 1);
      }
    });
    this.child.stderr.on("data", (c: Buffer) => (this.stderr += c.toString()));
    this.child.on("exit", (code) => (this.exitCode = code));
  }

  send(m: unknown): void {
    this.child.stdin.write((typeof m === "string" ? m : JSON.stringify(m)) + "\n");
  }

  async response(id: unknown): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(
      () => (found = this.messages.find((m) => m.id === id && !("method" in m))) !== undefined,
      `answer #${String(id)}`,
    );
    return found!;
  }

  async initialize(): Promise<void> {
    this.send({
      jsonrpc: "2.0",
      id: "init",
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    await this.response("init");
    this.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  call(id: number | string, name: string, args: Record<string, unknown> = {}): void {
    this.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
  }

  async exited(): Promise<number | null> {
    await until(() => this.exitCode !== undefined, "the proxy to exit");
    return this.exitCode!;
  }
}
