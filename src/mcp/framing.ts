/**
 * MCP stdio framing: one JSON-RPC message per line, UTF-8, no embedded
 * newlines (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#stdio).
 *
 * The SDK's ReadBuffer caps the whole buffer and drops everything after an
 * overflow; a proxy must keep going, so this reader caps each line instead:
 * an oversized line is skipped up to its newline and reported with its first
 * bytes (enough to find the request id), and the stream carries on.
 */

/** Default per-message limit: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Bytes of an oversized line kept to look for its id. */
const HEAD_BYTES = 4096;

export interface LineSink {
  line: (text: string) => void;
  /** An oversized line was skipped; `head` is its first bytes. */
  oversized: (head: string, bytes: number) => void;
}

export class LineReader {
  private chunks: Buffer[] = [];
  private length = 0;
  /** Skipping an oversized line: its first bytes and how many were seen. */
  private skipping: { head: Buffer; bytes: number } | undefined;

  constructor(
    private readonly sink: LineSink,
    private readonly maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl === -1) return;
      this.finishLine();
      start = nl + 1;
    }
  }

  /** End of stream: a last line without a newline still counts. */
  end(): void {
    if (this.length > 0 || this.skipping) this.finishLine();
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += part.length;
      return;
    }
    if (this.length + part.length > this.maxBytes) {
      const head = Buffer.concat([...this.chunks, part]).subarray(0, HEAD_BYTES);
      this.skipping = { head: Buffer.from(head), bytes: this.length + part.length };
      this.chunks = [];
      this.length = 0;
      return;
    }
    this.chunks.push(Buffer.from(part));
    this.length += part.length;
  }

  private finishLine(): void {
    if (this.skipping) {
      const { head, bytes } = this.skipping;
      this.skipping = undefined;
      this.sink.oversized(head.toString("utf8"), bytes);
      return;
    }
    const text = Buffer.concat(this.chunks, this.length).toString("utf8").replace(/\r$/, "");
    this.chunks = [];
    this.length = 0;
    if (text.trim() !== "") this.sink.line(text);
  }
}

/**
 * The top-level `"id"` of a JSON object from its first bytes, or undefined.
 * Used only for oversized messages, which are never parsed whole.
 */
export function idFromHead(head: string): string | number | undefined {
  let depth = 0;
  let i = 0;
  const n = head.length;
  while (i < n) {
    const c = head[i]!;
    if (c === '"') {
      const str = /^"(?:[^"\\]|\\.)*"/.exec(head.slice(i));
      if (!str) return undefined;
      const after = head.slice(i + str[0].length);
      if (depth === 1 && str[0] === '"id"') {
        const v = /^\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")/.exec(after);
        if (!v) return undefined;
        return v[1]!.startsWith('"') ? (JSON.parse(v[1]!) as string) : Number(v[1]);
      }
      i += str[0].length;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    i++;
  }
  return undefined;
}
