/**
 * How downscope tells its own decision service from a process that took its
 * port: a challenge answered with an HMAC under the identity key
 * (src/serve/config.ts), which only the service and the user's own downscope
 * commands read and which no request carries. The request key does not do
 * for this: Claude Code sends it to whatever listens on the port.
 *
 * `downscope serve --ensure` (the SessionStart hook) checks it before it
 * counts a service as running; `downscope serve --status` and `doctor` too.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const DOMAIN = "downscope serve identity v1\0";

export const newChallenge = () => randomBytes(24).toString("base64url");

export function proof(identityKey: Buffer, challenge: string): string {
  return createHmac("sha256", identityKey)
    .update(DOMAIN + challenge)
    .digest("base64url");
}

export function verifyProof(identityKey: Buffer, challenge: string, answer: unknown): boolean {
  if (typeof answer !== "string") return false;
  const want = Buffer.from(proof(identityKey, challenge));
  const got = Buffer.from(answer);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A challenge as the service accepts it: what newChallenge makes, nothing else. */
export const CHALLENGE = /^[A-Za-z0-9_-]{32}$/;
