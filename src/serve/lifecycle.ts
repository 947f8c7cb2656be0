/**
 * Starting, finding and stopping the decision service (docs/adr/ADR-022-serve-never-stuck.md).
 *
 * The running service is two processes in their own process group: a POSIX
 * sh keeper (bin/serve-keeper.sh) that holds the listening socket as fd 3
 * and restarts the service whenever it exits, and the service itself
 * (`downscope serve --fd 3`, src/serve/server.ts). Killing the service
 * therefore refuses no call: connections wait in the kernel's backlog until
 * the keeper's next service accepts them.
 *
 * ensureService is what the SessionStart hook runs (and the ensure hook,
 * bin/serve-ensure.sh, when the keeper is gone). It is idempotent and safe
 * when several sessions start at once: the port is the lock. Whoever binds
 * it starts the keeper; everyone else waits until the service on the port
 * proves, with the identity key, that it is downscope's (src/serve/identity.ts).
 * A port held by anything else is reported, never used.
 *
 * The keeper and the service get an environment with no credential in it:
 * only the variables that locate files and the language (serviceEnv).
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";
import type { Env } from "../paths.js";
import {
  readIdentityKey,
  readServeConfig,
  serveLogPath,
  servePidPath,
  serveStateDir,
  type ServeConfig,
} from "./config.js";
import { newChallenge, verifyProof } from "./identity.js";
import { BUILD } from "./build.js";
import { serviceEnv } from "./service-env.js";

export type ServiceState =
  | { state: "not-installed" }
  | { state: "ours"; pid: number; build: string; port: number }
  | { state: "foreign"; port: number; detail: string }
  | { state: "down"; port: number; detail: string };

/** What is on the service's port: downscope's service (proved), something else, or nothing. */
export function probe(config: ServeConfig, identityKey: Buffer, timeoutMs = 1000): Promise<ServiceState> {
  const port = config.port;
  const challenge = newChallenge();
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v1/identity",
        headers: { "content-type": "application/json", host: `127.0.0.1:${port}` },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c.length + text.length < 4096 ? c : ""));
        res.on("end", () => {
          try {
            const a = JSON.parse(text) as { proof?: unknown; pid?: unknown; build?: unknown };
            if (res.statusCode === 200 && verifyProof(identityKey, challenge, a.proof) && typeof a.pid === "number")
              return resolve({ state: "ours", pid: a.pid, build: String(a.build), port });
          } catch {
            // not our answer
          }
          resolve({ state: "foreign", port, detail: `an answer that is not downscope's (HTTP ${res.statusCode})` });
        });
      },
    );
    req.on("timeout", () => {
      req.destroy();
      resolve({ state: "down", port, detail: "no answer within the time allowed" });
    });
    req.on("error", (e: NodeJS.ErrnoException) =>
      resolve({ state: "down", port, detail: e.code === "ECONNREFUSED" ? "nothing listens" : e.message }),
    );
    req.end(JSON.stringify({ challenge }));
  });
}

export async function serviceState(env: Env): Promise<ServiceState> {
  const config = readServeConfig(env);
  const key = readIdentityKey(env);
  if (config === undefined || key === undefined) return { state: "not-installed" };
  return probe(config, key);
}

/**
 * Makes sure downscope's service runs on the configured port, of the
 * installed build; starts it if nothing listens. `waitMs`: how long to wait
 * for a service that is starting (here or in a concurrent session).
 */
export async function ensureService(env: Env, waitMs = 5000): Promise<ServiceState> {
  const config = readServeConfig(env);
  const key = readIdentityKey(env);
  if (config === undefined || key === undefined) return { state: "not-installed" };
  let s = await probe(config, key);
  if (s.state === "ours" && s.build !== BUILD) {
    await stopService(env);
    s = await probe(config, key);
  }
  if (s.state === "ours" || s.state === "foreign") return s;
  const until = Date.now() + waitMs;
  await startKeeper(env, config);
  for (;;) {
    s = await probe(config, key, 500);
    if (s.state === "ours") return s;
    if (s.state === "foreign" || Date.now() > until) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Binds the port (the lock) and hands it to a new keeper. Returns false when
 * the port is taken: another session is starting the service, or something
 * else holds it (the caller's probe tells which).
 */
async function startKeeper(env: Env, config: ServeConfig): Promise<boolean> {
  const server: Server = createServer();
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? resolve(false) : reject(e)));
    server.listen({ port: config.port, host: "127.0.0.1", exclusive: true, backlog: 511 }, () => resolve(true));
  });
  if (!bound) return false;
  try {
    const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== "number" || fd < 0) throw new Error("cannot hand the listening socket to the keeper");
    mkdirSync(serveStateDir(env), { recursive: true, mode: 0o700 });
    const log = openSync(serveLogPath(env), "a", 0o600);
    try {
      const root = packageRoot();
      const child = spawn(
        "/bin/sh",
        [join(root, "bin", "serve-keeper.sh"), process.execPath, join(root, "bin", "downscope.js")],
        { detached: true, stdio: ["ignore", log, log, fd], env: serviceEnv(env), cwd: "/" },
      );
      if (child.pid === undefined) throw new Error("the keeper did not start");
      writePidFile(env, child.pid);
      child.unref();
    } finally {
      closeSync(log);
    }
  } finally {
    // The keeper holds its own copy of the socket; this process's copy goes.
    server.close();
  }
  return true;
}

/** `<pid> <start time>`: what the ensure hook (sh) compares with /proc/<pid>/stat, so a reused pid is not taken for the keeper. */
function writePidFile(env: Env, pid: number): void {
  const path = servePidPath(env);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${pid} ${startTime(pid) ?? "-"}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Fields 3 (state) and 22 (start time, clock ticks since boot) of /proc/<pid>/stat; undefined where there is no /proc or no such process. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: f[0] ?? "", start: f[19] ?? "" };
  } catch {
    return undefined;
  }
}

export const startTime = (pid: number): string | undefined => procStat(pid)?.start;

/** The keeper's pid from the pid file, if that process is still the keeper it names. */
export function keeperPid(env: Env): number | undefined {
  let text: string;
  try {
    text = readFileSync(servePidPath(env), "utf8");
  } catch {
    return undefined;
  }
  const [pid, start] = text.trim().split(" ");
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 1) return undefined;
  const now = procStat(n);
  if (now === undefined ? !alive(n) : now.start !== start || !alive(n)) return undefined;
  return n;
}

/** A live process (a zombie nobody reaped is not: an init that does not reap leaves them, as in some containers). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const s = procStat(pid);
  return s === undefined ? !existsSync("/proc/self/stat") : s.state !== "Z" && s.state !== "X";
}

/** Stops the keeper and the service (their process group), and waits until the port is free. */
export async function stopService(env: Env): Promise<boolean> {
  const pid = keeperPid(env);
  rmSync(servePidPath(env), { force: true });
  if (pid === undefined) return false;
  const group = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // gone
    }
  };
  group("SIGTERM");
  const config = readServeConfig(env);
  const key = readIdentityKey(env);
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid)) group("SIGKILL");
  // The service's own exit closes the last copy of the socket.
  for (let i = 0; config && key && i < 100; i++) {
    if ((await probe(config, key, 200)).state === "down") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
