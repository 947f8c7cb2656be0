/**
 * Token-shaped secrets masked in tool output: well-known formats only, never
 * a guess by entropy alone (that would mask the hashes, UUIDs and commit
 * SHAs people need). Data, not code: each rule records where it came from.
 *
 * Most rules are gitleaks' (https://github.com/gitleaks/gitleaks,
 * config/gitleaks.toml at tag v8.30.1), translated from Go RE2 to JavaScript:
 * `(?i)` becomes the `i` flag, and a leading `\b` (a lookbehind, `B` below)
 * also accepts a preceding `\n`, `\r` or `\t` escape, so a token in
 * JSON-escaped text (`"a\nghp_…"`) is found too. Where a rule differs from gitleaks beyond that, the `source`
 * says how and why. Each rule keeps gitleaks' keywords (a cheap prefilter:
 * the regex runs only on text that holds one), its Shannon-entropy floor on
 * the secret, and its allowlist where one applies to output (AWS's EXAMPLE
 * keys).
 *
 * gitleaks is MIT licensed, compatible with downscope's Apache-2.0:
 *
 *   MIT License. Copyright (c) 2019 Zachary Rice. Permission is hereby
 *   granted, free of charge, to any person obtaining a copy of this software
 *   and associated documentation files (the "Software"), to deal in the
 *   Software without restriction, including without limitation the rights to
 *   use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 *   copies of the Software, and to permit persons to whom the Software is
 *   furnished to do so, subject to the following conditions: The above
 *   copyright notice and this permission notice shall be included in all
 *   copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED
 *   "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
 *   NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
 *   PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
 *   COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY,
 *   WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF
 *   OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 *   SOFTWARE.
 *
 * Every rule is tested with matching and non-matching examples in
 * test/mask/token-rules.test.ts.
 */

export interface TokenRule {
  /** gitleaks' rule id, or downscope's own (prefixed `downscope:`). */
  id: string;
  /** The `<kind>` of `[masked:<kind>]`: short, so the label fits in the token it replaces. */
  kind: string;
  /** Global, with indices (`d`): the secret is capture group `group` (0: the whole match). */
  regex: RegExp;
  group: number;
  /** Lower-case substrings; the regex runs only on text (lower-cased) holding one of them. */
  keywords: readonly string[];
  /** The secret's Shannon entropy must reach this (bits per character); 0: no floor. */
  entropy: number;
  /** A secret matching this is a published example, not a secret. */
  allow?: RegExp;
  /** A further condition on the secret (downscope's own rules). */
  check?: (secret: string) => boolean;
  source: string;
}

const GITLEAKS = "gitleaks v8.30.1 config/gitleaks.toml";
/** gitleaks' end of a token: a quote, space, `;`, an escaped newline, or the end. */
const END = String.raw`(?:[\x60'"\s;]|\\[nr]|$)`;
/**
 * gitleaks' leading `\b` as a lookbehind: not preceded by a word character,
 * unless that character ends a `\n`/`\r`/`\t` escape of JSON-escaped text.
 * (As a lookbehind, V8 still scans for the literal that follows quickly, and
 * a start inside a word fails at once: linear on any input.)
 */
const B = String.raw`(?<![A-Za-z0-9_](?<!\\[nrt]))`;

const re = (source: string, flags = "") => new RegExp(source, `gd${flags}`);
const mixedCase = (s: string) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);

