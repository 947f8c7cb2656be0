/**
 * What a masked secret becomes (pure, and small: downscope-exec loads it
 * without the token rules). A replacement is never longer than what it
 * replaces and holds no quote, backslash or newline, so masking inside JSON
 * text leaves it valid, and no line grows.
 */

/** Shorter known values are not masked: too many ordinary words would match. */
export const MIN_SECRET_LENGTH = 8;

export function replacementFor(kind: string, length: number): string {
  const label = `[masked:${kind}]`;
  if (label.length <= length) return label;
  return length >= 8 ? "[masked]" : "*".repeat(length);
}
