/* eslint-disable @typescript-eslint/no-explicit-any -- recorded JSON of an external protocol */
/**
 * A scripted Anthropic Messages API on loopback that plays several tool uses
 * in one session, one per turn: the main conversation (a request that offers
 * the Bash tool) gets step k as a `tool_use` when its messages already hold k
 * tool_result blocks, then text once the script is exhausted. Every other
 * request (titles, summaries, classifiers) gets text. Every request body is
 * recorded, so the caller reads what the model "saw" from the last one.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A scripted step: a Bash command, or any tool call (Write, Edit, Read…). */
export type Step = string | { tool: string; input: Record<string, unknown> };

export interface MultiFakeApi {
  url: string;
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

const toolUse = (step: Step) =>
  typeof step === "string"
    ? { name: "Bash", input: { command: step, description: "scripted" } }
    : { name: step.tool, input: step.input };

export function countToolResults(messages: any[]): number {
  let k = 0;
  for (const m of messages ?? [])
    if (Array.isArray(m?.content)) for (const c of m.content) if (c?.type === "tool_result") k++;
  return k;
}

export interface FakeApiOptions {
  /**
   * Runs before the main conversation is sent step k (0-based) as its next
   * tool use, once per step (a test kills a process between two tool calls).
   */
  beforeStep?: (k: number) => void | Promise<void>;
}

export async function startMultiFakeApi(steps: Step[], opts: FakeApiOptions = {}): Promise<MultiFakeApi> {
  const requests: MultiFakeApi["requests"] = [];
  let n = 0;
  const done = new Set<number>();
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => void answer());
    const answer = async () => {
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
      const main = Array.isArray(body.tools) && body.tools.some((t: any) => t?.name === "Bash");
      const k = countToolResults(body.messages);
      if (main && k < steps.length && opts.beforeStep && !done.has(k)) {
        done.add(k);
        await opts.beforeStep(k);
      }
      const content: any[] =
        main && k < steps.length
          ? [{ type: "tool_use", id: `toolu_e2e_${++n}`, ...toolUse(steps[k]!) }]
          : [{ type: "text", text: "done" }];
      const stop = content[0].type === "tool_use" ? "tool_use" : "end_turn";
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
            delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
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
            delta: { type: "text_delta", text: block.text },
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
    };
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
