/**
 * A loopback HTTPS fake of the Kubernetes API implementing TokenRequest
 * (POST /api/v1/namespaces/NS/serviceaccounts/NAME/token): the mint must carry
 * the user's kubeconfig credential (USER_TOKEN), every other request a token
 * the fake minted; `cluster-admin` answers 403 like RBAC would.
 */
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { selfSignedCert } from "../helpers/tls.js";

export const USER_TOKEN = "fake-user-kubeconfig-credential-0123";

export interface FakeKube {
  port: number;
  caFile: string;
  mints: { url: string; authorization: string | undefined; clientCert?: string; body: unknown }[];
  other: { url: string; authorization: string | undefined; clientCert?: string }[];
  minted: string[];
  close(): Promise<void>;
}

/** `clientCa`: also accept, for the mint only, a client certificate issued by this CA (PEM). */
export async function fakeKube(dir: string, opts: { clientCa?: string } = {}): Promise<FakeKube> {
  const { key, cert, caFile } = selfSignedCert(dir, { cn: "127.0.0.1", altNames: "IP:127.0.0.1,DNS:localhost" });
  const f: Omit<FakeKube, "port" | "close"> = { caFile, mints: [], other: [], minted: [] };
  const tlsOpts = opts.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: opts.clientCa } : {};
  const server: Server = createServer({ key, cert, ...tlsOpts }, (req, res) => {
    const sock = req.socket as TLSSocket;
    const clientCert =
      opts.clientCa !== undefined && sock.authorized ? String(sock.getPeerCertificate().subject?.CN) : undefined;
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const url = req.url ?? "";
      const auth = req.headers.authorization;
      res.setHeader("content-type", "application/json");
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token$/.exec(url);
      if (m && req.method === "POST") {
        f.mints.push({
          url,
          authorization: auth,
          ...(clientCert ? { clientCert } : {}),
          body: JSON.parse(body || "null"),
        });
        if (auth !== `Bearer ${USER_TOKEN}` && !(clientCert !== undefined && auth === undefined)) {
          res.statusCode = 401;
          return res.end(JSON.stringify({ kind: "Status", code: 401, message: "Unauthorized" }));
        }
        if (m[2] === "cluster-admin") {
          res.statusCode = 403;
          return res.end(
            JSON.stringify({
              kind: "Status",
              code: 403,
              reason: "Forbidden",
              message: `serviceaccounts "cluster-admin" is forbidden: User "me" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${m[1]}"`,
            }),
          );
        }
        const spec = (JSON.parse(body) as { spec: { expirationSeconds: number } }).spec;
        const token = `minted-sa-token-${f.minted.length + 1}-${m[1]}-${m[2]}`;
        f.minted.push(token);
        res.statusCode = 201;
        return res.end(
          JSON.stringify({
            kind: "TokenRequest",
            apiVersion: "authentication.k8s.io/v1",
            spec,
            status: { token, expirationTimestamp: new Date(Date.now() + spec.expirationSeconds * 1000).toISOString() },
          }),
        );
      }
      f.other.push({ url, authorization: auth, ...(clientCert ? { clientCert } : {}) });
      if (!f.minted.some((t) => auth === `Bearer ${t}`)) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ kind: "Status", code: 401, message: "Unauthorized" }));
      }
      res.end(JSON.stringify({ kind: "PodList", apiVersion: "v1", items: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    ...f,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
