import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writePins } from "../../src/exec/pins.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

export const EXEC_BIN = join(import.meta.dirname, "../../bin/downscope-exec.js");
export const DOWNSCOPE_BIN = join(import.meta.dirname, "../../bin/downscope.js");

export interface ExecSandbox extends Sandbox {
  bin: string;
  runtime: string;
  /** Writes the user config (trusted). */
  userConfig(yaml: string): string;
  /** A fake CLI that records its argv and environment to <bin>/<name>.rec.{argv,env}, then runs `tail`. */
  fake(name: string, tail?: string): string;
  pin(pins: Record<string, string>): void;
}

export function execSandbox(base?: string): ExecSandbox {
  const sb = sandbox(base);
  const bin = join(sb.root, "fakebin");
  const runtime = join(sb.root, "run");
  mkdirSync(bin, { recursive: true });
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  sb.env.XDG_RUNTIME_DIR = runtime;
  sb.env.PATH = `${bin}:/usr/bin:/bin`;
  return {
    ...sb,
    bin,
    runtime,
    userConfig: (yaml) => sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), yaml),
    fake(name, tail = "") {
      const p = join(bin, name);
      writeFileSync(
        p,
        `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > '${p}.rec.argv'\nenv > '${p}.rec.env'\n${tail}\n`,
        { mode: 0o755 },
      );
      return p;
    },
    pin: (pins) => writePins(sb.env, new Map(Object.entries(pins))),
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with an explicit environment (never the developer's). */
export function run(
  file: string,
  args: string[],
  opts: { env: Record<string, string>; cwd: string; onSpawn?: (pid: number) => void },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export const runExec = (
  args: string[],
  opts: { env: Record<string, string>; cwd: string; onSpawn?: (pid: number) => void },
) => run(process.execPath, [EXEC_BIN, ...args], opts);

/** Parses `env` output (one VAR=value a line). */
export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function waitFor<T>(probe: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
