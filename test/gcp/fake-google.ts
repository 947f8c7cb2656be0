/**
 * A local stand-in for Google's token endpoints, reached by the real
 * google-auth-library through its supported proxy support: gaxios honours
 * HTTPS_PROXY, so a child Node process started with
 *   HTTPS_PROXY=http://127.0.0.1:<port>  NODE_EXTRA_CA_CERTS=<our CA>
 * sends its CONNECT to this proxy, which terminates TLS itself (a certificate
 * for the Google hosts, trusted only by that child) and answers:
 *   POST https://oauth2.googleapis.com/token          (refresh of an authorized_user ADC)
 *   POST https://sts.googleapis.com/v1/token           (the Credential Access Boundary exchange)
 *   POST https://iamcredentials.googleapis.com/v1/...:generateAccessToken (impersonation)
 * Every request is recorded. No library code is edited, no product override
 * exists for this: downscope always talks to the real Google host names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfSignedCert } from "../helpers/tls.js";

export interface Recorded {
  host: string;
  path: string;
  form: Record<string, string>;
  json?: unknown;
  authorization?: string;
}

export interface FakeGoogle {
  proxyUrl: string;
  caFile: string;
  requests: Recorded[];
  /** Delay before the STS endpoint answers (to make concurrent mints overlap). */
  stsDelayMs: number;
  /** Env for a child Node process: route Google's hosts here. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const HOSTS = ["sts.googleapis.com", "oauth2.googleapis.com", "iamcredentials.googleapis.com"];

export const SOURCE_TOKEN = "fake-gcp-source-token-111";
export const DOWNSCOPED_PREFIX = "fake-gcp-downscoped-token-";
export const IMPERSONATED_TOKEN = "fake-gcp-impersonated-token-333";

function certificate(dir: string): { key: string; cert: string; caFile: string } {
  return selfSignedCert(dir, {
    cn: "downscope test Google",
    altNames: HOSTS.map((h) => `DNS:${h}`).join(","),
    ca: true,
    days: 2,
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const dir = mkdtempSync(join(tmpdir(), "downscope-fake-google-"));
  const { key, cert, caFile } = certificate(dir);
  const requests: Recorded[] = [];
  let minted = 0;

  const tls = createHttpsServer({ key, cert }, (req, res) => {
    void (async () => {
      const text = await readBody(req);
      const host = (req.headers.host ?? "").replace(/:443$/, "");
      const path = req.url ?? "/";
      const form = Object.fromEntries(new URLSearchParams(text));
      let json: unknown;
      try {
        json = text.startsWith("{") ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      requests.push({ host, path, form, json, authorization: req.headers.authorization });

      if (host === "oauth2.googleapis.com" && path === "/token") {
        if (form.refresh_token === "fake-refresh-token-revoked")
          return send(res, 400, { error: "invalid_grant", error_description: "Token has been expired or revoked." });
        return send(res, 200, { access_token: SOURCE_TOKEN, expires_in: 3599, token_type: "Bearer" });
      }
      if (host === "sts.googleapis.com" && path === "/v1/token") {
        if (fake.stsDelayMs > 0) await new Promise((r) => setTimeout(r, fake.stsDelayMs));
        const options = form.options ? (JSON.parse(form.options) as unknown) : undefined;
        if (form.subject_token !== SOURCE_TOKEN) return send(res, 401, { error: "invalid_grant" });
        if (JSON.stringify(options).includes("refused-bucket"))
          return send(res, 400, {
            error: "invalid_request",
            error_description: "The access boundary rules are invalid (fake STS refusal).",
          });
        minted++;
        return send(res, 200, {
          access_token: `${DOWNSCOPED_PREFIX}${minted}`,
          issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
          token_type: "Bearer",
          expires_in: 3600,
        });
      }
      if (host === "iamcredentials.googleapis.com" && path.endsWith(":generateAccessToken")) {
        if (req.headers.authorization !== `Bearer ${SOURCE_TOKEN}`) return send(res, 401, { error: { code: 401 } });
        if (path.includes("denied-sa"))
          return send(res, 403, {
            error: {
              code: 403,
              status: "PERMISSION_DENIED",
              message: "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
            },
          });
        return send(res, 200, {
          accessToken: IMPERSONATED_TOKEN,
          expireTime: new Date(Date.now() + 3600_000).toISOString(),
        });
      }
      send(res, 404, { error: `fake Google: nothing at ${host}${path}` });
    })();
  });

  const proxy = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end("fake Google proxy: CONNECT only");
  });
  proxy.on("connect", (req: IncomingMessage, socket) => {
    const target = req.url ?? "";
    const host = target.replace(/:\d+$/, "");
    if (!HOSTS.includes(host)) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    tls.emit("connection", socket);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const port = (proxy.address() as AddressInfo).port;
  const proxyUrl = `http://127.0.0.1:${port}`;
  const fake: FakeGoogle = {
    proxyUrl,
    stsDelayMs: 0,
    caFile,
    requests,
    env: {
      HTTPS_PROXY: proxyUrl,
      https_proxy: proxyUrl,
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
      NODE_EXTRA_CA_CERTS: caFile,
      // Never probe a real metadata server.
      METADATA_SERVER_DETECTION: "none",
    },
    async close() {
      await new Promise<void>((r) => proxy.close(() => r()));
      tls.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fake;
}

/** An authorized_user ADC file (what `gcloud auth application-default login` writes), with fake values. */
export function fakeAdc(refreshToken = "fake-refresh-token-222"): string {
  return JSON.stringify({
    type: "authorized_user",
    client_id: "fake-client-id.apps.googleusercontent.com",
    client_secret: "fake-client-secret",
    refresh_token: refreshToken,
  });
}
