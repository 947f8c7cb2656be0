/* eslint-disable @typescript-eslint/no-explicit-any -- recorded JSON of an external protocol */
/**
 * A scripted Anthropic Messages API on loopback for end-to-end tests with the
 * real Claude Code CLI (https://docs.anthropic.com/en/api/messages-streaming).
 * The main conversation (a request offering the Bash tool) gets a `tool_use`
 * for Bash with the scripted command first, then text; every other request
 * (titles, summaries) gets text. Every request body is recorded.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeApi {
  url: string;
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

export async function startFakeApi(command: string): Promise<FakeApi> {
  const requests: FakeApi["requests"] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      let body: any = {};
      try {
        body = raw === "" ? {} : JSON.parse(raw);
      } catch {
        body = { raw };
      }
      requests.push({ path: req.url ?? "", body });
      if (!(req.url ?? "").startsWith("/v1/messages") || req.method !== "POST") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not here" } }));
        return;
      }
      if ((req.url ?? "").startsWith("/v1/messages/count_tokens")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      const offersBash = Array.isArray(body.tools) && body.tools.some((t: any) => t?.name === "Bash");
      const hasToolResult = JSON.stringify(body.messages ?? []).includes('"tool_result"');
      const content =
        offersBash && !hasToolResult
          ? [{ type: "tool_use", id: `toolu_e2e_${++n}`, name: "Bash", input: { command, description: "scripted" } }]
          : [{ type: "text", text: "done" }];
      const stop = content[0]!.type === "tool_use" ? "tool_use" : "end_turn";
      const message = {
        id: `msg_e2e_${++n}`,
        type: "message",
        role: "assistant",
        model: body.model ?? "claude-sonnet-4-5",
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 5 },
      };
      if (!body.stream) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(message));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send("message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } });
      content.forEach((block, index) => {
        if (block.type === "tool_use") {
          send("content_block_start", { type: "content_block_start", index, content_block: { ...block, input: {} } });
          send("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "input_json_delta", partial_json: JSON.stringify((block as any).input) },
          });
        } else {
          send("content_block_start", {
            type: "content_block_start",
            index,
            content_block: { type: "text", text: "" },
          });
          send("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "text_delta", text: (block as any).text },
          });
        }
        send("content_block_stop", { type: "content_block_stop", index });
      });
      send("message_delta", {
        type: "message_delta",
        delta: { stop_reason: stop, stop_sequence: null },
        usage: { output_tokens: 5 },
      });
      send("message_stop", { type: "message_stop" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
