/**
 * Runs a command as a person at a terminal would: a pseudo-terminal is its
 * controlling terminal (/dev/tty), and `answer` is typed when `prompt`
 * appears there. stdin, stdout and stderr stay pipes, read apart.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface TtyRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** What the command wrote to the terminal. */
  terminal: string;
}

export function runWithTty(
  file: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; answer?: string; prompt?: string },
): TtyRun {
  const helper = join(import.meta.dirname, "with-tty.py");
  const r = spawnSync("python3", [helper, opts.prompt ?? 'type "yes"', opts.answer ?? "yes", "--", file, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    timeout: 90_000,
  });
  const out = r.output;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, terminal: out[3] ?? "" };
}
