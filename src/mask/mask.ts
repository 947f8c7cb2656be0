/**
 * Masking secrets in what a tool returned, before a model sees it (pure).
 * Exposed for every agent adapter and the MCP proxy: build a `Masker` once
 * (src/mask/known-secrets.ts gathers the secrets downscope knows), then
 * `maskText` a string or `maskValue` a parsed JSON value.
 *
 * Two kinds of secret, in this order:
 *   1. the values downscope knows (slot tokens, credentials it handed out),
 *      found exactly (and in their JSON-escaped spelling) or by their keyed
 *      fingerprints (src/mask/fingerprints.ts) → `[masked:<kind>]`;
 *   2. token-shaped strings of well-known formats (src/mask/token-rules.ts).
 *
 * The rules every output keeps:
 *   - only string values change: keys, numbers, booleans, array and object
 *     shapes stay, so JSON stays valid and a tool's output schema still holds;
 *   - a replacement is never longer than what it replaces (`[masked:<kind>]`,
 *     else `[masked]`, else asterisks), so no string, and no line, grows;
 *   - the replacement holds no quote, backslash or newline, so masking inside
 *     JSON text (a CLI's JSON output) leaves it valid too.
 */
import type { FingerprintMatcher } from "./fingerprints.js";
import { MIN_SECRET_LENGTH, replacementFor } from "./replacement.js";
import { shannonEntropy, TOKEN_RULES, type TokenRule } from "./token-rules.js";

/** A secret value downscope knows, and what to call it in `[masked:<kind>]`. */
export interface KnownSecret {
  value: string;
  kind: string;
}

export interface Masker {
  /** Exact values; each at least MIN_SECRET_LENGTH characters. */
  secrets: readonly KnownSecret[];
  /** Values known only by keyed fingerprint (handed out by downscope-exec, credential-process, mcp-proxy). */
  fingerprints?: FingerprintMatcher;
  /** Token-shaped rules; default TOKEN_RULES. `[]` masks known values only. */
  rules?: readonly TokenRule[];
  /** Called between steps; throws to stop (a deadline). */
  checkpoint?: () => void;
}

/** Kind → how many were masked. */
export type Hits = Record<string, number>;

export { MIN_SECRET_LENGTH, replacementFor };

const count = (hits: Hits, kind: string) => (hits[kind] = (hits[kind] ?? 0) + 1);

/** Masks every secret in one string. `hits` collects what was masked. */
export function maskText(text: string, m: Masker, hits: Hits = {}): string {
  if (text.length < MIN_SECRET_LENGTH) return text;
  let out = text;
  for (const s of m.secrets) {
    out = replaceAll(out, s.value, s.kind, hits);
    const escaped = JSON.stringify(s.value).slice(1, -1);
    if (escaped !== s.value) out = replaceAll(out, escaped, s.kind, hits);
  }
  m.checkpoint?.();
  if (m.fingerprints !== undefined) out = m.fingerprints.mask(out, hits);
  const rules = m.rules ?? TOKEN_RULES;
  if (rules.length === 0) return out;
  let lower: string | undefined;
  for (const rule of rules) {
    m.checkpoint?.();
    lower ??= out.toLowerCase();
    if (!rule.keywords.some((k) => lower!.includes(k))) continue;
    const next = applyRule(out, rule, hits);
    if (next !== out) {
      out = next;
      lower = undefined;
    }
  }
  return out;
}

function replaceAll(text: string, value: string, kind: string, hits: Hits): string {
  if (value.length < MIN_SECRET_LENGTH || !text.includes(value)) return text;
  const parts = text.split(value);
  for (let i = 1; i < parts.length; i++) count(hits, kind);
  return parts.join(replacementFor(kind, value.length));
}

/** Replaces each match's secret (its group) by the rule's label; the rest of the match stays. */
function applyRule(text: string, rule: TokenRule, hits: Hits): string {
  rule.regex.lastIndex = 0;
  let out = "";
  let at = 0;
  for (const match of text.matchAll(rule.regex)) {
    const span = match.indices?.[rule.group];
    const secret = match[rule.group];
    if (span === undefined || secret === undefined || span[0] < at) continue;
    if (rule.allow?.test(secret)) continue;
    if (rule.entropy > 0 && shannonEntropy(secret) < rule.entropy) continue;
    if (rule.check !== undefined && !rule.check(secret)) continue;
    out += text.slice(at, span[0]) + replacementFor(rule.kind, secret.length);
    at = span[1];
    count(hits, rule.kind);
  }
  return at === 0 ? text : out + text.slice(at);
}

/**
 * Masks every string inside a parsed JSON value (object keys are left as they
 * are: they are the output's shape). Returns the same object when nothing
 * changed, so callers can tell cheaply.
 */
export function maskValue(value: unknown, m: Masker, hits: Hits = {}, depth = 0): unknown {
  if (typeof value === "string") return maskText(value, m, hits);
  if (depth > 64 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const w = maskValue(v, m, hits, depth + 1);
      if (w !== v) changed = true;
      return w;
    });
    return changed ? out : value;
  }
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const w = maskValue(v, m, hits, depth + 1);
    if (w !== v) changed = true;
    out[k] = w;
  }
  return changed ? out : value;
}

/**
 * Keys whose string values name a variant of an output shape (`type: "text"`,
 * Grep's `mode`): kept when an output is withheld, since an agent that checks
 * the output's shape (Claude Code does) would otherwise drop the replacement
 * and show the original.
 */
const SHAPE_KEYS = new Set(["type", "mode", "kind", "encoding", "mimeType", "mime_type"]);

/**
 * The output with every string replaced by `notice`, for when masking cannot
 * be done (an error, the deadline): the shape stays, the content goes.
 */
export function withhold(value: unknown, notice: string, key = "", depth = 0): unknown {
  if (typeof value === "string") return SHAPE_KEYS.has(key) && value.length <= 40 ? value : notice;
  if (depth > 64) return notice;
  if (Array.isArray(value)) return value.map((v) => withhold(v, notice, key, depth + 1));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withhold(v, notice, k, depth + 1)]));
  return value;
}

export function totalHits(hits: Hits): number {
  let n = 0;
  for (const v of Object.values(hits)) n += v;
  return n;
}
