/**
 * What a command needs from the outside world, passed in so tests can run
 * commands in-process with an isolated environment.
 * stdout is a protocol channel for some commands (hook JSON, credential_process
 * JSON, MCP JSON-RPC): human text goes to stderr there.
 */
import { readFile } from "node:fs";
import type { Env } from "../paths.js";

export interface Io {
  env: Env;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of stdin (hook payloads). */
  stdin: () => Promise<string>;
  /** stdin as a stream, for long-running protocol commands (mcp-proxy). */
  stdinStream?: () => NodeJS.ReadableStream;
  /**
   * Calls `handler` once on SIGTERM, SIGINT or SIGHUP, or (as SIGPIPE) when the
   * reader of stdout has gone: long-running commands clean up their children.
   */
  onTerminate?: (handler: (signal: NodeJS.Signals) => void) => void;
}

export type Command = (argv: string[], io: Io) => Promise<number>;

export function processIo(): Io {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    // fs.readFile on fd 0 rather than process.stdin: setting up the stdin
    // stream costs the hook more than everything it decides. It stays
    // asynchronous (libuv's thread pool), so the hook's deadline still fires.
    stdin: () =>
      new Promise((resolve, reject) => readFile(0, "utf8", (err, text) => (err ? reject(err) : resolve(text)))),
    stdinStream: () => process.stdin,
    onTerminate: (handler) => {
      let fired = false;
      const fire = (s: NodeJS.Signals) => {
        if (fired) return;
        fired = true;
        handler(s);
      };
      for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(s, () => fire(s));
      // EPIPE and later write errors: the client is gone; without a listener Node would crash.
      process.stdout.on("error", () => fire("SIGPIPE"));
    },
  };
}
