/**
 * Masking a byte stream (src/mask/stream-masker.ts): a credential split at any
 * point between chunks is still masked, nothing else changes, nothing grows.
 */
import { describe, expect, it } from "vitest";
import { StreamMasker } from "../../src/mask/stream-masker.js";
import { rand } from "../helpers/fake-secrets.js";

function through(m: StreamMasker, chunks: Buffer[]): Buffer {
  const out = chunks.map((c) => m.push(c));
  out.push(m.flush());
  return Buffer.concat(out);
}

describe("stream masker", () => {
  const secret = rand(40);
  const text = Buffer.from(`start ${secret} middle ${secret}\nend ${secret}`);

  it("masks a credential split between chunks at every position", () => {
    for (let a = 1; a < text.length; a++) {
      const m = new StreamMasker([{ value: secret, kind: "slot:ro" }]);
      const out = through(m, [text.subarray(0, a), text.subarray(a)]).toString();
      expect(out, `split at ${a}`).toBe("start [masked:slot:ro] middle [masked:slot:ro]\nend [masked:slot:ro]");
      expect(m.hits).toEqual({ "slot:ro": 3 });
    }
  });

  it("masks byte by byte too, and with two credentials of different lengths", () => {
    const short = rand(12);
    const m = new StreamMasker([
      { value: short, kind: "credential" },
      { value: secret, kind: "slot:ro" },
    ]);
    const input = Buffer.from(`${short}|${secret}|${short}${secret}`);
    const out = through(
      m,
      [...input].map((b) => Buffer.from([b])),
    ).toString();
    expect(out).toBe("[masked]|[masked:slot:ro]|[masked][masked:slot:ro]");
  });

  it("leaves everything else byte for byte, binary included, and passes chunks on unchanged without credentials", () => {
    const bin = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    const m = new StreamMasker([{ value: secret, kind: "x" }]);
    expect(through(m, [bin.subarray(0, 100), bin.subarray(100)])).toEqual(bin);
    const none = new StreamMasker([]);
    const chunk = Buffer.from("as is");
    expect(none.push(chunk)).toBe(chunk);
  });

  it("holds back at most the longest credential's length less one byte", () => {
    const m = new StreamMasker([{ value: secret, kind: "x" }]);
    const out = m.push(Buffer.from("a".repeat(100)));
    expect(out.length).toBe(100 - (secret.length - 1));
    expect(m.flush().length).toBe(secret.length - 1);
  });

  it("masks the JSON-escaped spelling of a credential too", () => {
    const odd = `${rand(10)}"${rand(10)}`;
    const m = new StreamMasker([{ value: odd, kind: "slot:x" }]);
    expect(through(m, [Buffer.from(JSON.stringify({ t: odd }))]).toString()).toBe('{"t":"[masked:slot:x]"}');
  });
});
