/**
 * A loopback fake of the GitHub REST API (Enterprise Server layout: /api/v3/…,
 * /api/graphql) for the github_app tests. It checks every app JWT the way
 * GitHub does: RS256 signature against the app's public key, `iss`, and the
 * iat/exp window (answering GitHub's 401 messages for a bad clock); records
 * each access-token request body; mints tokens with expires_at; answers 404
 * for an unknown installation and 422 for a permission the installation lacks;
 * revokes on DELETE /installation/token; and records which token every other
 * request carried.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { selfSignedCert } from "../helpers/tls.js";

export interface MintRecord {
  installation: number;
  body: { permissions?: Record<string, string>; repositories?: string[] };
  iss: unknown;
  token?: string;
}

export interface ApiRecord {
  method: string;
  url: string;
  authorization: string | undefined;
}

export interface FakeGithub {
  port: number;
  caFile: string;
  /** The API base URL downscope mints at. */
  apiUrl: string;
  /** The host gh talks to (127.0.0.1:port). */
  host: string;
  mints: MintRecord[];
  /** JWTs refused (bad signature, issuer, time). */
  refused: string[];
  api: ApiRecord[];
  revoked: string[];
  close(): Promise<void>;
}

export interface FakeGithubOptions {
  appId: number;
  publicKey: KeyObject;
  /** Installation id → the permissions it was granted. */
  installations: Record<number, Record<string, string>>;
  /** plain http instead of https (a loopback api_url). */
  plain?: boolean;
  /** The port to listen on (default: any free one). */
  port?: number;
  /** The fake's clock, in seconds (default: now). */
  now?: () => number;
  /** Lifetime of minted tokens in seconds (default 3600, as GitHub's). */
  lifetimeSeconds?: number;
  /** Answers for GraphQL/REST calls other than the app endpoints. */
  answer?: (req: ApiRecord, body: string) => unknown;
  /**
   * Serve git over smart HTTP (the real `git http-backend`) for
   * /<owner>/<repo>.git/… from this directory, accepting only HTTP basic
   * auth whose password is one of `tokens()`.
   */
  git?: { root: string; tokens: () => readonly string[] };
}

export function appKeys(): { privatePem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey };
}

const LEVEL: Record<string, number> = { read: 1, write: 2, admin: 3 };

function checkJwt(jwt: string, o: FakeGithubOptions): { ok: true; iss: unknown } | { ok: false; message: string } {
  const parts = jwt.split(".");
  if (parts.length !== 3) return { ok: false, message: "A JSON web token could not be decoded" };
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString()) as typeof header;
    payload = JSON.parse(Buffer.from(p, "base64url").toString()) as typeof payload;
  } catch {
    return { ok: false, message: "A JSON web token could not be decoded" };
  }
  if (header.alg !== "RS256") return { ok: false, message: "A JSON web token could not be decoded" };
  if (!verify("sha256", Buffer.from(`${h}.${p}`), o.publicKey, Buffer.from(s, "base64url")))
    return { ok: false, message: "A JSON web token could not be decoded" };
  if (String(payload.iss) !== String(o.appId)) return { ok: false, message: "Integration not found" };
  const now = (o.now ?? (() => Math.floor(Date.now() / 1000)))();
  if (typeof payload.iat !== "number" || payload.iat > now + 60)
    return {
      ok: false,
      message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
    };
  if (typeof payload.exp !== "number" || payload.exp <= now)
    return {
      ok: false,
      message:
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    };
  if (payload.exp - payload.iat > 600 || payload.exp > now + 600)
    return { ok: false, message: "'Expiration time' claim ('exp') is too far in the future." };
  return { ok: true, iss: payload.iss };
}

