/**
 * What a command needs from the outside world, passed in so tests can run
 * commands in-process with an isolated environment.
 * stdout is a protocol channel for some commands (hook JSON, credential_process
 * JSON, MCP JSON-RPC): human text goes to stderr there.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import type { Env } from "./paths.js";
import { sleepSync } from "./sleep.js";

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
  /**
   * The controlling terminal (/dev/tty), for confirmations only a person may
   * give (src/cli/confirm.ts); undefined when the process has none. Never
   * stdin: a piped `yes` is not a person.
   */
  terminal?: () => Terminal | undefined;
}

export interface Terminal {
  /** Writes `prompt` to the terminal and returns the line typed (without the newline), or undefined at end of input. */
  ask(prompt: string): string | undefined;
  /** The same with echo off, for a secret typed or pasted by a person. */
  askSecret(prompt: string): string | undefined;
}

export type Command = (argv: string[], io: Io) => Promise<number>;

/**
 * The real process. `sync` (the hook, downscope-exec, credential-process:
 * short runs that write a little and exit) writes stdout and stderr with
 * fs.writeSync: process.stdout would set up a stream, about 2.5 ms. Long-lived
 * protocol commands (mcp-proxy) keep the streams, which never block the loop.
 */
export function processIo(opts: { sync?: boolean } = {}): Io {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: opts.sync ? (t) => writeAll(1, t) : (t) => void process.stdout.write(t),
    stderr: opts.sync ? (t) => writeAll(2, t) : (t) => void process.stderr.write(t),
    stdin: readStdin,
    stdinStream: () => process.stdin,
    terminal: openTerminal,
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

/** Writes all of `text` (or bytes) to `fd`, waiting out a full non-blocking pipe. */
export function writeAll(fd: number, text: string | Uint8Array): void {
  const buf = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      sleepSync(1);
    }
  }
}

/**
 * All of stdin, as cheaply as the kind of stdin allows (process.stdin would
 * set up a stream, which costs the hook about 3 ms, more than everything it
 * decides; fs.readFile on fd 0 starts the thread pool, about 2 ms, and a read
 * blocked there holds up process.exit):
 *  - a file is read at once;
 *  - a socket — what Claude Code gives its hooks — is read to its end with
 *    plain blocking reads. Claude Code writes the payload and closes its end
 *    before it waits for the hook, as every hook that reads to EOF (a `jq`
 *    one-liner) relies on, so the read never waits on a writer; the hook's
 *    deadline covers everything after it;
 *  - a pipe is reopened non-blocking (Linux: /proc/self/fd/0) and read while
 *    data is there, waiting on a timer otherwise, so the deadline fires even
 *    if the writer never closes it;
 *  - anything else (a terminal, no /proc) goes through process.stdin.
 */
export function readStdin(): Promise<string> {
  let kind: "file" | "socket" | "fifo" | "other" = "other";
  try {
    const st = fstatSync(0);
    kind = st.isFile() ? "file" : st.isSocket() ? "socket" : st.isFIFO() ? "fifo" : "other";
  } catch {
    // not open, or not statable: the stream reports it
  }
  if (kind === "file") return Promise.resolve(readFileSync(0, "utf8"));
  if (kind === "socket") return readUntilEnd(0);
  if (kind === "fifo") {
    let fd: number | undefined;
    try {
      fd = openSync("/proc/self/fd/0", constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      // no /proc (macOS): the stream below
    }
    if (fd !== undefined) return readUntilEnd(fd).finally(() => closeSync(fd));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

/**
 * Reads `fd` to its end: blocking reads on a blocking descriptor; on a
 * non-blocking one, what is there, then again on a timer (so the event loop,
 * and the hook's deadline, run while the writer is slow).
 */
function readUntilEnd(fd: number): Promise<string> {
  const chunks: Buffer[] = [];
  const buf = Buffer.allocUnsafe(64 * 1024);
  return new Promise((resolve, reject) => {
    const pump = () => {
      try {
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null);
          if (n === 0) return resolve(Buffer.concat(chunks).toString("utf8"));
          chunks.push(Buffer.from(buf.subarray(0, n)));
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") return void setTimeout(pump, 1);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    pump();
  });
}

/** The controlling terminal, or undefined (ENXIO: no controlling terminal; ENOENT: no /dev/tty). */
function openTerminal(): Terminal | undefined {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    return undefined;
  }
  const readLine = (): string | undefined => {
    const buf = Buffer.alloc(1);
    const bytes: number[] = [];
    for (;;) {
      const n = readSync(fd, buf, 0, 1, null);
      if (n === 0) return bytes.length > 0 ? Buffer.from(bytes).toString("utf8") : undefined;
      if (buf[0] === 0x0a) return Buffer.from(bytes).toString("utf8").replace(/\r$/, "");
      bytes.push(buf[0]!);
      if (bytes.length > 65536) return undefined;
    }
  };
  // Echo is switched with stty on the terminal itself (stdin of stty), never through the process's stdin.
  const stty = (arg: string) =>
    process.getBuiltinModule("node:child_process").spawnSync("stty", [arg], { stdio: [fd, "ignore", "ignore"] });
  return {
    ask(prompt) {
      try {
        writeAll(fd, prompt);
        return readLine();
      } finally {
        closeSync(fd);
      }
    },
    askSecret(prompt) {
      try {
        // Echo off before the prompt shows, so nothing typed after it can appear.
        if (stty("-echo").status !== 0) return undefined; // echo cannot be turned off: refuse rather than show it
        try {
          writeAll(fd, prompt);
          return readLine();
        } finally {
          stty("echo");
          writeAll(fd, "\n");
        }
      } finally {
        closeSync(fd);
      }
    },
  };
}
