/**
 * Bypass: the decision service listens on a fixed loopback port. If it is
 * down, any process can take the port and answer Claude Code's http hook in
 * its place ("no opinion" runs every call unchecked) and read the payloads,
 * the request key among them.
 * Fix: downscope counts a service as its own only when it proves, for a fresh
 * challenge, that it holds the identity key (src/serve/identity.ts), which is
 * never sent anywhere — unlike the request key, which Claude Code sends to
 * whatever listens. `serve --ensure` (the SessionStart hook) reports any
 * other holder of the port and tells the user; it never takes it for
 * downscope's nor kills it.
 * Proves: a listener that answers 200, one that echoes a proof field, and one
 * that captured a real request (and so the request key) are all "another
 * program", and session-start shows the user a systemMessage; the real
 * service is "running".
 * Not closed here: while the port is held by such a process, Claude Code
 * sends it the session's calls; an agent that can kill the service and bind
 * the port runs as the user (docs/security-model.md, default mode).
 */
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ensureServeConfig, readServeConfig } from "../../src/serve/config.js";
import { probe } from "../../src/serve/lifecycle.js";
import { proof } from "../../src/serve/identity.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const servers: Server[] = [];
const used: Sandbox[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const sb of used.splice(0)) await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
});

async function impostor(port: number, answer: (body: string) => string): Promise<void> {
  const s = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer(body));
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
}

async function setup(): Promise<{ sb: Sandbox; port: number; key: string }> {
  const sb = sandbox();
  used.push(sb);
  const c = await ensureServeConfig(sb.env, () => Promise.resolve(20000 + Math.floor(Math.random() * 12000)));
  return { sb, port: c.port, key: c.key };
}

describe("a process holding the service's port", () => {
  it.each([
    ["answers {} to everything", () => "{}"],
    ["echoes a proof-shaped answer", () => JSON.stringify({ proof: "x".repeat(43), pid: 1, build: "x" })],
  ])("that %s is another program", async (_what, answer) => {
    const { sb, port } = await setup();
    await impostor(port, answer);
    const r = await runCli(["serve", "--ensure"], { env: sb.env, cwd: "/" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/held by another program/);
    const start = await runCli(["session-start"], { env: sb.env, cwd: sb.project, stdin: "{}" });
    expect(start.code).toBe(0);
    expect(JSON.parse(start.stdout).systemMessage).toMatch(/held by another program/);
  });

  it("that captured a real request, and with it the request key, still cannot prove it is downscope's", async () => {
    const { sb, port, key } = await setup();
    // What it learned: the request key, from Claude Code's headers; and it can compute any HMAC with it.
    const { createHmac } = await import("node:crypto");
    await impostor(port, (body) => {
      const { challenge } = JSON.parse(body) as { challenge: string };
      return JSON.stringify({
        proof: proof(Buffer.from(key, "base64url"), challenge),
        pid: 1,
        build: "x",
        mac: createHmac("sha256", key).update(challenge).digest("base64url"),
      });
    });
    expect((await probe(readServeConfig(sb.env)!, Buffer.alloc(32, 1))).state).toBe("foreign");
    expect((await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout).toMatch(/held by another program/);
  });

  it("downscope's own service proves it", async () => {
    const { sb } = await setup();
    expect((await runCli(["serve", "--ensure"], { env: sb.env, cwd: "/" })).code).toBe(0);
    expect((await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout).toMatch(/^running/);
  });
});