export async function fakeGithub(dir: string, o: FakeGithubOptions): Promise<FakeGithub> {
  const mints: MintRecord[] = [];
  const refused: string[] = [];
  const api: ApiRecord[] = [];
  const revoked: string[] = [];
  const live = new Set<string>();
  let n = 0;
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = req.url ?? "";
    const auth = req.headers.authorization;
    const m = /^\/api\/v3\/app\/installations\/(\d+)\/access_tokens$/.exec(url);
    if (m && req.method === "POST") {
      const jwt = /^Bearer (.+)$/.exec(auth ?? "")?.[1] ?? "";
      const check = checkJwt(jwt, o);
      if (!check.ok) {
        refused.push(check.message);
        return send(res, 401, { message: check.message, documentation_url: "https://docs.github.com/rest" });
      }
      const installation = Number(m[1]);
      const parsed = JSON.parse(body || "{}") as MintRecord["body"];
      const record: MintRecord = { installation, body: parsed, iss: check.iss };
      mints.push(record);
      const granted = o.installations[installation];
      if (granted === undefined) return send(res, 404, { message: "Not Found" });
      for (const [k, v] of Object.entries(parsed.permissions ?? {}))
        if ((LEVEL[granted[k] ?? ""] ?? 0) < (LEVEL[v] ?? 9))
          return send(res, 422, { message: "The permissions requested are not granted to this installation." });
      const token = `ghs_fake${String(++n).padStart(3, "0")}${"x".repeat(28)}`;
      record.token = token;
      live.add(token);
      return send(res, 201, {
        token,
        expires_at: new Date(Date.now() + (o.lifetimeSeconds ?? 3600) * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
        permissions: parsed.permissions ?? granted,
        repository_selection: "selected",
        repositories: (parsed.repositories ?? []).map((name, i) => ({ id: i + 1, name, full_name: `octo/${name}` })),
      });
    }
    const rec: ApiRecord = { method: req.method ?? "", url, authorization: auth };
    api.push(rec);
    if (url === "/api/v3/installation/token" && req.method === "DELETE") {
      const t = /^token (.+)$/.exec(auth ?? "")?.[1] ?? "";
      if (!live.has(t)) return send(res, 401, { message: "Bad credentials" });
      live.delete(t);
      revoked.push(t);
      return send(res, 204);
    }
    return send(res, 200, o.answer?.(rec, body) ?? {});
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (o.git && /^\/[^/]+\/[^/]+\.git\//.test(req.url ?? "")) return serveGit(o.git, req, res, api);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => handle(req, res, body));
  };
  let caFile = "";
  let server;
  if (o.plain) server = createHttp(listener);
  else {
    const tls = selfSignedCert(dir, { cn: "127.0.0.1", altNames: "IP:127.0.0.1,DNS:localhost" });
    caFile = tls.caFile;
    server = createHttps({ key: tls.key, cert: tls.cert }, listener);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = port === 443 ? "127.0.0.1" : `127.0.0.1:${port}`;
  return {
    port,
    caFile,
    apiUrl: `${o.plain ? "http" : "https"}://${host}/api/v3`,
    host,
    mints,
    refused,
    api,
    revoked,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const APP_ID = 4242;
export const INSTALLATION = 777;

/** The user policy of the real-gh tests: deny, review, a write rule and a read rule, repositories from the command. */
export const POLICY = (apiUrl: string, keyFile: string) => `
version: 1
services:
  gh:
    downscope_mode: github_app
    app_id: ${APP_ID}
    installation_id: ${INSTALLATION}
    private_key: { file: ${keyFile} }
    api_url: ${apiUrl}
    owner: octo
    pass_env: [SSL_CERT_FILE]
    default_action: deny
    rules:
      - name: repo deletion denied
        match: { command: [repo, delete] }
        action: deny
      - name: merges need a human
        match: { command: [pr, merge] }
        action: review
      - name: pr writes
        match: { command: [pr, "create|comment|edit"] }
        permissions: { pull_requests: write, contents: read }
        repositories: from_command
      - name: reads
        match: { command: ["pr|issue|api", "*"] }
        permissions: { pull_requests: read, contents: read, metadata: read }
        repositories: from_command
`;

/** git's smart HTTP through the real `git http-backend` (a CGI program), behind basic auth. */
function serveGit(
  g: NonNullable<FakeGithubOptions["git"]>,
  req: IncomingMessage,
  res: ServerResponse,
  api: ApiRecord[],
): void {
  const auth = req.headers.authorization;
  api.push({ method: req.method ?? "", url: req.url ?? "", authorization: auth });
  const password = /^Basic (.+)$/.exec(auth ?? "")?.[1];
  const pass = password === undefined ? undefined : Buffer.from(password, "base64").toString().split(":")[1];
  if (pass === undefined || !g.tokens().includes(pass)) {
    res.writeHead(401, { "www-authenticate": 'Basic realm="fake"' });
    res.end();
    return;
  }
  const url = new URL(req.url ?? "/", "http://x");
  const cgi = spawn("git", ["http-backend"], {
    env: {
      PATH: "/usr/bin:/bin",
      GIT_PROJECT_ROOT: g.root,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: "x",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? "GET",
      CONTENT_TYPE: req.headers["content-type"] ?? "",
    },
    stdio: ["pipe", "pipe", "ignore"],
  });
  req.pipe(cgi.stdin);
  let out = Buffer.alloc(0);
  cgi.stdout.on("data", (c: Buffer) => (out = Buffer.concat([out, c])));
  cgi.on("close", () => {
    const end = out.indexOf("\r\n\r\n");
    const head = out.subarray(0, end).toString().split("\r\n");
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head) {
      const [k, ...v] = line.split(":");
      if (k === undefined || v.length === 0) continue;
      if (k.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
      else headers[k] = v.join(":").trim();
    }
    res.writeHead(status, headers);
    res.end(out.subarray(end + 4));
  });
}
