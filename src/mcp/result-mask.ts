/**
 * Masking what an MCP server answers to `tools/call` (and `tasks/result`),
 * before the client and its model see it (pure): every string of the result
 * — text content, structured content, embedded resource contents, `_meta` —
 * and of an error's message and data, through the shared masking
 * (src/mask/mask.ts). Keys and shape stay, so the result still validates
 * against the tool's output schema. The proxy also knows the token of the
 * instance that answered: masked as `[masked:slot:<name>]` or
 * `[masked:credential]`.
 *
 * https://modelcontextprotocol.io/specification/2025-06-18/server/tools#tool-result
 */
import type { OutputRecord } from "../audit/record.js";
import { sha256Hex } from "../lazy-crypto.js";
import { maskValue, totalHits, withhold, type Hits, type KnownSecret, type Masker } from "../mask/mask.js";
import type { JSONRPCResponse } from "./jsonrpc.js";

export interface MaskedResponse {
  response: JSONRPCResponse;
  /** What was masked; undefined when masking failed and the answer was withheld. */
  hits?: Hits;
  /** Why the answer was withheld. */
  withheld?: string;
}

/** The response with every secret masked; on any error, a tool error that withholds it. */
export function maskToolResponse(
  r: JSONRPCResponse,
  masker: Masker,
  instanceSecrets: readonly KnownSecret[],
): MaskedResponse {
  try {
    const hits: Hits = {};
    const m: Masker =
      instanceSecrets.length === 0 ? masker : { ...masker, secrets: [...instanceSecrets, ...masker.secrets] };
    const result = r.result === undefined ? undefined : maskValue(r.result, m, hits);
    const error = r.error === undefined ? undefined : maskValue(r.error, m, hits);
    if (totalHits(hits) === 0) return { response: r, hits };
    return {
      response: {
        ...r,
        ...(result !== undefined ? { result: result as Record<string, unknown> } : {}),
        ...(error !== undefined ? { error: error as JSONRPCResponse["error"] } : {}),
      },
      hits,
    };
  } catch (e) {
    const why = `downscope could not check this result for secrets (${e instanceof Error ? e.message : String(e)}), so it is withheld`;
    const result = { content: [{ type: "text", text: why }], isError: true };
    return { response: { jsonrpc: "2.0", id: r.id, result }, withheld: why };
  }
}

/** What a tools/call returned, for the audit trail: the delivered result's size and sha256, what was masked. */
export function resultRecord(m: MaskedResponse): OutputRecord {
  const text = JSON.stringify(m.response.result ?? m.response.error ?? null);
  const bytes = Buffer.byteLength(text);
  return {
    streams: { result: { bytes, sha256: sha256Hex(text) } },
    ...(m.hits !== undefined && totalHits(m.hits) > 0 ? { masked: m.hits } : {}),
    ...(m.withheld !== undefined ? { withheld: m.withheld } : {}),
  };
}

export { withhold };
