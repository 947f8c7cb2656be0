/**
 * Secrets written in plain text into an MCP config (pure). Two signs, no
 * entropy guessing (which flags hashes and IDs people need):
 *  - token-shaped strings of well-known formats, after the rules of the
 *    gitleaks rule set (https://github.com/gitleaks/gitleaks/blob/master/config/gitleaks.toml);
 *  - a secret-looking name (`GITHUB_TOKEN`, `--api-key`, `Authorization`)
 *    holding a literal value, not a reference (`${VAR}`, `${env:VAR}`,
 *    `${input:id}`, `$VAR`) or a placeholder.
 *
 * A finding names the secret's kind, where it is, and a fingerprint (the
 * first 12 hex digits of its sha256): never the value.
 */
import { sha256Hex } from "../lazy-crypto.js";

export interface TokenRule {
  kind: string;
  re: RegExp;
}

/** Most specific first: the first rule that matches names the kind. */
export const TOKEN_RULES: readonly TokenRule[] = [
  { kind: "GitHub token", re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b/ },
  { kind: "GitHub fine-grained token", re: /\bgithub_pat_[A-Za-z0-9_]{59,}\b/ },
  { kind: "GitLab token", re: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { kind: "AWS access key ID", re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/ },
  { kind: "Google API key", re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: "Google OAuth access token", re: /\bya29\.[0-9A-Za-z_-]{20,}/ },
  { kind: "Slack token", re: /\bxox[abposr]-[0-9A-Za-z-]{10,}/ },
  { kind: "Slack webhook", re: /hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9+/]{20,}/ },
  { kind: "Anthropic API key", re: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}/ },
  {
    kind: "OpenAI API key",
    re: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b/,
  },
  { kind: "Stripe key", re: /\b(?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{16,}\b/ },
  { kind: "npm token", re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: "PyPI token", re: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/ },
  { kind: "private key", re: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: "JSON Web Token", re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  // postgres://user:password@host, https://user:token@host: a password in a connection URL.
  { kind: "password in a URL", re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]{3,}@[^\s/]/i },
];

/** Names that say their value is a secret (environment variables, header names, `--flag`s). */
const SECRET_NAME =
  /(?:^|[^a-z])(?:token|secret|passw(?:or)?d|pwd|api[-_]?key|apikey|access[-_]?key|private[-_]?key|client[-_]?secret|credentials?|auth(?:orization)?|session[-_]?key|connection[-_]?string|dsn|bearer)(?:[^a-z]|$)/i;
/** Names that hold where a secret is, not the secret (`GITHUB_TOKEN_FILE`, `SECRET_PATH`). */
const POINTER_NAME = /(?:_|-)(?:file|path|dir|env|var|name|url|type|mode|method|header|helper|cmd|command)$/i;

/** A value that refers to a secret kept elsewhere, or is a stand-in. */
export function isReference(value: string): boolean {
  const v = value.trim();
  if (v === "") return true;
  // ${VAR}, ${env:VAR}, ${input:id}, $VAR, {env:VAR}, %VAR%, op://vault/item (1Password), keyring: …
  if (/^(?:Bearer\s+|token\s+|Basic\s+)?(?:\$\{[^}]+\}|\$[A-Za-z_]\w*|\{env:[^}]+\}|%[A-Za-z_]\w*%)$/i.test(v))
    return true;
  if (/^(?:op|vault|keyring|secret|env):\/\//i.test(v)) return true;
  return /^<[^>]*>$|your[-_ ]|[-_ ]here$|^x{4,}$|^\*{3,}$|changeme|placeholder|^(?:true|false|null|none|\d+)$/i.test(v);
}

export interface SecretHit {
  /** What kind: a token format's name, or "secret-looking value" for a name match. */
  kind: string;
  /** The secret's text itself: for fingerprinting and moving only, never printed. */
  value: string;
}

/** The first token-shaped string in `text`, if any. */
export function tokenIn(text: string): SecretHit | undefined {
  for (const r of TOKEN_RULES) {
    const m = r.re.exec(text);
    if (m) return { kind: r.kind, value: m[0] };
  }
  return undefined;
}

/**
 * Whether a named value (env, header, `--flag=value`) is a plaintext secret:
 * token-shaped, or a secret-looking name holding a literal. `Bearer <x>`
 * headers count by their value.
 */
export function namedSecret(name: string, value: string): SecretHit | undefined {
  const token = tokenIn(value);
  if (token) return token;
  if (isReference(value)) return undefined;
  if (!SECRET_NAME.test(name) || POINTER_NAME.test(name)) return undefined;
  const v = value.trim().replace(/^(?:Bearer|Basic|token)\s+/i, "");
  if (isReference(v) || v.length < 8 || /^[/~.]/.test(v)) return undefined; // too short to be a key, or a path
  return { kind: "secret-looking value", value: value.trim() };
}

export function fingerprintOf(secret: string): string {
  return `sha256:${sha256Hex(secret).slice(0, 12)}`;
}
