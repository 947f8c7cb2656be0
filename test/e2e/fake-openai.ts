/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * A scripted OpenAI-compatible model API on loopback for the end-to-end tests
 * with the real Codex CLI (the Responses API, streamed:
 * https://platform.openai.com/docs/api-reference/responses-streaming),
 * OpenCode, pi and Copilot CLI (Chat Completions, streamed:
 * https://platform.openai.com/docs/api-reference/chat/streaming). Each model
 * turn answers with the next scripted tool call, counted by the tool results
 * already in the conversation, then with the text "done". A request that
 * offers no tools (OpenCode's title of a session) gets text. Every request
 * body is recorded, so a test reads what the model was told.
 */
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ToolCall {
  name: string;
  /** A function tool's arguments. */
  args?: Record<string, unknown>;
  /** A custom (freeform) tool's input: Codex CLI's apply_patch. */
  input?: string;
}

export interface FakeOpenAI {
  /** The base URL, ending in /v1. */
  url: string;
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

export async function startFakeOpenAI(calls: ToolCall[]): Promise<FakeOpenAI> {
  const requests: FakeOpenAI["requests"] = [];
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
      const path = req.url ?? "";
      requests.push({ path, body });
      const noTools = !Array.isArray(body.tools) || body.tools.length === 0;
      if (path.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model" }] }));
      } else if (path.includes("/responses")) {
        const done = (body.input ?? []).filter((i: any) => /^(function|custom_tool)_call_output$/.test(i.type)).length;
        responses(res, noTools ? undefined : calls[done], done);
      } else if (path.includes("/chat/completions")) {
        const done = (body.messages ?? []).filter((m: any) => m.role === "tool").length;
        chat(res, noTools ? undefined : calls[done], done, body.model);
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function responses(res: ServerResponse, call: ToolCall | undefined, n: number) {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const ev = (o: any) => res.write(`event: ${o.type}\ndata: ${JSON.stringify(o)}\n\n`);
  ev({ type: "response.created", response: { id: `resp_${n}` } });
  const item =
    call === undefined
      ? { type: "message", role: "assistant", id: `msg_${n}`, content: [{ type: "output_text", text: "done" }] }
      : call.input !== undefined
        ? { type: "custom_tool_call", id: `ctc_${n}`, call_id: `call_${n}`, name: call.name, input: call.input }
        : {
            type: "function_call",
            id: `fc_${n}`,
            call_id: `call_${n}`,
            name: call.name,
            arguments: JSON.stringify(call.args ?? {}),
          };
  ev({ type: "response.output_item.done", output_index: 0, item });
  ev({
    type: "response.completed",
    response: {
      id: `resp_${n}`,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        total_tokens: 15,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens_details: { reasoning_tokens: 0 },
      },
    },
  });
  res.end();
}

function chat(res: ServerResponse, call: ToolCall | undefined, n: number, model: string) {
  res.writeHead(200, { "content-type": "text/event-stream" });
  const chunk = (delta: any, finish: string | null, extra: any = {}) =>
    res.write(
      `data: ${JSON.stringify({ id: `c${n}`, object: "chat.completion.chunk", created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
    );
  if (call === undefined) {
    chunk({ role: "assistant", content: "done" }, null);
    chunk({}, "stop");
  } else {
    chunk(
      {
        role: "assistant",
        tool_calls: [
          {
            index: 0,
            id: `call_${n}`,
            type: "function",
            function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
          },
        ],
      },
      null,
    );
    chunk({}, "tool_calls");
  }
  res.write(
    `data: ${JSON.stringify({ id: `c${n}`, object: "chat.completion.chunk", created: 1, model, choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } })}\n\n`,
  );
  res.write("data: [DONE]\n\n");
  res.end();
}

/** What the model was told each tool call did, in order (from the last request that carries them). */
export function toolResults(api: FakeOpenAI): string[] {
  for (const r of [...api.requests].reverse()) {
    if (Array.isArray(r.body.input)) {
      const out = r.body.input.filter((i: any) => /^(function|custom_tool)_call_output$/.test(i.type));
      if (out.length > 0)
        return out.map((i: any) => (typeof i.output === "string" ? i.output : JSON.stringify(i.output)));
    }
    if (Array.isArray(r.body.messages)) {
      const out = r.body.messages.filter((m: any) => m.role === "tool");
      if (out.length > 0)
        return out.map((m: any) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content)));
    }
  }
  return [];
}
