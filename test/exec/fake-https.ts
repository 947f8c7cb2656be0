import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { selfSignedCert } from "../helpers/tls.js";

export interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
}

export interface FakeHttps {
  port: number;
  caFile: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** Fails with a clear message when a tool a test needs is missing (never a silent skip). */
export function requireTool(name: string, hint: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`this test needs ${name} on PATH (${hint})`);
}

/** A loopback HTTPS server with a self-signed certificate made by openssl in dir; answers JSON. */
export async function fakeHttps(dir: string, body: (url: string) => unknown): Promise<FakeHttps> {
  const { key, cert, caFile } = selfSignedCert(dir, { cn: "127.0.0.1", altNames: "IP:127.0.0.1,DNS:localhost" });
  const seen: Seen[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(body(req.url ?? "")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caFile,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
