/**
 * Hashing for the hot paths without paying for node:crypto at startup:
 * loading it (and the stream modules it pulls in) costs a process about 5 ms,
 * more than everything else a hook run does. Small inputs are hashed in
 * JavaScript (src/sha256.ts, bit-identical, tested against node:crypto);
 * large ones, and everything once node:crypto is loaded, use node:crypto.
 */
import type * as Crypto from "node:crypto";
import type { BinaryLike } from "node:crypto";
import { hmacSha256, sha256, toHex } from "./sha256.js";

/** Above this many bytes node:crypto is cheaper than hashing in JavaScript, even counting its load. */
const SMALL = 4096;
let loaded: typeof Crypto | undefined;

/** node:crypto, loaded on first use. */
export function nodeCrypto(): typeof Crypto {
  return (loaded ??= process.getBuiltinModule("node:crypto"));
}

const small = (data: BinaryLike): data is string | Uint8Array =>
  loaded === undefined &&
  ((typeof data === "string" && data.length <= SMALL / 3) || (data instanceof Uint8Array && data.length <= SMALL));

export function sha256Hex(data: BinaryLike): string {
  if (small(data)) return toHex(sha256(data));
  return nodeCrypto().createHash("sha256").update(data).digest("hex");
}

export function hmacSha256Hex(key: Uint8Array, data: string): string {
  if (small(data)) return toHex(hmacSha256(key, data));
  return nodeCrypto().createHmac("sha256", key).update(data, "utf8").digest("hex");
}
