/**
 * One small JSON-over-HTTPS request for the minting providers (GitHub App,
 * Kubernetes TokenRequest): no redirects followed (a redirect could carry the
 * credential to another host), no proxy variables read (the agent sets those),
 * a timeout, and an explicit CA / client certificate when the caller has one.
 * Plain http is accepted only where the caller has checked the host is loopback.
 */
import type { OutgoingHttpHeaders } from "node:http";

export interface HttpJsonRequest {
  method: "GET" | "POST" | "DELETE";
  url: string;
  headers?: OutgoingHttpHeaders;
  body?: unknown;
  /** PEM CA bundle to trust instead of the default store (a cluster's CA). */
  ca?: string | Buffer;
  /** Client certificate and key (PEM). */
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  timeoutMs?: number;
}

export interface HttpJsonResponse {
  status: number;
  /** The parsed body, or undefined if it was not JSON. */
  json: unknown;
}

/** Network failures reject with an Error whose `code` is the socket's (ECONNREFUSED, ...). */
export async function httpJson(req: HttpJsonRequest): Promise<HttpJsonResponse> {
  const u = new URL(req.url);
  const mod = u.protocol === "http:" ? await import("node:http") : await import("node:https");
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  const headers: OutgoingHttpHeaders = { accept: "application/json", "user-agent": "downscope", ...req.headers };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const r = mod.request(
      u,
      {
        method: req.method,
        headers,
        agent: false,
        ...(req.ca !== undefined ? { ca: req.ca } : {}),
        ...(req.cert !== undefined ? { cert: req.cert } : {}),
        ...(req.key !== undefined ? { key: req.key } : {}),
        ...(req.servername !== undefined ? { servername: req.servername } : {}),
        timeout: req.timeoutMs ?? 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > 1 << 20) r.destroy(new Error("response too large"));
          else chunks.push(c);
        });
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = text === "" ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
        res.on("error", reject);
      },
    );
    r.on("timeout", () => r.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    r.on("error", reject);
    r.end(payload);
  });
}

/** The socket error code of a failed request, for one-line messages. */
export function networkCode(e: unknown): string {
  const c = (e as { code?: unknown }).code;
  return typeof c === "string" ? c : e instanceof Error ? e.message.slice(0, 120) : "error";
}

/** A server's `message` field, shortened, never anything else of the body. */
export function serverMessage(json: unknown): string {
  const m = (json as { message?: unknown } | undefined)?.message;
  return typeof m === "string" ? m.replace(/\s+/g, " ").slice(0, 200) : "";
}
