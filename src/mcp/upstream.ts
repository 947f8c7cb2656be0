/**
 * One running copy of the upstream MCP server: the only place in mcp/ that
 * spawns. It is started with a file and an argv (no shell) and an environment
 * built by upstream-env.ts; its stderr goes to ours (diagnostics), its stdout
 * is read as JSON-RPC lines.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Env } from "../paths.js";
import { LineReader } from "./framing.js";

export interface UpstreamSpec {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Env;
}

export interface UpstreamEvents {
  line: (text: string) => void;
  oversized: (head: string, bytes: number) => void;
  /** The process is gone (exit, signal, or failed to start). Called once. */
  exit: (why: string) => void;
}

export class Upstream {
  private readonly child: ChildProcess;
  private gone = false;
  readonly pid: number | undefined;

  constructor(spec: UpstreamSpec, events: UpstreamEvents, maxBytes: number) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec.env)) if (v !== undefined) env[k] = v;
    this.child = spawn(spec.file, [...spec.args], {
      cwd: spec.cwd,
      env,
      stdio: ["pipe", "pipe", "inherit"],
      shell: false,
    });
    this.pid = this.child.pid;
    const reader = new LineReader({ line: events.line, oversized: events.oversized }, maxBytes);
    const finish = (why: string) => {
      if (this.gone) return;
      this.gone = true;
      events.exit(why);
    };
    this.child.stdout!.on("data", (c: Buffer) => reader.push(c));
    this.child.stdout!.on("end", () => reader.end());
    // EPIPE when the child died between our check and the write: the exit event reports it.
    this.child.stdin!.on("error", () => undefined);
    this.child.on("error", (e: NodeJS.ErrnoException) =>
      finish(`could not start ${spec.file}: ${e.code ?? e.message}`),
    );
    this.child.on("exit", (code, signal) =>
      finish(signal ? `exited on signal ${signal}` : `exited with status ${code ?? "?"}`),
    );
  }

  get alive(): boolean {
    return !this.gone;
  }

  send(text: string): void {
    if (this.gone || !this.child.stdin!.writable) return;
    this.child.stdin!.write(text);
  }

  /** Close stdin, then SIGTERM, then SIGKILL; resolves when the process is gone. */
  async stop(termAfterMs = 1000, killAfterMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin!.end();
    const term = setTimeout(() => this.child.kill("SIGTERM"), termAfterMs);
    const kill = setTimeout(() => this.child.kill("SIGKILL"), killAfterMs);
    await exited;
    clearTimeout(term);
    clearTimeout(kill);
  }

  /** Kill now (used when the instance misbehaved). */
  kill(): void {
    if (!this.gone) this.child.kill("SIGKILL");
  }
}
