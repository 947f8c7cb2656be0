/**
 * The decision service's HTTP side (`downscope serve`): Claude Code's http
 * hooks POST their payload here (https://docs.claude.com/en/docs/claude-code/hooks,
 * "HTTP hooks": the hook input as the JSON body; the answer is the body a
 * command hook would print, an empty body for no opinion).
 *
 * Every request, before any decision (docs/adr/ADR-021-serve-authentication.md):
 *  - the connection comes from this user (Linux: the kernel's socket table,
 *    src/serve/peer.ts) — loopback is shared by every user of the machine;
 *  - POST to a known path, `Host` naming the loopback address and this port
 *    (a page that rebinds a domain to 127.0.0.1 sends its own name), a JSON
 *    content type (a cross-site form cannot send one without a preflight,
 *    which is never answered);
 *  - the request key (X-Downscope-Key) for hook calls. It keeps other users
 *    and web pages from getting decisions — and review approvals, which a
 *    decision creates — but not the agent, which runs as the user and can
 *    read Claude Code's settings (docs/security-model.md);
 *  - a body of at most 4 MiB (a model's tool call is far smaller); a bigger
 *    one is denied, not guessed at.
 * Then the call goes to the decision thread (src/serve/decision-thread.ts)
 * with the session's environment (src/serve/request-env.ts) and project.
 *
 * Fail closed: any error answers the agent's deny, or an HTTP error status,
 * which the hook entry's `onFailure: "block"` turns into a block. stdout is
 * never written: the log is a file in the state directory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { isAbsolute } from "node:path";
import { deadlineFromEnv } from "../hook/deadline.js";
import type { HookProtocol } from "../hook/protocol.js";
import type { Env } from "../paths.js";
import { BUILD } from "./build.js";
import { KEY_HEADER, type ServeConfig } from "./config.js";
import { DecisionThread } from "./decision-thread.js";
import { CHALLENGE, proof } from "./identity.js";
import { peerUid, type Ends } from "./peer.js";
import { CWD_HEADER, HOOK_PROCESS_ENV, projectOf, requestEnv, RequestError, SESSION_ENV } from "./request-env.js";
import { HOOK_ROUTES, protocolOf, ROUTE_PREFIX, type HookRoute } from "./routes.js";

export const MAX_BODY = 4 * 1024 * 1024;

export interface ServiceOptions {
  config: ServeConfig;
  identityKey: Buffer;
  /** The service's own environment (no credential): the base every request's environment is built on. */
  env: Env;
  /** An inherited listening socket (the keeper's fd 3), or the port to bind on 127.0.0.1. */
  listen: { fd: number } | { port: number };
  /** The decision thread's bundle (dist/serve-worker.cjs). */
  workerFile: string;
  log: (line: string) => void;
  /** How long the decision thread may sit idle before it is ended (default 60 s). */
  idleMs?: number;
  /** Who is at the other end of a connection (tests); default: the kernel's socket table. */
  peerUid?: (ends: Ends) => number | "unsupported" | undefined;
}

