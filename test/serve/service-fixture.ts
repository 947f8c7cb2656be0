/**
 * A real decision service for tests: src/serve/server.ts on a loopback port
 * of its own, with the built decision thread (dist/serve-worker.cjs), the
 * service's configuration in a sandboxed HOME, and a client that POSTs a
 * payload the way Claude Code does (the request key, the session's
 * environment as headers, keep-alive).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Agent, request } from "node:http";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach } from "vitest";
import { envHeader, projectName, SESSION_ENV } from "../../src/serve/request-env.js";
import { startService, type RunningService, type ServiceOptions } from "../../src/serve/server.js";
import type { Sandbox } from "../helpers/sandbox.js";

export const WORKER = join(import.meta.dirname, "..", "..", "dist", "serve-worker.cjs");

const started: RunningService[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});

export interface TestService extends RunningService {
  key: string;
  identityKey: Buffer;
  log: string[];
}

/** A service for the test; closed after it, or (`keep`) by the caller. */
export async function testService(
  sb: Pick<Sandbox, "home">,
  opts: Partial<ServiceOptions> = {},
  keep = false,
): Promise<TestService> {
  const key = randomBytes(32).toString("base64url");
  const identityKey = randomBytes(32);
  mkdirSync(join(sb.home, ".config/downscope"), { recursive: true });
  const log: string[] = [];
  const s = await startService({
    config: { version: 1, port: 0, key },
    identityKey,
    env: { HOME: sb.home, PATH: "/usr/bin:/bin" },
    listen: { port: 0 },
    workerFile: WORKER,
    log: (line) => log.push(line),
    ...opts,
  });
  if (!keep) started.push(s);
  return { ...s, key, identityKey, log };
}

export interface Post {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

const agent = new Agent({ keepAlive: true });

/** POSTs `body` as Claude Code's http hook does; `headers` are added or, with undefined, removed. */
export function post(
  port: number,
  path: string,
  body: string,
  headers: Record<string, string | undefined>,
): Promise<Post> {
  const h: Record<string, string> = { "content-type": "application/json", host: `127.0.0.1:${port}` };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete h[k.toLowerCase()];
    else h[k.toLowerCase()] = v;
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path, headers: h, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The headers Claude Code sends for the http hook install writes: the key, and the session's variables. */
export function hookHeaders(key: string, env: Record<string, string | undefined>): Record<string, string> {
  const h: Record<string, string> = { "x-downscope-key": key };
  for (const name of SESSION_ENV) h[envHeader(name)] = env[name] ?? "";
  return h;
}

/** A PreToolUse payload as Claude Code 2.1.328 sends it (cwd, transcript under projects/<slug of the project>). */
export function claudePayload(
  sb: Sandbox,
  tool: string,
  input: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    session_id: "sess-1",
    transcript_path: join(sb.home, ".claude/projects", projectName(sb.project), "sess-1.jsonl"),
    cwd: sb.project,
    permission_mode: "default",
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: input,
    tool_use_id: "toolu_1",
    ...extra,
  });
}

/** A sandbox (as test/helpers/sandbox.ts makes) that outlives single tests: for a describe's beforeAll; remove it in afterAll. */
export function lastingSandbox(): Sandbox & { remove(): void } {
  const root = mkdtempSync(join(tmpdir(), "downscope-serve-test-"));
  const home = join(root, "home");
  const project = join(root, "project");
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  return {
    root,
    home,
    project,
    env: {
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_STATE_HOME: join(home, ".local/state"),
      XDG_CACHE_HOME: join(home, ".cache"),
      XDG_DATA_HOME: join(home, ".local/share"),
      DOWNSCOPE_MANAGED_CONFIG: join(root, "etc/downscope/config.yaml"),
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    },
    write(rel, text, mode = 0o644) {
      const p = rel.startsWith("/") ? rel : join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text, { mode });
      return p;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function writeUserPolicy(sb: Pick<Sandbox, "home">, yaml: string): void {
  mkdirSync(join(sb.home, ".config/downscope"), { recursive: true });
  writeFileSync(join(sb.home, ".config/downscope/config.yaml"), yaml);
}

export const HOOK_PATH = "/v1/hook/claude/PreToolUse";
