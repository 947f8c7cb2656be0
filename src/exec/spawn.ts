/**
 * The only place downscope-exec starts a process: file + argv, never a shell;
 * stdin and terminals inherited (TTYs, colours and prompts keep working), a
 * stdout or stderr that is not a terminal copied on through an output tap
 * when one is given (src/exec/output-tap.ts); SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT and SIGWINCH forwarded; the child's exit status or signal
 * passed on (aws-vault cli/exec.go, sandbox-runtime src/cli.ts).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Taps } from "./output-tap.js";

export const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGWINCH"] as const;

export type ChildExit = { code: number } | { signal: NodeJS.Signals };

export interface SpawnSpec {
  file: string;
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * Runs the command; resolves with its exit once it has exited and every
 * tapped stream has ended (a process it left behind holding the output keeps
 * downscope-exec until it closes it, as it keeps the reader of that output).
 */
export function runChild(spec: SpawnSpec, taps: Taps = {}): Promise<ChildExit> {
  return new Promise((resolvePromise, reject) => {
    const [argv0, ...args] = spec.argv;
    const child = spawn(spec.file, args, {
      argv0,
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["inherit", taps.stdout ? "pipe" : "inherit", taps.stderr ? "pipe" : "inherit"],
      shell: false,
    });
    const drained = Promise.all([
      taps.stdout && child.stdout ? taps.stdout.consume(child.stdout) : undefined,
      taps.stderr && child.stderr ? taps.stderr.consume(child.stderr) : undefined,
    ]);
    const handlers = FORWARDED_SIGNALS.map((sig) => {
      const h = () => {
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
    const off = () => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    child.once("error", (e) => {
      off();
      reject(e);
    });
    child.once("exit", (code, signal) => {
      off();
      const exit: ChildExit = signal !== null ? { signal } : { code: code ?? 1 };
      void drained.then(() => resolvePromise(exit));
    });
  });
}

/** 128 + signal number, the shell's convention. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Dies of the same signal as the child, so the caller sees 128+n and a
 * WIFSIGNALED status. Returns only if the signal did not kill us.
 */
export function reraise(signal: NodeJS.Signals): void {
  for (const sig of FORWARDED_SIGNALS) process.removeAllListeners(sig);
  try {
    process.kill(process.pid, signal);
  } catch {
    /* fall through to the exit code */
  }
}
