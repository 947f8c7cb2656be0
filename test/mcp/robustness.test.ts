/**
 * Bad input and failing upstreams: malformed and oversized messages from
 * either side, an upstream that crashes mid-call or cannot start, a client
 * that disconnects, a broken policy, a missing token. Each case must end in a
 * clear JSON-RPC error or tool error, never a hang or a crash, with every
 * child reaped. Uses a tiny fake server (test/fixtures/mcp/fake-server.mjs).
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { alive, FIXTURES, RawProxy, until, userPolicy } from "./helpers.js";

const FAKE = join(FIXTURES, "fake-server.mjs");
const POLICY = `
version: 1
services:
  fake:
    server: fake
    downscope_mode: none
`;

const running: { p: RawProxy; pids: () => number[] }[] = [];
afterEach(async () => {
  // Close the client's end and let the proxy reap its children (the fake server ignores
  // stdin EOF); only then kill anything left, so no test leaves an orphan behind.
  for (const { p, pids } of running.splice(0)) {
    if (p.exitCode === undefined) {
      p.child.stdin.end();
      await p.exited().catch(() => p.child.kill("SIGKILL"));
    }
    for (const pid of pids()) if (alive(pid)) process.kill(pid, "SIGKILL");
  }
});

function proxy(sb: Sandbox, env: Record<string, string> = {}, upstream = [process.execPath, FAKE]) {
  const pids = join(sb.root, "pids");
  mkdirSync(pids, { recursive: true });
  const p = new RawProxy(sb, "fake", upstream, { FAKE_PID_DIR: pids, ...env });
  const list = () => readdirSync(pids).map(Number);
  running.push({ p, pids: list });
  return { p, pids: list };
}

function resultText(m: Record<string, unknown>): string {
  const r = m.result as { content?: { text?: string }[] } | undefined;
  return r?.content?.[0]?.text ?? "";
}

function errorMessage(m: Record<string, unknown>): string {
  return (m.error as { message?: string } | undefined)?.message ?? "";
}

describe("mcp-proxy robustness", () => {
  it("answers malformed and invalid client messages with JSON-RPC errors and keeps going", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb);
    await p.initialize();
    p.send("{not json");
    p.send('{"foo": 1, "id": 5}');
    p.send("[1, 2]");
    await until(() => p.messages.length >= 4, "three error answers");
    expect(p.messages.find((m) => m.id === null && (m.error as { code: number }).code === -32700)).toBeDefined();
    expect(errorMessage(await p.response(5))).toContain("invalid request");
    p.call(1, "echo", { x: 1 });
    expect(resultText(await p.response(1))).toBe('{"x":1}');
    expect(p.stderr).toContain("client sent malformed JSON");
  });

  it("forwards what it does not intercept as received: unknown methods, extra fields, string ids", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const log = join(sb.root, "stdin.log");
    const { p } = proxy(sb, {}, [
      process.execPath,
      join(FIXTURES, "record-stdin.mjs"),
      log,
      "--",
      process.execPath,
      FAKE,
    ]);
    await p.initialize();
    p.send({
      jsonrpc: "2.0",
      id: "x-1",
      method: "custom/thing",
      params: { a: [1, { b: null }] },
      future: { field: true },
    });
    const r = await p.response("x-1");
    expect(r).toEqual({ jsonrpc: "2.0", id: "x-1", error: { code: -32601, message: "no such method" } });
    const sent = readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => m.method === "custom/thing");
    expect(sent).toMatchObject({ params: { a: [1, { b: null }] }, future: { field: true } });
    expect(typeof sent!.id).toBe("number"); // remapped on the way in, restored on the way out
  });

  it("rejects an oversized client message by id and keeps going", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb, { DOWNSCOPE_MCP_MAX_BYTES: "65536" });
    await p.initialize();
    p.call(7, "echo", { blob: "y".repeat(100_000) });
    expect(errorMessage(await p.response(7))).toContain("larger than 65536 bytes");
    p.call(8, "echo", { small: true });
    expect(resultText(await p.response(8))).toBe('{"small":true}');
  });

  it("enforces the default 16 MiB limit", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb);
    await p.initialize();
    p.call(9, "echo", { blob: "z".repeat(17 * 1024 * 1024) });
    expect(errorMessage(await p.response(9))).toContain(`larger than ${16 * 1024 * 1024} bytes`);
    p.call(10, "echo", { blob: "z".repeat(1024 * 1024) });
    expect(resultText(await p.response(10))).toHaveLength(1024 * 1024 + 11);
  });

  it("turns an oversized or malformed upstream answer into an error for that call", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb, { DOWNSCOPE_MCP_MAX_BYTES: "65536", FAKE_HUGE_BYTES: "200000" });
    await p.initialize();
    p.call(1, "huge");
    expect(errorMessage(await p.response(1))).toContain("larger than 65536 bytes");
    p.call(2, "garbage");
    expect(errorMessage(await p.response(2))).toContain("malformed");
    p.call(3, "echo", { after: 1 });
    expect(resultText(await p.response(3))).toBe('{"after":1}');
    expect(p.stderr).toContain("upstream server sent malformed JSON");
  });

  it("reports an upstream crash on the in-flight call and restarts it on next use", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb);
    await p.initialize();
    p.call(1, "pid");
    const first = Number(resultText(await p.response(1)));
    p.call(2, "crash");
    expect(errorMessage(await p.response(2))).toMatch(/exited with status 3 before answering tools\/call/);
    await until(() => !alive(first), "the crashed upstream to be reaped");
    // The fake server refuses calls before initialize: this proves the replay.
    p.call(3, "pid");
    const second = Number(resultText(await p.response(3)));
    expect(second).not.toBe(first);
    expect(p.stderr).toContain("exited with status 3");
  });

  it("kills its children and exits 0 when the client disconnects mid-call", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p, pids } = proxy(sb);
    await p.initialize();
    p.call(1, "hang");
    await until(() => pids().length === 1, "the upstream to start");
    p.child.stdin.end();
    expect(await p.exited()).toBe(0);
    for (const pid of pids()) expect(alive(pid)).toBe(false);
  });

  /*
   * Bug: a client that gives up waiting SIGTERMs the proxy; Node dies at once
   * and an upstream that ignores stdin EOF (the fake server does) lives on.
   * Fix: the proxy handles SIGTERM/SIGINT/SIGHUP by stopping its instances first.
   * Proves: after SIGTERM the proxy exits 143 and the upstream is gone.
   */
  it("takes its children along when it is sent SIGTERM", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p, pids } = proxy(sb);
    await p.initialize();
    await until(() => pids().length === 1, "the upstream to start");
    p.child.kill("SIGTERM");
    expect(await p.exited()).toBe(143);
    await until(() => pids().every((pid) => !alive(pid)), "the upstream to be gone");
  });

  /*
   * Bug: when the client stops reading (closes its end of our stdout), the
   * next write raised an unhandled EPIPE: the proxy crashed with a stack trace
   * and left its upstream running.
   * Fix: a stdout error is handled like a terminating signal.
   * Proves: the proxy exits 141 without a stack trace and the upstream is gone.
   */
  it("shuts down cleanly when the client stops reading", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p, pids } = proxy(sb);
    await p.initialize();
    await until(() => pids().length === 1, "the upstream to start");
    p.child.stdout.destroy();
    p.call(1, "echo");
    p.call(2, "echo");
    expect(await p.exited()).toBe(141);
    expect(p.stderr).not.toMatch(/EPIPE|at .*\(node:/);
    await until(() => pids().every((pid) => !alive(pid)), "the upstream to be gone");
  });

  it("answers with an error when the upstream command cannot start", async () => {
    const sb = sandbox();
    userPolicy(sb, POLICY);
    const { p } = proxy(sb, {}, ["/nonexistent/mcp-server"]);
    p.send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {} },
    });
    expect(errorMessage(await p.response(1))).toContain("could not start /nonexistent/mcp-server: ENOENT");
    p.child.stdin.end();
    expect(await p.exited()).toBe(0);
  });

  it("denies every tool call with the config error when the policy is broken, and still runs", async () => {
    const sb = sandbox();
    userPolicy(sb, "version: 1\nservices:\n  fake:\n    server: fake\n    default_action: maybe\n");
    const { p } = proxy(sb);
    await p.initialize();
    p.call(1, "echo");
    const r = await p.response(1);
    expect((r.result as { isError?: boolean }).isError).toBe(true);
    expect(resultText(r)).toMatch(/policy could not be loaded:\n.*config\.yaml:5:\d+: services\.fake\.default_action/);
    expect(p.stderr).toContain("every tool call will be denied");
  });

  it("denies calls for a server no service covers, and allows without a trusted grant", async () => {
    const sb = sandbox();
    userPolicy(sb, "version: 1\nservices: {}\n");
    const { p } = proxy(sb);
    await p.initialize();
    p.call(1, "echo");
    expect(resultText(await p.response(1))).toContain("no service in the policy has `server: fake`");

    // An untrusted project file may restrict but not grant: allow without grant → denied with why.
    sb.write("project/.claude/downscoping.yaml", POLICY);
    const second = proxy(sb).p;
    await second.initialize();
    second.call(1, "echo");
    const r = await second.response(1);
    expect(resultText(r)).toContain("no trusted layer configures a credential for fake");
  });

  it("fails closed with the slot's source named when a token is missing, never printing a token", async () => {
    const sb = sandbox();
    userPolicy(
      sb,
      `version: 1
services:
  fake:
    server: fake
    token_slots:
      ro: { env_var: FAKE_TOKEN_RO, inject_as: FAKE_TOKEN }
      rw: { env_var: FAKE_TOKEN_RW_MISSING, inject_as: FAKE_TOKEN }
    default_slot: ro
    rules:
      - { name: writes, match: { tools: [crash] }, slot: rw }
`,
    );
    const { p } = proxy(sb, { FAKE_TOKEN_RO: "fake-token-ro-123" });
    await p.initialize();
    p.call(1, "crash");
    const r = await p.response(1);
    expect((r.result as { isError?: boolean }).isError).toBe(true);
    expect(resultText(r)).toContain('slot "rw": environment variable FAKE_TOKEN_RW_MISSING is not set');
    p.call(2, "echo", { still: "up" });
    expect(resultText(await p.response(2))).toBe('{"still":"up"}');
    expect(JSON.stringify(p.messages) + p.stderr).not.toContain("fake-token-ro-123");
  });

  it("answers the client with a JSON-RPC error when the default slot's token is missing", async () => {
    const sb = sandbox();
    userPolicy(
      sb,
      `version: 1
services:
  fake:
    server: fake
    token_slots:
      ro: { env_var: FAKE_TOKEN_RO_MISSING, inject_as: FAKE_TOKEN }
      file: { env_var: FAKE_TOKEN_RO_MISSING, inject_file_env: FAKE_TOKEN_FILE }
    default_slot: ro
    rules:
      - { name: file slot, match: { tools: [echo] }, slot: file }
`,
    );
    const { p, pids } = proxy(sb);
    p.send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {} },
    });
    expect(errorMessage(await p.response(1))).toContain(
      'slot "ro": environment variable FAKE_TOKEN_RO_MISSING is not set',
    );
    p.call(2, "echo");
    expect(resultText(await p.response(2))).toContain('slot "file" uses inject_file_env');
    expect(pids()).toEqual([]); // no instance was started without its token
  });

  it("refuses bad command lines with a usage error", async () => {
    const sb = sandbox();
    for (const argv of [["mcp-proxy"], ["mcp-proxy", "--server", "x"], ["mcp-proxy", "--bogus", "--", "srv"]]) {
      const r = await runCli(argv, { env: sb.env, cwd: sb.project });
      expect(r.code).toBe(64);
      expect(r.stderr).toContain("usage: downscope mcp-proxy --server NAME [--env-slot VAR=SLOT]... -- <command>");
      expect(r.stdout).toBe("");
    }
  });
});