/** In order: longer and context-bound shapes first, so a later rule never sees half a token. */
export const TOKEN_RULES: readonly TokenRule[] = [
  {
    id: "private-key",
    kind: "private-key",
    // gitleaks' body class [\s\S-] may run across a quote; here it may not, so a key inside one
    // JSON string can never swallow the quotes around it (masking must leave JSON valid).
    regex: re(String.raw`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[^"]{64,}?KEY(?: BLOCK)?-----`, "i"),
    group: 0,
    keywords: ["-----begin"],
    entropy: 0,
    source: `${GITLEAKS} (body without quotes)`,
  },
  {
    id: "downscope:private-key-truncated",
    kind: "private-key",
    // A key cut short (`head -5 key.pem`) has no END line for the rule above: its body is masked too.
    regex: re(String.raw`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\:,-]{64,}`, "i"),
    group: 0,
    keywords: ["-----begin"],
    entropy: 0,
    source: "downscope: the header of gitleaks' private-key with a PEM body that has no END line",
  },
  {
    id: "downscope:aws-secret-key-near-id",
    kind: "aws-secret-key",
    // "AWS access key IDs together with their secret keys": a 40-character secret key right after an
    // access key id (a table, a credentials file, `aws configure list`). Mixed case and digits, so a
    // 40-character hex commit SHA next to a key id is not one.
    regex: re(
      String.raw`(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}[^\n]{0,200}?(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    ),
    group: 1,
    keywords: ["akia", "asia", "a3t", "abia", "acca"],
    entropy: 3,
    check: mixedCase,
    source: "downscope: gitleaks' aws-access-token followed on the same line by AWS's 40-character secret access key",
  },
  {
    id: "downscope:aws-secret-key-named",
    kind: "aws-secret-key",
    regex: re(
      String.raw`(?:aws_?secret_?access_?key|secret_?access_?key|secretaccesskey)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
      "i",
    ),
    group: 1,
    keywords: ["secret"],
    entropy: 3,
    source: "downscope: the names AWS gives a secret access key (credentials file, environment, STS JSON)",
  },
  {
    id: "downscope:aws-session-token",
    kind: "aws-session-token",
    regex: re(
      String.raw`(?:aws_?session_?token|sessiontoken|security_?token)(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?([A-Za-z0-9/+]{100,}={0,2})`,
      "i",
    ),
    group: 1,
    keywords: ["token"],
    entropy: 3,
    source: "downscope: the names AWS gives a session token (credentials file, environment, STS JSON)",
  },
  {
    id: "downscope:aws-session-token-prefix",
    kind: "aws-session-token",
    regex: re(String.raw`${B}(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+]{80,}={0,2}`),
    group: 0,
    keywords: ["iqojb3jpz2lu", "fwogzxivyxdz", "fqogzxivyxdz"],
    entropy: 3,
    source: "downscope: the base64 version headers AWS STS session tokens begin with",
  },
  {
    id: "github-fine-grained-pat",
    kind: "github-fine-grained-pat",
    regex: re(String.raw`github_pat_\w{82}`),
    group: 0,
    keywords: ["github_pat_"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "github-pat",
    kind: "github-pat",
    regex: re(String.raw`ghp_[0-9a-zA-Z]{36}`),
    group: 0,
    keywords: ["ghp_"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "github-oauth",
    kind: "github-oauth",
    regex: re(String.raw`gho_[0-9a-zA-Z]{36}`),
    group: 0,
    keywords: ["gho_"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "github-app-token",
    kind: "github-app",
    regex: re(String.raw`(?:ghu|ghs)_[0-9a-zA-Z]{36}`),
    group: 0,
    keywords: ["ghu_", "ghs_"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "github-refresh-token",
    kind: "github-refresh",
    regex: re(String.raw`ghr_[0-9a-zA-Z]{36}`),
    group: 0,
    keywords: ["ghr_"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "gitlab-pat",
    kind: "gitlab-pat",
    regex: re(String.raw`glpat-[\w-]{20}`),
    group: 0,
    keywords: ["glpat-"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "anthropic-admin-api-key",
    kind: "anthropic-admin-key",
    regex: re(String.raw`${B}(sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA)${END}`),
    group: 1,
    keywords: ["sk-ant-admin01"],
    entropy: 0,
    source: GITLEAKS,
  },
  {
    id: "anthropic-api-key",
    kind: "anthropic-key",
    regex: re(String.raw`${B}(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)${END}`),
    group: 1,
    keywords: ["sk-ant-api03"],
    entropy: 0,
    source: GITLEAKS,
  },
  {
    id: "openai-api-key",
    kind: "openai-key",
    regex: re(
      String.raw`${B}(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})${END}`,
    ),
    group: 1,
    keywords: ["t3blbkfj"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "slack-config-access-token",
    kind: "slack-token",
    regex: re(String.raw`xoxe.xox[bp]-\d-[A-Z0-9]{163,166}`, "i"),
    group: 0,
    keywords: ["xoxe.xoxb-", "xoxe.xoxp-"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-config-refresh-token",
    kind: "slack-token",
    regex: re(String.raw`xoxe-\d-[A-Z0-9]{146}`, "i"),
    group: 0,
    keywords: ["xoxe-"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-bot-token",
    kind: "slack-token",
    regex: re(String.raw`xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*`),
    group: 0,
    keywords: ["xoxb"],
    entropy: 3,
    source: GITLEAKS,
  },
  {
    id: "slack-user-token",
    kind: "slack-token",
    regex: re(String.raw`xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}`),
    group: 0,
    keywords: ["xoxp-", "xoxe-"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-app-token",
    kind: "slack-token",
    regex: re(String.raw`xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+`, "i"),
    group: 0,
    keywords: ["xapp"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-legacy-token",
    kind: "slack-token",
    regex: re(String.raw`xox[os]-\d+-\d+-\d+-[a-fA-F\d]+`),
    group: 0,
    keywords: ["xoxo", "xoxs"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-legacy-bot-token",
    kind: "slack-token",
    regex: re(String.raw`xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26}`),
    group: 0,
    keywords: ["xoxb"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-legacy-workspace-token",
    kind: "slack-token",
    regex: re(String.raw`xox[ar]-(?:\d-)?[0-9a-zA-Z]{8,48}`),
    group: 0,
    keywords: ["xoxa", "xoxr"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "slack-webhook-url",
    kind: "slack-webhook",
    regex: re(String.raw`(?:https?://)?hooks.slack.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`),
    group: 0,
    keywords: ["hooks.slack.com"],
    entropy: 0,
    source: GITLEAKS,
  },
  {
    id: "npm-access-token",
    kind: "npm-token",
    regex: re(String.raw`${B}(npm_[a-z0-9]{36})${END}`, "i"),
    group: 1,
    keywords: ["npm_"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "stripe-access-token",
    kind: "stripe-key",
    regex: re(String.raw`${B}((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})${END}`),
    group: 1,
    keywords: ["sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod"],
    entropy: 2,
    source: GITLEAKS,
  },
  {
    id: "gcp-api-key",
    kind: "gcp-api-key",
    regex: re(String.raw`${B}(AIza[\w-]{35})${END}`),
    group: 1,
    keywords: ["aiza"],
    entropy: 4,
    source: `${GITLEAKS} (without its allowlist of published example keys)`,
  },
  {
    id: "downscope:google-oauth-access-token",
    kind: "google-token",
    // gitleaks has no rule for Google's OAuth 2.0 access tokens; those oauth2.googleapis.com issues begin with "ya29.".
    regex: re(String.raw`${B}ya29\.[0-9A-Za-z_-]{20,}`),
    group: 0,
    keywords: ["ya29."],
    entropy: 3,
    source: "downscope: Google OAuth 2.0 access tokens (the ya29. prefix oauth2.googleapis.com issues)",
  },
  {
    id: "jwt",
    kind: "jwt",
    // gitleaks' segment classes also take a backslash; here they do not, so masking never eats
    // half of a JSON escape (`\"`) and leaves JSON output invalid.
    regex: re(String.raw`${B}(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/_-]{17,}\.(?:[a-zA-Z0-9/_-]{10,}={0,2})?)${END}`),
    group: 1,
    keywords: ["ey"],
    entropy: 3,
    source: `${GITLEAKS} (segments without backslashes)`,
  },
  {
    id: "aws-access-token",
    kind: "aws-key-id",
    regex: re(String.raw`${B}((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`),
    group: 1,
    keywords: ["a3t", "akia", "asia", "abia", "acca"],
    entropy: 3,
    allow: /EXAMPLE$/,
    source: GITLEAKS,
  },
];

/** Shannon entropy in bits per character (gitleaks' `entropy` filter). */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
