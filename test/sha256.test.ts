/**
 * The JavaScript SHA-256 and HMAC-SHA256 (src/sha256.ts) that the hot paths
 * use for small inputs must be exactly node:crypto's: known-answer vectors
 * (FIPS 180-4 examples, RFC 4231) and a differential run over every length
 * class around the 64-byte block and the 56-byte padding boundary.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacSha256Hex, sha256Hex } from "../src/lazy-crypto.js";
import { hmacSha256, sha256, toHex } from "../src/sha256.js";

const hex = (b: Uint8Array) => toHex(b);

describe("sha256 (JavaScript)", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(hex(sha256(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    expect(hex(sha256("a".repeat(1_000_000)))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  });

  it("equals node:crypto on every length from 0 to 300 bytes and on larger random inputs", () => {
    for (let n = 0; n <= 300; n++) {
      const data = randomBytes(n);
      expect(hex(sha256(data)), `length ${n}`).toBe(createHash("sha256").update(data).digest("hex"));
    }
    for (const n of [511, 512, 513, 4095, 4096, 4097, 65_536, 100_003]) {
      const data = randomBytes(n);
      expect(hex(sha256(data)), `length ${n}`).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });

  it("hashes strings as UTF-8", () => {
    for (const s of ["é", "日本語", "🔑 key", "\u0000", "a\u{10FFFF}b"]) {
      expect(hex(sha256(s))).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
    }
  });
});

describe("hmacSha256 (JavaScript)", () => {
  // RFC 4231, test cases 1, 2, 3, 4, 6 and 7 (5 is a truncated output).
  const cases: [Uint8Array, Uint8Array, string][] = [
    [
      Buffer.alloc(20, 0x0b),
      Buffer.from("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      Buffer.from("Jefe"),
      Buffer.from("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      Buffer.alloc(20, 0xaa),
      Buffer.alloc(50, 0xdd),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      Buffer.from("0102030405060708090a0b0c0d0e0f10111213141516171819", "hex"),
      Buffer.alloc(50, 0xcd),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ],
    [
      Buffer.alloc(131, 0xaa),
      Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      Buffer.alloc(131, 0xaa),
      Buffer.from(
        "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  it("matches the RFC 4231 vectors", () => {
    for (const [key, data, mac] of cases) expect(hex(hmacSha256(key, data))).toBe(mac);
  });

  it("equals node:crypto for random keys (0 to 130 bytes) and messages", () => {
    for (let i = 0; i < 400; i++) {
      const key = randomBytes(i % 131);
      const data = randomBytes((i * 7) % 700);
      expect(hex(hmacSha256(key, data))).toBe(createHmac("sha256", key).update(data).digest("hex"));
    }
  });
});

describe("lazy-crypto", () => {
  it("gives the same answer whichever implementation it picks (small and large inputs)", () => {
    const key = randomBytes(32);
    for (const s of ["", "x", "y".repeat(1365), "z".repeat(1366), "w".repeat(20_000), "é".repeat(2000)]) {
      expect(sha256Hex(s)).toBe(createHash("sha256").update(s).digest("hex"));
      expect(hmacSha256Hex(key, s)).toBe(createHmac("sha256", key).update(s).digest("hex"));
    }
    const big = randomBytes(10_000);
    expect(sha256Hex(big)).toBe(createHash("sha256").update(big).digest("hex"));
  });
});
