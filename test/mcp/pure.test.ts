/** Table-driven tests of the proxy's pure parts: framing, path arguments, slots, tool decisions. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_MESSAGE_BYTES, idFromHead, LineReader } from "../../src/mcp/framing.js";
import { parseLine } from "../../src/mcp/jsonrpc.js";
import { defaultPlan, strippedNames, upstreamEnv } from "../../src/mcp/slots.js";
import { alwaysDenied, hidesDeniedTools, planToolCall } from "../../src/mcp/tool-decision.js";
import { parseProxyArgs } from "../../src/cli/mcp-proxy.js";
import { pathArguments } from "../../src/policy/match.js";
import { layer, policyOf } from "../helpers/policy.js";

function read(chunks: (string | Buffer)[], max = DEFAULT_MAX_MESSAGE_BYTES) {
  const lines: string[] = [];
  const big: [string, number][] = [];
  const r = new LineReader({ line: (l) => lines.push(l), oversized: (h, n) => big.push([h, n]) }, max);
  for (const c of chunks) r.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  r.end();
  return { lines, big };
}

describe("LineReader", () => {
  it.each([
    [["a\nb\n"], ["a", "b"]],
    [
      ["a", "b\nc"],
      ["ab", "c"],
    ],
    [["a\r\n", "\n", "  \n"], ["a"]],
    [['{"x":"é"}\n'], ['{"x":"é"}']],
  ])("%j → %j", (chunks, lines) => expect(read(chunks).lines).toEqual(lines));

  it("splits a multi-byte character across chunks without damage", () => {
    const b = Buffer.from("é\n");
    expect(read([b.subarray(0, 1), b.subarray(1)]).lines).toEqual(["é"]);
  });

  it("skips an oversized line, reports its head and size, and carries on", () => {
    const { lines, big } = read(['{"id":42,"x":"' + "y".repeat(2000), "y".repeat(2000) + '"}\nnext\n'], 1024);
    expect(lines).toEqual(["next"]);
    expect(big).toHaveLength(1);
    expect(big[0]![1]).toBe(4016);
    expect(idFromHead(big[0]![0])).toBe(42);
  });
});

describe("idFromHead", () => {
  it.each([
    ['{"jsonrpc":"2.0","id":7,"method":"x"', 7],
    ['{"jsonrpc":"2.0","id":"a\\"b","method"', 'a"b'],
    ['{"params":{"id":1},"id":2', 2],
    ['{"method":"x","params":{"text":"\\"id\\":3"}', undefined],
    ['{"jsonrpc":"2.0","method":"notifications/x"}', undefined],
    ["garbage", undefined],
  ])("%s → %j", (head, id) => expect(idFromHead(head)).toBe(id));
});

describe("parseLine", () => {
  it.each([
    ['{"jsonrpc":"2.0","id":1,"method":"m"}', "request"],
    ['{"jsonrpc":"2.0","method":"m"}', "notification"],
    ['{"jsonrpc":"2.0","id":1,"result":{}}', "response"],
    ['{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}', "response"],
    ['{"jsonrpc":"2.0","id":1,"method":"m","extra":{"future":true}}', "request"],
    ["[1]", "invalid"],
    ['{"id":1}', "invalid"],
    ["{", "parse-error"],
  ])("%s → %s", (line, kind) => expect(parseLine(line).kind).toBe(kind));
});

describe("pathArguments", () => {
  it.each<[Record<string, unknown>, string[]]>([
    [{ path: "a" }, ["a"]],
    [{ paths: ["a", "b", 3] }, ["a", "b"]],
    [{ source: "a", destination: "b" }, ["a", "b"]],
    [{ pattern: "*.ts", excludePatterns: ["x"], content: "/etc/passwd" }, []],
    [{ files: [{ path: "a" }, { path: "b" }] }, ["a", "b"]],
    [{ options: { cwd: "/w" } }, ["/w"]],
    [{ src: "a", dest: "b", folder: "c" }, ["a", "b", "c"]],
    [{ uri: "file:///etc/passwd", other: "https://x" }, ["/etc/passwd"]],
    [{ uri: "file://host/share/x" }, ["/"]],
  ])("%j → %j", (args, paths) => expect(pathArguments(args)).toEqual(paths));
});

const SLOTS = `
version: 1
services:
  gh:
    token_slots: { ro: { env_var: GH_SRC, inject_as: GH_TOKEN } }
    default_slot: ro
  everything:
    server: every
    strip_env: [EXTRA_SECRET]
    token_slots:
      readonly: { env_var: EV_RO, inject_as: EV_TOKEN }
      write: { env_var: EV_RW, inject_as: EV_TOKEN }
    default_slot: readonly
    hide_denied_tools: true
    rules:
      - { name: no images, match: { tools: [image*] }, action: deny }
      - { name: src only, match: { tools: [read], allowed_paths: [./src] }, action: deny }
      - { name: write with rw, match: { tools: [write] }, slot: write }
      - { name: sums denied, match: { tools: [sum], arguments: { a: "^1$" } }, action: deny }
      - { name: sums denied always, match: { tools: [sum] }, action: deny }
      - { name: review merges, match: { tools: [merge] }, action: review }
`;
const ctx = { cwd: "/p", home: "/h", realpath: (p: string) => p };

describe("slots", () => {
  const policy = policyOf(layer(SLOTS, "user"));
  it("strips every slot source, this server's inject_as and strip_env", () => {
    expect([...strippedNames(policy, "every")].sort()).toEqual([
      "EV_RO",
      "EV_RW",
      "EV_TOKEN",
      "EXTRA_SECRET",
      "GH_SRC",
    ]);
  });
  it("builds the environment by stripping first, then setting", () => {
    const env = upstreamEnv(
      { PATH: "/bin", EV_RO: "fake-ro", EV_TOKEN: "fake-ambient", GH_SRC: "fake-gh" },
      strippedNames(policy, "every"),
      { name: "EV_TOKEN", value: "fake-rw" },
    );
    expect(env).toEqual({ PATH: "/bin", EV_TOKEN: "fake-rw" });
  });
  it("serves defaults from the default slot of the most specific trusted layer", () => {
    expect(defaultPlan(policy, "every").slot?.name).toBe("readonly");
    expect(defaultPlan(policyOf(layer(SLOTS, "project", false)), "every")).toEqual({ key: "" });
    expect(defaultPlan(policy, "other")).toEqual({ key: "" });
  });
});

describe("planToolCall", () => {
  const loaded = { ok: true as const, policy: policyOf(layer(SLOTS, "user")) };
  it.each<[string, Record<string, unknown>, string, string]>([
    ["image_get", {}, "deny", 'denied by rule "no images"'],
    ["read", { path: "src/a.ts" }, "forward", "readonly"],
    ["read", { path: "../etc/passwd" }, "deny", 'denied by rule "src only"'],
    ["write", {}, "forward", "write"],
    ["merge", {}, "review", 'review required by rule "review merges"'],
    ["other", {}, "forward", "readonly"],
  ])("%s %j → %s", (tool, args, kind, detail) => {
    const plan = planToolCall(loaded, "every", tool, args, ctx);
    expect(plan.kind).toBe(kind);
    if (plan.kind === "forward") expect(plan.instance.slot?.name).toBe(detail);
    else expect(plan.text).toContain(detail);
  });
  it("denies everything when the policy did not load, and for unknown servers", () => {
    expect(planToolCall({ ok: false, error: "f.yaml:1:1: bad" }, "every", "x", {}, ctx)).toMatchObject({
      kind: "deny",
      text: expect.stringContaining("f.yaml:1:1: bad") as string,
    });
    expect(planToolCall(loaded, "nope", "x", {}, ctx).kind).toBe("deny");
  });
  it("denies an allow from an untrusted layer (no grant)", () => {
    const untrusted = { ok: true as const, policy: policyOf(layer(SLOTS, "project", false)) };
    const plan = planToolCall(untrusted, "every", "other", {}, ctx);
    expect(plan.kind).toBe("deny");
    if (plan.kind === "deny") expect(plan.text).toContain("no trusted layer configures a credential");
  });
});

describe("alwaysDenied (hide_denied_tools)", () => {
  const policy = policyOf(layer(SLOTS, "user"));
  it.each([
    ["image_x", true], // denied by name
    ["read", false], // denied only for some paths
    ["sum", true], // the earlier argument rule denies too
    ["write", false],
    ["merge", false], // review is not deny
  ])("%s → %s", (tool, hidden) => expect(alwaysDenied(policy, "every", tool, ctx)).toBe(hidden));
  it("is on when any layer asks for it", () => {
    expect(hidesDeniedTools({ ok: true, policy }, "every")).toBe(true);
    expect(hidesDeniedTools({ ok: false, error: "x" }, "every")).toBe(false);
  });
  it("hides tools denied by default_action deny when no argument rule precedes", () => {
    const p = policyOf(
      layer(`version: 1
services:
  s:
    server: s
    downscope_mode: none
    default_action: deny
    rules:
      - { name: ok, match: { tools: [list] } }
      - { name: one get, match: { tools: [get], arguments: { id: "^1$" } } }
`),
    );
    expect(alwaysDenied(p, "s", "delete", ctx)).toBe(true);
    expect(alwaysDenied(p, "s", "list", ctx)).toBe(false);
    expect(alwaysDenied(p, "s", "get", ctx)).toBe(false); // allowed for some arguments
  });
});

describe("parseProxyArgs", () => {
  it.each<[string[], Record<string, string>, unknown]>([
    [
      ["--server", "gh", "--", "npx", "-y", "srv"],
      {},
      { server: "gh", file: "npx", args: ["-y", "srv"], envSlots: [] },
    ],
    [
      ["--server=gh", "--", "srv", "--server", "x"],
      {},
      { server: "gh", file: "srv", args: ["--server", "x"], envSlots: [] },
    ],
    [["--", "srv"], { DOWNSCOPE_MCP_SERVER: "env" }, { server: "env", file: "srv", args: [], envSlots: [] }],
    [
      ["--server", "gh", "--env-slot", "GH_TOKEN=mcp-gh-GH_TOKEN", "--env-slot=B=b", "--", "srv"],
      {},
      {
        server: "gh",
        file: "srv",
        args: [],
        envSlots: [
          { name: "GH_TOKEN", slot: "mcp-gh-GH_TOKEN" },
          { name: "B", slot: "b" },
        ],
      },
    ],
  ])("%j → %j", (argv, env, want) => expect(parseProxyArgs(argv, env)).toEqual(want));

  it.each([["--env-slot"], ["--env-slot", "novalue"], ["--env-slot", "A=../x"], ["--env-slot", "1A=x"]])(
    "refuses %j",
    (...bad) =>
      expect(() => parseProxyArgs(["--server", "s", ...bad, "--", "srv"], {})).toThrow(/--env-slot needs VAR=SLOT/),
  );
});
