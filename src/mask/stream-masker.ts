/**
 * Masking exact values in a byte stream as it passes (pure): what
 * downscope-exec does to the output of the command it runs, for the very
 * credentials it handed that command (docs/adr/ADR-031-exec-output-tap.md).
 *
 * A value can arrive split across chunks, so the last (longest value − 1)
 * bytes are held back until more data shows whether a value starts there;
 * a value that starts before that point lies wholly inside what has arrived
 * and is found. `flush()` gives back what is held (at the end, or when the
 * stream has been idle, so prompts without a newline still show).
 * Replacements are never longer than what they replace and hold no quote,
 * backslash or newline. Binary-safe: bytes, not text.
 */
import { replacementFor } from "./replacement.js";

export interface StreamSecret {
  value: string;
  kind: string;
}

export class StreamMasker {
  private readonly needles: { bytes: Buffer; replacement: Buffer; kind: string }[];
  private readonly hold: number;
  private carry: Buffer = Buffer.alloc(0);
  /** Kind → how many were masked. */
  readonly hits: Record<string, number> = {};

  constructor(secrets: readonly StreamSecret[]) {
    const seen = new Set<string>();
    this.needles = [];
    for (const s of secrets) {
      for (const spelling of [s.value, JSON.stringify(s.value).slice(1, -1)]) {
        if (spelling.length < 8 || seen.has(spelling)) continue;
        seen.add(spelling);
        const bytes = Buffer.from(spelling, "utf8");
        this.needles.push({ bytes, replacement: Buffer.from(replacementFor(s.kind, bytes.length)), kind: s.kind });
      }
    }
    // Longest first: a value that contains another is masked whole.
    this.needles.sort((a, b) => b.bytes.length - a.bytes.length);
    this.hold = this.needles.length === 0 ? 0 : this.needles[0]!.bytes.length - 1;
  }

  get masking(): boolean {
    return this.needles.length > 0;
  }

  /** Bytes that may go out now. */
  push(chunk: Buffer): Buffer {
    if (this.needles.length === 0) return chunk;
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    let cut = Math.max(0, buf.length - this.hold);
    const spans = this.find(buf, cut);
    for (const s of spans) if (s.end > cut) cut = s.end;
    this.carry = Buffer.from(buf.subarray(cut));
    return this.replace(buf.subarray(0, cut), spans);
  }

  /** Everything held back (the end of the stream, or an idle pause). */
  flush(): Buffer {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return this.replace(rest, this.find(rest, rest.length));
  }

  /** Non-overlapping occurrences starting before `before`, in order. */
  private find(buf: Buffer, before: number): { start: number; end: number; n: number }[] {
    const spans: { start: number; end: number; n: number }[] = [];
    this.needles.forEach((needle, n) => {
      for (let at = buf.indexOf(needle.bytes); at !== -1 && at < before; at = buf.indexOf(needle.bytes, at + 1)) {
        const end = at + needle.bytes.length;
        if (!spans.some((s) => at < s.end && end > s.start)) spans.push({ start: at, end, n });
      }
    });
    return spans.sort((a, b) => a.start - b.start);
  }

  private replace(buf: Buffer, spans: { start: number; end: number; n: number }[]): Buffer {
    const inside = spans.filter((s) => s.end <= buf.length);
    if (inside.length === 0) return buf;
    const parts: Buffer[] = [];
    let at = 0;
    for (const s of inside) {
      const needle = this.needles[s.n]!;
      parts.push(buf.subarray(at, s.start), needle.replacement);
      this.hits[needle.kind] = (this.hits[needle.kind] ?? 0) + 1;
      at = s.end;
    }
    parts.push(buf.subarray(at));
    return Buffer.concat(parts);
  }
}
