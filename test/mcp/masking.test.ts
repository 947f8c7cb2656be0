/**
 * The MCP proxy masks tools/call answers before the client's model sees them
 * (src/mcp/result-mask.ts): text content, structured content, embedded
 * resource contents and error messages, keys and shape kept; an answer that
 * cannot be checked is withheld. With the real server-everything behind the
 * proxy: a token-shaped string and the instance's own slot token come back
 * masked, and the audit trail records what the call returned.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { maskToolResponse, resultRecord } from "../../src/mcp/result-mask.js";
import { fake, j, rand } from "../helpers/fake-secrets.js";
import { sandbox } from "../helpers/sandbox.js";
import { connect, serverEntry, text, userPolicy, type Connected } from "./helpers.js";

const SLOT = j("mcp-slot-", rand(24));

describe("masking tools/call answers (pure)", () => {
  const pat = fake.githubPat();
  const answer = {
    jsonrpc: "2.0" as const,
    id: 7,
    result: {
      content: [
        { type: "text", text: `token ${pat}` },
        { type: "resource", resource: { uri: "file:///x", mimeType: "text/plain", text: `k=${SLOT}` } },
        { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
      ],
      structuredContent: { token: pat, count: 2, nested: [{ secret: SLOT }] },
      isError: false,
    },
  };

  it("masks text, resource contents and structured content; keys, numbers and shape stay", () => {
    const m = maskToolResponse(answer, { secrets: [{ value: SLOT, kind: "slot:ro" }] }, []);
    expect(m.response.result).toEqual({
      content: [
        { type: "text", text: "token [masked:github-pat]" },
        { type: "resource", resource: { uri: "file:///x", mimeType: "text/plain", text: "k=[masked:slot:ro]" } },
        { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
      ],
      structuredContent: { token: "[masked:github-pat]", count: 2, nested: [{ secret: "[masked:slot:ro]" }] },
      isError: false,
    });
    expect(m.hits).toEqual({ "github-pat": 2, "slot:ro": 2 });
    expect(resultRecord(m)).toMatchObject({
      masked: { "github-pat": 2, "slot:ro": 2 },
      streams: { result: { bytes: expect.any(Number) } },
    });
  });

  it("masks an error's message too, and the instance's own token", () => {
    const instanceToken = j("instance-", rand(24));
    const err = {
      jsonrpc: "2.0" as const,
      id: 1,
      error: { code: -32000, message: `bad credentials: ${instanceToken}` },
    };
    const m = maskToolResponse(err, { secrets: [] }, [{ value: instanceToken, kind: "slot:write" }]);
    expect(m.response.error?.message).toBe("bad credentials: [masked:slot:write]");
  });

  it("returns the answer itself when there is nothing to mask", () => {
    const clean = { jsonrpc: "2.0" as const, id: 3, result: { content: [{ type: "text", text: "ok" }] } };
    expect(maskToolResponse(clean, { secrets: [] }, []).response).toBe(clean);
  });

  it("an answer that cannot be checked is withheld as a tool error, never passed on", () => {
    const m = maskToolResponse(
      answer,
      {
        secrets: [],
        checkpoint: () => {
          throw new Error("boom");
        },
      },
      [],
    );
    expect(m.response).toEqual({
      jsonrpc: "2.0",
      id: 7,
      result: {
        content: [
          { type: "text", text: expect.stringMatching(/^downscope could not check this result for secrets \(boom\)/) },
        ],
        isError: true,
      },
    });
    expect(JSON.stringify(m.response)).not.toContain(pat);
    expect(resultRecord(m).withheld).toMatch(/boom/);
  });
});

describe("mcp-proxy masks with a real server", () => {
  let open: Connected[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.client.close().catch(() => undefined);
  });

  it("echo of a token-shaped string and get-env's own slot token come back masked, and the call is recorded", async () => {
    const sb = sandbox();
    userPolicy(
      sb,
      `version: 1\nservices:\n  everything:\n    server: everything\n    token_slots: { ro: { env_var: EVERY_SRC, inject_as: EVERY_TOKEN } }\n    default_slot: ro\n`,
    );
    const c = await connect(sb, {
      server: "everything",
      upstream: [serverEntry("@modelcontextprotocol/server-everything"), "stdio"],
      env: { EVERY_SRC: SLOT },
    });
    open.push(c);
    const pat = fake.githubPat();
    const echo = await c.client.callTool({ name: "echo", arguments: { message: `here: ${pat}` } });
    expect(text(echo)).toBe("Echo: here: [masked:github-pat]");
    const env = JSON.parse(text(await c.client.callTool({ name: "get-env", arguments: {} }))) as Record<string, string>;
    expect(env.EVERY_TOKEN).toBe("[masked:slot:ro]");
    expect(JSON.stringify(env)).not.toContain(SLOT);
    await c.client.close();
    open = [];
    const log = readFileSync(join(sb.env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
    expect(log).not.toContain(SLOT);
    expect(log).not.toContain(pat);
    const results = log
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; tool?: string; output?: { masked?: Record<string, number> } })
      .filter((e) => e.event === "mcp" && e.output !== undefined);
    expect(results.map((e) => [e.tool, e.output?.masked])).toEqual([
      ["echo", { "github-pat": 1 }],
      ["get-env", { "slot:ro": 1 }],
    ]);
  });
});