export interface RunningService {
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const thread = new DecisionThread(opts.workerFile, opts.log, opts.idleMs);
  const myUid = process.getuid?.();
  const whoIs = opts.peerUid ?? ((ends: Ends) => peerUid(ends));
  const protocols = new Map<string, HookProtocol>();
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      opts.log(`downscope serve: internal error: ${e instanceof Error ? e.message : String(e)}`);
      reply(res, 500, "downscope serve: internal error; the call is blocked (see the service log)\n");
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.on("connection", (socket: Socket) => {
    if (myUid === undefined) return;
    const uid = whoIs({
      localAddress: socket.localAddress ?? "",
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? "",
      remotePort: socket.remotePort ?? 0,
    });
    if (uid === "unsupported" || uid === myUid) return;
    opts.log(`downscope serve: refused a connection from ${uid === undefined ? "an unknown user" : `uid ${uid}`}`);
    socket.destroy();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "";
    const port = (server.address() as AddressInfo).port;
    if (req.method !== "POST") return reply(res, 405, "downscope serve: POST only\n", { allow: "POST" });
    const host = req.headers.host;
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
      return reply(res, 421, "downscope serve: wrong Host header\n");
    if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? ""))
      return reply(res, 415, "downscope serve: the body must be application/json\n");
    if (path === "/v1/identity") return identity(req, res);
    const name = path.startsWith(ROUTE_PREFIX) ? path.slice(ROUTE_PREFIX.length) : "";
    const route = Object.hasOwn(HOOK_ROUTES, name) ? HOOK_ROUTES[name] : undefined;
    if (route === undefined) return reply(res, 404, `downscope serve: nothing at ${JSON.stringify(path)}\n`);
    if (!keyMatches(req.headersDistinct[KEY_HEADER], opts.config.key)) {
      opts.log(`downscope serve: refused a call to ${name} without the request key`);
      return reply(
        res,
        401,
        "downscope serve: this request does not carry the request key, so it is refused. The user must run `downscope install claude --serve` again.\n",
      );
    }
    const protocol = await protocolFor(route);
    const text = await body(req, MAX_BODY);
    if (text === undefined) {
      res.setHeader("connection", "close");
      return answer(
        res,
        protocol.deny(
          `downscope: the tool call is larger than ${MAX_BODY} bytes, so it cannot be checked and is blocked`,
        ),
      );
    }
    let env: Env;
    try {
      env = requestEnv(opts.env, req.headersDistinct, route.session === "claude-http" ? SESSION_ENV : HOOK_PROCESS_ENV);
    } catch (e) {
      return answer(res, protocol.deny(`downscope: ${e instanceof RequestError ? e.message : String(e)}`));
    }
    const call = { route: name, text, deadlineMs: deadlineFromEnv(env), protocol };
    if (route.session === "hook-process") {
      // What `downscope hook --agent …` would have read: the hook process's environment and working directory.
      const cwd = req.headersDistinct[CWD_HEADER.toLowerCase()];
      if (cwd?.length !== 1 || !isAbsolute(cwd[0]!))
        return answer(
          res,
          protocol.deny(`downscope: the hook client sent no absolute ${CWD_HEADER}, so the call is blocked`),
        );
      return answer(res, await decide(call, env, cwd[0]!));
    }
    const payload = peek(text);
    if (route.event !== undefined && payload.event !== undefined && payload.event !== route.event)
      return answer(
        res,
        protocol.deny(
          `downscope: this hook entry answers ${route.event}, not ${payload.event}; fix the hook entry in the agent's settings`,
        ),
      );
    if (payload.cwd === undefined)
      return answer(
        res,
        protocol.deny(
          "downscope: the hook input names no absolute cwd, so the project is unknown and the call is blocked",
        ),
      );
    const project = projectOf(payload.cwd, payload.transcript, env.HOME);
    answer(res, await decide(call, { ...env, CLAUDE_PROJECT_DIR: project }, project));
  }

  function decide(
    call: { route: string; text: string; deadlineMs: number; protocol: HookProtocol },
    env: Env,
    cwd: string,
  ) {
    return thread.decide({
      request: { route: call.route, text: call.text, env, cwd },
      deadlineMs: call.deadlineMs,
      deadlineFixed: env.DOWNSCOPE_HOOK_DEADLINE_MS !== undefined,
      deny: (reason) => call.protocol.deny(reason),
      agent: call.protocol.agent,
    });
  }

  async function protocolFor(route: HookRoute): Promise<HookProtocol> {
    let p = protocols.get(route.agent);
    if (p === undefined) protocols.set(route.agent, (p = await protocolOf(route.agent)));
    return p;
  }

  async function identity(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await body(req, 1024);
    let challenge: unknown;
    try {
      challenge = (JSON.parse(text ?? "") as { challenge?: unknown }).challenge;
    } catch {
      challenge = undefined;
    }
    if (typeof challenge !== "string" || !CHALLENGE.test(challenge))
      return reply(res, 400, 'downscope serve: expected {"challenge": …}\n');
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ proof: proof(opts.identityKey, challenge), pid: process.pid, build: BUILD }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("fd" in opts.listen) server.listen({ fd: opts.listen.fd }, resolve);
    else server.listen({ port: opts.listen.port, host: "127.0.0.1", exclusive: true }, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  opts.log(`downscope serve: pid ${process.pid}, ${BUILD}, listening on 127.0.0.1:${port}`);
  return {
    port,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await thread.close();
    },
  };
}

/** Exactly one X-Downscope-Key, equal to the key (compared in constant time). */
function keyMatches(got: string[] | undefined, want: string): boolean {
  if (got?.length !== 1) return false;
  const a = Buffer.from(got[0]!);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the HTTP side reads of a payload: the event, cwd and transcript (the decision thread parses it in full). */
function peek(text: string): { event?: string; cwd?: string; transcript?: string } {
  try {
    const p = JSON.parse(text) as Record<string, unknown>;
    if (typeof p !== "object" || p === null) return {};
    return {
      ...(typeof p.hook_event_name === "string" ? { event: p.hook_event_name } : {}),
      ...(typeof p.cwd === "string" && isAbsolute(p.cwd) ? { cwd: p.cwd } : {}),
      ...(typeof p.transcript_path === "string" ? { transcript: p.transcript_path } : {}),
    };
  } catch {
    // Not JSON: the decision thread's parser answers the agent's deny ("the hook input is not JSON").
    return { cwd: "/" };
  }
}

/** The body as text, or undefined when it is longer than `max` bytes (the rest is not read). */
function body(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= max) return void chunks.push(c);
      // Too big: the rest is read and dropped, and the answer closes the connection.
      req.off("data", onData);
      req.resume();
      resolve(undefined);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answer(res: ServerResponse, a: { stdout?: string; code: number }): void {
  if (res.destroyed) return;
  res.writeHead(200, { "content-type": "application/json", "x-downscope-exit": String(a.code) });
  res.end(a.stdout ?? "");
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
  res.end(text);
}
