/**
 * Secrets known by keyed fingerprint only (pure, given the key). Some values
 * downscope hands out are read from sources the masking hook must not read
 * on every tool call: a password manager's `command:`, the system keyring, a
 * freshly minted GitHub App or Kubernetes token, an STS session. Where they
 * are handed out (downscope-exec, credential-process, mcp-proxy), each value
 * is remembered as a fingerprint, never as text (src/mask/known-secrets.ts):
 *
 *   { len, roll, mac }   len:  its length in UTF-16 code units;
 *                        roll: a polynomial hash of it, mod 2^32, whose base
 *                              is derived from the key;
 *                        mac:  HMAC-SHA256(key, value), first 32 hex digits.
 *
 * Finding them in text: for each length in the set, one pass of a rolling
 * hash over every window of that length (Rabin-Karp), and an HMAC only where
 * the roll matches. Without the key (kept with the audit key, which contained
 * mode hides from the agent's sandbox) an entry reveals nothing usable: not
 * its characters, and, for a value of any strength, no way to test guesses.
 */
import { hmacSha256Hex } from "../lazy-crypto.js";
import type { Hits } from "./mask.js";
import { MIN_SECRET_LENGTH, replacementFor } from "./replacement.js";

export interface Fingerprint {
  len: number;
  roll: number;
  mac: string;
}

/** What a fingerprinted value may be made of: a value with whitespace, a quote or a backslash is found by its source only. */
const TOKEN_CHAR = "[^\\s\"'`\\\\]";
export const FINGERPRINTABLE = new RegExp(`^${TOKEN_CHAR}+$`);

/** The longest value fingerprinted (an AWS session token is about 1 KB, a service account JWT about 1.5 KB). */
export const MAX_FINGERPRINT_LENGTH = 8192;
/** Distinct lengths scanned per text; beyond this the oldest are not looked for (each costs one pass). */
export const MAX_LENGTHS = 16;

const baseOf = (key: Uint8Array) => (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24) | 1) >>> 0;

function roll(value: string, base: number): number {
  let h = 0;
  for (let i = 0; i < value.length; i++) h = (Math.imul(h, base) + value.charCodeAt(i)) | 0;
  return h >>> 0;
}

const macOf = (key: Uint8Array, value: string) => hmacSha256Hex(key, value).slice(0, 32);

export function fingerprint(value: string, key: Uint8Array): Fingerprint {
  return { len: value.length, roll: roll(value, baseOf(key)), mac: macOf(key, value) };
}

export interface FingerprintMatcher {
  /** Replaces every window of `text` that is a fingerprinted value with `[masked:<kind>]`. */
  mask(text: string, hits: Hits): string;
}

export function fingerprintMatcher(
  entries: readonly Fingerprint[],
  key: Uint8Array,
  kind = "credential",
): FingerprintMatcher | undefined {
  const base = baseOf(key);
  // length → roll → macs
  const byLength = new Map<number, Map<number, Set<string>>>();
  for (const e of entries) {
    if (!Number.isInteger(e.len) || e.len < MIN_SECRET_LENGTH || e.len > MAX_FINGERPRINT_LENGTH) continue;
    if (!byLength.has(e.len) && byLength.size >= MAX_LENGTHS) continue;
    const rolls = byLength.get(e.len) ?? new Map<number, Set<string>>();
    byLength.set(e.len, rolls);
    const macs = rolls.get(e.roll >>> 0) ?? new Set<string>();
    rolls.set(e.roll >>> 0, macs);
    macs.add(e.mac);
  }
  if (byLength.size === 0) return undefined;
  // base^(len-1), to take the leaving character out of the window's hash.
  const top = new Map<number, number>();
  // The low 16 bits of each length's rolls: a window whose hash misses here needs no Map lookup.
  const low = new Map<number, Uint8Array>();
  for (const [len, rolls] of byLength) {
    let p = 1;
    for (let i = 1; i < len; i++) p = Math.imul(p, base);
    top.set(len, p);
    const bits = new Uint8Array(65536);
    for (const r of rolls.keys()) bits[r & 0xffff] = 1;
    low.set(len, bits);
  }
  // Windows are looked for only inside runs of characters a credential is made of (no whitespace,
  // quote or backslash): the regex engine finds those runs natively, so ordinary text costs almost nothing.
  const runs = new Map([...byLength.keys()].map((len) => [len, new RegExp(`${TOKEN_CHAR}{${len},}`, "g")]));
  return {
    mask(text, hits) {
      let out = text;
      for (const [len, rolls] of byLength) {
        if (out.length < len) continue;
        const spans: [number, number][] = [];
        const high = top.get(len)!;
        const bits = low.get(len)!;
        const run = runs.get(len)!;
        run.lastIndex = 0;
        for (let m = run.exec(out); m !== null; m = run.exec(out)) {
          const from = m.index;
          const to = from + m[0].length;
          let h = 0;
          for (let i = from; i < from + len; i++) h = (Math.imul(h, base) + out.charCodeAt(i)) | 0;
          for (let start = from; ; start++) {
            const macs = bits[h & 0xffff] === 1 ? rolls.get(h >>> 0) : undefined;
            if (macs !== undefined && (spans.length === 0 || start >= spans[spans.length - 1]![1])) {
              if (macs.has(macOf(key, out.slice(start, start + len)))) spans.push([start, start + len]);
            }
            const end = start + len;
            if (end >= to) break;
            h = (Math.imul(h - Math.imul(out.charCodeAt(start), high), base) + out.charCodeAt(end)) | 0;
          }
        }
        if (spans.length === 0) continue;
        let next = "";
        let at = 0;
        for (const [a, b] of spans) {
          next += out.slice(at, a) + replacementFor(kind, len);
          at = b;
          hits[kind] = (hits[kind] ?? 0) + 1;
        }
        out = next + out.slice(at);
      }
      return out;
    },
  };
}
