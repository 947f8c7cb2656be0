/**
 * JSON-RPC 2.0 message shapes (https://www.jsonrpc.org/specification) as MCP
 * uses them. The guards are plain structural checks, not the SDK's zod
 * schemas: those are strict and would reject (or strip) fields a newer client
 * or server adds, and a proxy must forward what it does not understand. The
 * payloads downscope builds itself are typed with the SDK's types (proxy.ts).
 */
import type { RequestId } from "@modelcontextprotocol/sdk/types.js";

export type { RequestId };
type Obj = Record<string, unknown>;

export interface JSONRPCRequest {
  jsonrpc: "2.0";
  id: RequestId;
  method: string;
  params?: Obj;
}
export interface JSONRPCNotification {
  jsonrpc: "2.0";
  method: string;
  params?: Obj;
}
export interface JSONRPCResponse {
  jsonrpc: "2.0";
  id: RequestId;
  result?: Obj;
  error?: { code: number; message: string; data?: unknown };
}
export type JSONRPCMessage = JSONRPCRequest | JSONRPCNotification | JSONRPCResponse;

/** JSON-RPC error codes (spec section 5.1). */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isId(v: unknown): v is RequestId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

export function isRequest(m: unknown): m is JSONRPCRequest {
  return isObj(m) && typeof m.method === "string" && isId(m.id);
}

export function isNotification(m: unknown): m is JSONRPCNotification {
  return isObj(m) && typeof m.method === "string" && !("id" in m);
}

export function isResponse(m: unknown): m is JSONRPCResponse {
  return isObj(m) && !("method" in m) && isId(m.id) && ("result" in m || "error" in m);
}

export type Parsed =
  | { kind: "request"; msg: JSONRPCRequest }
  | { kind: "notification"; msg: JSONRPCNotification }
  | { kind: "response"; msg: JSONRPCResponse }
  | { kind: "invalid"; id: RequestId | null; why: string }
  | { kind: "parse-error"; why: string };

/** One line of the stream → what it is. Never throws. */
export function parseLine(line: string): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { kind: "parse-error", why: e instanceof Error ? e.message : String(e) };
  }
  if (isRequest(v)) return { kind: "request", msg: v };
  if (isNotification(v)) return { kind: "notification", msg: v };
  if (isResponse(v)) return { kind: "response", msg: v };
  const id = isObj(v) && isId(v.id) ? v.id : null;
  return {
    kind: "invalid",
    id,
    why: Array.isArray(v) ? "batches are not used by MCP" : "not a JSON-RPC 2.0 request, notification or response",
  };
}

/** An error answer. A parse error has no id to answer: JSON-RPC says `id: null` then. */
export function errorResponse(id: RequestId | null, code: number, message: string): Obj {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

export function serialize(m: JSONRPCMessage | Obj): string {
  return JSON.stringify(m) + "\n";
}
