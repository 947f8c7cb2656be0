/**
 * The masking core (src/mask/mask.ts, src/mask/fingerprints.ts): known values
 * exactly and by fingerprint, strings only, JSON stays valid, nothing grows,
 * and a withheld output keeps its shape.
 */
import { describe, expect, it } from "vitest";
import { fingerprint, fingerprintMatcher, FINGERPRINTABLE } from "../../src/mask/fingerprints.js";
import { maskText, maskValue, replacementFor, withhold, type Hits, type Masker } from "../../src/mask/mask.js";
import { fake, rand } from "../helpers/fake-secrets.js";

const KEY = Buffer.alloc(32, 7);

describe("masking", () => {
  it("masks a known value exactly, in its JSON-escaped spelling too, and names its kind", () => {
    const secret = `pa"ss\\word-${rand(12)}`;
    const m: Masker = { secrets: [{ value: secret, kind: "slot:ro" }], rules: [] };
    const hits: Hits = {};
    const out = maskText(`a ${secret} b ${JSON.stringify(secret)} c`, m, hits);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(hits).toEqual({ "slot:ro": 2 });
  });

  it("does not mask known values shorter than 8 characters (ordinary words would match)", () => {
    const m: Masker = { secrets: [{ value: "abc", kind: "slot:x" }], rules: [] };
    expect(maskText("abc abc abcdefgh", m)).toBe("abc abc abcdefgh");
  });

  it("a replacement is never longer than what it replaces", () => {
    for (let n = 1; n < 40; n++) expect(replacementFor("aws-secret-key", n).length).toBeLessThanOrEqual(n);
    expect(replacementFor("github-pat", 40)).toBe("[masked:github-pat]");
    expect(replacementFor("a-very-long-kind-name-indeed", 12)).toBe("[masked]");
    expect(replacementFor("x", 5)).toBe("*****");
  });

  it("changes strings only: keys, numbers, booleans, nulls and shape stay; JSON stays valid; nothing grows", () => {
    const token = fake.githubPat();
    const known = rand(30);
    const m: Masker = { secrets: [{ value: known, kind: "slot:ro" }] };
    for (let i = 0; i < 200; i++) {
      const value = randomJson(4, [token, known, fake.awsKeyId(), fake.jwt()]);
      const masked = maskValue(value, m);
      const text = JSON.stringify(masked);
      expect(JSON.parse(text)).toEqual(masked);
      expect(text).not.toContain(token);
      expect(text).not.toContain(known);
      sameShape(value, masked);
    }
  });

  it("returns the very same object when nothing was masked", () => {
    const v = { a: ["x", { b: "y" }], n: 1 };
    expect(maskValue(v, { secrets: [] })).toBe(v);
  });

  it("masks JSON text (a CLI's JSON output) and leaves it valid", () => {
    const t = fake.githubApp();
    const text = JSON.stringify({ token: t, list: [`Bearer ${t}`, "ok"], nested: { env: `GH_TOKEN=${t}\n` } }, null, 2);
    const out = maskText(text, { secrets: [] });
    expect(out).not.toContain(t);
    expect(JSON.parse(out)).toEqual({
      token: "[masked:github-app]",
      list: ["Bearer [masked:github-app]", "ok"],
      nested: { env: "GH_TOKEN=[masked:github-app]\n" },
    });
  });

  it("withhold keeps the shape (type/mode discriminators too) and puts the notice in every other string", () => {
    const read = { type: "text", file: { filePath: "/p/.env", content: "A=1", numLines: 1 } };
    expect(withhold(read, "N")).toEqual({ type: "text", file: { filePath: "N", content: "N", numLines: 1 } });
    const bash = { stdout: "x", stderr: "", interrupted: false, isImage: false };
    expect(withhold(bash, "N")).toEqual({ stdout: "N", stderr: "N", interrupted: false, isImage: false });
    expect(withhold([{ type: "text", text: "t" }], "N")).toEqual([{ type: "text", text: "N" }]);
    expect(withhold("plain", "N")).toBe("N");
  });

  it("stops at a checkpoint that throws (the hook's deadline)", () => {
    let n = 0;
    const m: Masker = {
      secrets: [],
      checkpoint: () => {
        if (++n > 3) throw new Error("deadline");
      },
    };
    expect(() => maskText(`x ${fake.githubPat()} ${"y".repeat(100)}`, m)).toThrow("deadline");
  });
});

