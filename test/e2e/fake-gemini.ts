/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * A scripted Gemini API on loopback for end-to-end tests with the real Gemini
 * CLI (https://ai.google.dev/api/generate-content; the CLI is pointed at it
 * with GOOGLE_GEMINI_BASE_URL). Each model turn answers with the next scripted
 * function call, counted by the functionResponse parts already in the
 * conversation, then with text. Every request body is recorded.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGemini {
  url: string;
  requests: { path: string; body: any }[];
  close(): Promise<void>;
}

export interface FunctionCall {
  name: string;
  args: Record<string, unknown>;
}

export async function startFakeGemini(calls: FunctionCall[]): Promise<FakeGemini> {
  const requests: FakeGemini["requests"] = [];
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
      const done = JSON.stringify(body.contents ?? []).split('"functionResponse"').length - 1;
      const call = calls[done];
      const chunk = {
        candidates: [
          {
            content: { role: "model", parts: [call ? { functionCall: call } : { text: "done" }] },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      };
      if (path.includes(":streamGenerateContent")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`data: ${JSON.stringify(chunk)}\n\n`);
      } else if (path.includes(":countTokens")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ totalTokens: 10 }));
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(chunk));
      }
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

/** The functionResponse parts the CLI sent back to the model, in order. */
export function functionResponses(api: FakeGemini): any[] {
  const last = api.requests.filter((r) => Array.isArray(r.body.contents)).at(-1);
  return (last?.body.contents ?? [])
    .flatMap((c: any) => (Array.isArray(c.parts) ? c.parts : []))
    .filter((p: any) => p.functionResponse)
    .map((p: any) => p.functionResponse);
}
