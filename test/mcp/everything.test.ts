/**
 * The proxy in front of the real @modelcontextprotocol/server-everything,
 * driven by the official SDK Client: per-slot instances and their
 * environments, deny/review results, hidden tools, progress, cancellation,
 * sampling and elicitation in both directions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
} from "@modelcontextprotocol/sdk/types.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import {
  alive,
  childPids,
  connect,
  FIXTURES,
  serverEntry,
  text,
  until,
  userPolicy,
  type Connected,
} from "./helpers.js";

const EVERYTHING = serverEntry("@modelcontextprotocol/server-everything");

const POLICY = `
version: 1
services:
  gh:
    token_slots: { other: { env_var: FAKE_GH_SOURCE, inject_as: GH_TOKEN } }
    default_slot: other
  everything:
    server: everything
    downscope_mode: token_slot
    hide_denied_tools: true
    token_slots:
      readonly: { env_var: FAKE_EVERY_RO, inject_as: EVERY_TOKEN }
      write:    { env_var: FAKE_EVERY_RW, inject_as: EVERY_TOKEN }
    default_slot: readonly
    rules:
      - name: images are off limits
        match: { tools: [get-tiny-image] }
        action: deny
        reason: no images in this project
      - name: sums of secrets denied
        match: { tools: [get-sum], arguments: { a: "^13$" } }
        action: deny
      - name: dangerous echoes need a human
        match: { tools: [echo], arguments: { message: "^danger" } }
        action: review
      - name: env dump with the write token
        match: { tools: [get-env], arguments: { slot: "^write$" } }
        slot: write
      - name: long operations, sampling and roots run on the write instance
        match: { tools: [trigger-long-running-operation, trigger-sampling-request, get-roots-list] }
        slot: write
`;

const TOKENS = {
  FAKE_EVERY_RO: "fake-every-token-ro-123",
  FAKE_EVERY_RW: "fake-every-token-rw-456",
  FAKE_GH_SOURCE: "fake-gh-token-other-789",
  // Ambient value under the injected name: must never reach an instance.
  EVERY_TOKEN: "fake-ambient-token-000",
};

let open: Connected[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.client.close().catch(() => undefined);
});

async function start(sb: Sandbox, capabilities: ClientCapabilities = {}, upstream = [EVERYTHING, "stdio"]) {
  userPolicy(sb, POLICY);
  const c = await connect(sb, { server: "everything", upstream, env: TOKENS, capabilities });
  open.push(c);
  return c;
}

async function envOf(c: Connected, args: Record<string, unknown>): Promise<Record<string, string>> {
  const r = await c.client.callTool({ name: "get-env", arguments: args });
  return JSON.parse(text(r)) as Record<string, string>;
}

describe("mcp-proxy with server-everything", () => {
  /*
   * Bypass: one MCP server process holds every credential, so a read-only
   * tool call can use the write token (or any token in downscope's env).
   * Fix: one instance per slot, each started with only its slot's token under
   * inject_as, every slot source variable and the ambient inject_as stripped.
   * Proves: get-env on the default instance sees only the readonly token, on
   * the write instance only the write token, and neither sees any source variable.
   * (The proxy masks every slot token in results, docs/masking.md, as
   * [masked:slot:<name>]: the label says which slot's exact token was there.)
   */
  it("gives each slot its own instance holding only that slot's token", async () => {
    const sb = sandbox();
    const c = await start(sb);
    const ro = await envOf(c, {});
    expect(ro.EVERY_TOKEN).toBe("[masked:slot:readonly]");
    const rw = await envOf(c, { slot: "write" });
    expect(rw.EVERY_TOKEN).toBe("[masked:slot:write]");
    for (const env of [ro, rw]) {
      for (const name of ["FAKE_EVERY_RO", "FAKE_EVERY_RW", "FAKE_GH_SOURCE"]) expect(env[name]).toBeUndefined();
      const dump = JSON.stringify(env);
      expect(dump).not.toContain(TOKENS.FAKE_GH_SOURCE);
      expect(dump).not.toContain("[masked:slot:other]");
      expect(dump).not.toContain(TOKENS.EVERY_TOKEN);
    }
    expect(JSON.stringify(ro)).not.toContain("[masked:slot:write]");
    expect(JSON.stringify(rw)).not.toContain("[masked:slot:readonly]");
    // Concurrent calls to both instances: each answer comes back to its own request.
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => envOf(c, i % 2 ? { slot: "write" } : {})));
    many.forEach((env, i) => expect(env.EVERY_TOKEN).toBe(i % 2 ? "[masked:slot:write]" : "[masked:slot:readonly]"));
    // Two upstream processes under the proxy now, and the tokens are not in the proxy's stderr.
    expect(childPids(c.proxyPid)).toHaveLength(2);
    expect(c.stderr()).not.toContain("fake-every-token");
  });

  it("answers deny and review with an error result naming the rule; hides always-denied tools", async () => {
    const sb = sandbox();
    const c = await start(sb);
    const denied = await c.client.callTool({ name: "get-tiny-image", arguments: {} });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain('downscope: denied by rule "images are off limits"');
    expect(text(denied)).toContain("no images in this project");

    const review = await c.client.callTool({ name: "echo", arguments: { message: "danger zone" } });
    expect(review.isError).toBe(true);
    expect(text(review)).toContain('review required by rule "dangerous echoes need a human"');
    expect(text(review)).toContain("ask the human to do this themselves");

    const fine = await c.client.callTool({ name: "echo", arguments: { message: "hello" } });
    expect(fine.isError).toBeFalsy();
    expect(text(fine)).toContain("hello");

    const sum = await c.client.callTool({ name: "get-sum", arguments: { a: 13, b: 1 } });
    expect(text(sum)).toContain('denied by rule "sums of secrets denied"');

    const names = (await c.client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("get-tiny-image"); // denied whatever its arguments
    expect(names).toContain("get-sum"); // denied only for some arguments
    expect(names).toContain("echo");
  });

  it("asks through elicitation for review rules and runs the call only on accept", async () => {
    const sb = sandbox();
    const c = await start(sb, { elicitation: {} });
    const asked: string[] = [];
    let answer: "accept" | "decline" = "decline";
    c.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: answer };
    });
    const declined = await c.client.callTool({ name: "echo", arguments: { message: "danger one" } });
    expect(declined.isError).toBe(true);
    expect(text(declined)).toContain("did not approve");
    expect(asked[0]).toContain('review required by rule "dangerous echoes need a human"');
    expect(asked[0]).toContain("danger one");

    answer = "accept";
    const accepted = await c.client.callTool({ name: "echo", arguments: { message: "danger two" } });
    expect(accepted.isError).toBeFalsy();
    expect(text(accepted)).toContain("danger two");
    expect(asked).toHaveLength(2);
  });

  it("withdraws its review question when the client cancels the call", async () => {
    const sb = sandbox();
    const c = await start(sb, { elicitation: {} });
    let withdrawn = false;
    let asked = false;
    c.client.setRequestHandler(ElicitRequestSchema, (_req, extra) => {
      asked = true;
      return new Promise((resolve) =>
        extra.signal.addEventListener("abort", () => {
          withdrawn = true;
          resolve({ action: "cancel" });
        }),
      );
    });
    const ac = new AbortController();
    const call = c.client
      .callTool({ name: "echo", arguments: { message: "danger later" } }, undefined, { signal: ac.signal })
      .catch((e: unknown) => String(e));
    await until(() => asked, "the review question");
    ac.abort("changed my mind");
    expect(await call).toMatch(/abort|cancel|changed my mind/i);
    await until(() => withdrawn, "the question to be withdrawn");
    // The proxy is still fine afterwards.
    expect(text(await c.client.callTool({ name: "echo", arguments: { message: "ok" } }))).toContain("ok");
  });

  it("passes progress notifications from a slot instance and routes sampling back to its instance", async () => {
    const sb = sandbox();
    const c = await start(sb, { sampling: {} });
    c.client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: "fake-model",
      role: "assistant",
      content: { type: "text", text: "sampled-reply-xyz" },
    }));
    const progress: number[] = [];
    const r = await c.client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 0.4, steps: 4 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(text(r)).toContain("Long running operation completed");
    // The SDK Client handles notifications a microtask after responses, so the
    // last progress can be dropped when it arrives in the same chunk as the
    // result (with or without a proxy); the steps before it are 100 ms apart.
    expect(progress.slice(0, 3)).toEqual([1, 2, 3]);

    const s = await c.client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hi", maxTokens: 5 } });
    expect(text(s)).toContain("sampled-reply-xyz");
  });

  it("answers a slot instance's roots/list from the client", async () => {
    const sb = sandbox();
    const c = await start(sb, { roots: {} });
    let asked = 0;
    c.client.setRequestHandler(ListRootsRequestSchema, async () => {
      asked++;
      return { roots: [{ uri: "file:///work/proj-root-xyz", name: "proj-root-xyz" }] };
    });
    const r = await c.client.callTool({ name: "get-roots-list", arguments: {} });
    expect(text(r)).toContain("URI: file:///work/proj-root-xyz");
    expect(asked).toBeGreaterThan(0);
  });

  it("sends the server's elicitation requests to the client", async () => {
    const sb = sandbox();
    const c = await start(sb, { elicitation: {} });
    let seen = "";
    c.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      seen = req.params.message;
      return { action: "decline" };
    });
    const r = await c.client.callTool({ name: "trigger-elicitation-request", arguments: {} });
    expect(seen).not.toBe("");
    expect(JSON.stringify(r.content)).toContain("declined");
  });

  /*
   * Bug: with ids remapped per instance, a client's notifications/cancelled
   * names an id the upstream never saw, so the upstream keeps working.
   * Fix: the proxy maps the cancelled requestId to the instance and the id it used.
   * Proves: the upstream (a write-slot instance) receives notifications/cancelled
   * carrying the id under which it received the tools/call.
   */
  it("maps cancellation to the right instance and id", async () => {
    const sb = sandbox();
    const log = join(sb.root, "upstream-stdin.log");
    const c = await start(sb, {}, [
      join(FIXTURES, "record-stdin.mjs"),
      log,
      "--",
      process.execPath,
      EVERYTHING,
      "stdio",
    ]);
    const ac = new AbortController();
    let firstProgress = false;
    const call = c.client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 300 } },
      undefined,
      { signal: ac.signal, onprogress: () => (firstProgress = true) },
    );
    const settled = call.then(
      () => "resolved",
      (e: unknown) => String(e),
    );
    await until(() => firstProgress, "first progress notification");
    ac.abort("test cancels");
    expect(await settled).toMatch(/abort|cancel/i);
    const lines = () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id?: number; method?: string; params?: Record<string, unknown> });
    await until(
      () => lines().some((m) => m.method === "notifications/cancelled"),
      "the upstream to receive the cancellation",
    );
    const upstreamCall = lines().find(
      (m) => m.method === "tools/call" && m.params?.name === "trigger-long-running-operation",
    );
    const cancel = lines().find((m) => m.method === "notifications/cancelled");
    expect(upstreamCall?.id).toBeDefined();
    expect(cancel?.params?.requestId).toBe(upstreamCall!.id);
  });

  it("stops every instance when the client disconnects", async () => {
    const sb = sandbox();
    const c = await start(sb);
    await envOf(c, {});
    await envOf(c, { slot: "write" });
    const kids = childPids(c.proxyPid);
    expect(kids).toHaveLength(2);
    await c.client.close();
    open = [];
    await until(() => !alive(c.proxyPid) && kids.every((k) => !alive(k)), "proxy and upstreams to exit");
  });
});