describe("fingerprints", () => {
  it("find a remembered value by its keyed fingerprint alone, anywhere, as often as it occurs", () => {
    const secret = rand(40);
    const other = rand(40);
    const matcher = fingerprintMatcher([fingerprint(secret, KEY), fingerprint(rand(1200), KEY)], KEY)!;
    const hits: Hits = {};
    const out = matcher.mask(`${secret}|x${secret}y|${other}|${secret}`, hits);
    expect(out).toBe(`[masked:credential]|x[masked:credential]y|${other}|[masked:credential]`);
    expect(hits).toEqual({ credential: 3 });
  });

  it("a fingerprint holds neither the value nor a part of it, and another key finds nothing", () => {
    const secret = rand(40);
    const f = fingerprint(secret, KEY);
    expect(JSON.stringify(f)).not.toContain(secret.slice(0, 4));
    expect(Object.keys(f).sort()).toEqual(["len", "mac", "roll"]);
    const wrong = fingerprintMatcher([f], Buffer.alloc(32, 9))!;
    expect(wrong.mask(`a ${secret} b`, {})).toBe(`a ${secret} b`);
  });

  it("finds a value inside JSON, after '=' or ':', and at the ends of a line", () => {
    const secret = rand(40);
    const matcher = fingerprintMatcher([fingerprint(secret, KEY)], KEY)!;
    for (const text of [
      `{"token":"${secret}"}`,
      `GH_TOKEN=${secret}`,
      `Authorization: token ${secret}`,
      secret,
      `${secret}\n`,
    ])
      expect(matcher.mask(text, {}), text).not.toContain(secret);
  });

  it("only values without whitespace, quotes or backslashes are fingerprinted (others are found by their source)", () => {
    expect(FINGERPRINTABLE.test(rand(30))).toBe(true);
    expect(FINGERPRINTABLE.test("a passphrase with spaces")).toBe(false);
    expect(FINGERPRINTABLE.test('quote"inside-value')).toBe(false);
  });

  it("ignores entries that could mask ordinary text (too short, malformed)", () => {
    expect(fingerprintMatcher([{ len: 3, roll: 1, mac: "x" }], KEY)).toBeUndefined();
    expect(fingerprintMatcher([{ len: Number.NaN, roll: 1, mac: "x" }], KEY)).toBeUndefined();
  });

  it("never leaves a value half-masked when windows overlap", () => {
    const secret = "abababababababab";
    const matcher = fingerprintMatcher([fingerprint(secret, KEY)], KEY)!;
    const out = matcher.mask(`${secret}ab`, {});
    expect(out).toBe("[masked]ab");
  });
});

function randomJson(depth: number, secrets: string[]): unknown {
  const r = Math.random();
  const s = () => {
    const parts = [rand(5), secrets[Math.floor(Math.random() * secrets.length)]!, rand(3)];
    return Math.random() < 0.5 ? parts.join(" ") : rand(10);
  };
  if (depth === 0 || r < 0.3) return [s(), 42, true, null][Math.floor(Math.random() * 4)];
  if (r < 0.65) return Array.from({ length: 3 }, () => randomJson(depth - 1, secrets));
  return Object.fromEntries(
    Array.from({ length: 3 }, (_, i) => [`k${i}_${secrets[0]!.slice(0, 2)}`, randomJson(depth - 1, secrets)]),
  );
}

function sameShape(a: unknown, b: unknown): void {
  if (typeof a === "string") {
    expect(typeof b).toBe("string");
    expect((b as string).length).toBeLessThanOrEqual(a.length);
    return;
  }
  if (Array.isArray(a)) {
    expect(Array.isArray(b)).toBe(true);
    expect((b as unknown[]).length).toBe(a.length);
    a.forEach((x, i) => sameShape(x, (b as unknown[])[i]));
    return;
  }
  if (a !== null && typeof a === "object") {
    expect(Object.keys(b as object)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) sameShape((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    return;
  }
  expect(b).toBe(a);
}
