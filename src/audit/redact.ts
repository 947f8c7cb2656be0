/**
 * Redaction for the audit trail (pure). The log records what the agent ran,
 * never a secret it ran it with: token-shaped strings, values of
 * credential-like flags (`--token X`, `--password=X`), `NAME=value`
 * assignments of credential-like variables, URL passwords and Authorization
 * headers are replaced by `[REDACTED]`. Over-redaction is acceptable; a leak
 * is not.
 */

export const REDACTED = "[REDACTED]";

/**
 * Known secret shapes, searched anywhere inside a word. Lengths are lower
 * bounds (real tokens are longer) so truncated or embedded tokens are caught.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{8,}/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{8,}/g, // GitHub fine-grained PAT
  /\bxox[abposrce]-[A-Za-z0-9-]{6,}/g, // Slack
  /\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{8,}/g, // AWS access key ids
  /\bya29\.[A-Za-z0-9_.-]{6,}/g, // Google OAuth access tokens
  /\bglpat-[A-Za-z0-9_-]{8,}/g, // GitLab
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI / Anthropic / Stripe style
  /\b(?:rk|pk)_live_[A-Za-z0-9]{8,}/g, // Stripe
  /\bnpm_[A-Za-z0-9]{16,}/g, // npm
  // JWT. Starts only where no segment character precedes: "\b" would also start
  // after every "-" inside a long run, and each start would rescan the rest (quadratic).
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
];

/** High-entropy runs: 32+ token characters mixing upper case, lower case and digits (git SHAs are lower-case hex and stay). */
const LONG_RUN = /[A-Za-z0-9_+/=-]{32,}/g;
function looksRandom(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);
}

/** Flag names (without dashes) whose value is a credential. */
const SECRET_NAME =
  /(?:^|[-_])(?:token|tokens|password|passwd|pass|passphrase|secret|secrets|credential|credentials|api[-_]?key|access[-_]?key|secret[-_]?key|private[-_]?key|client[-_]?secret|auth|authorization|cookie)(?:$|[-_])/i;
/** …unless the flag names where the secret is, not the secret itself. */
const NOT_A_VALUE = /(?:[-_])(?:stdin|file|path|env|id|name|arn)$/i;
/** Flags whose value may carry a secret whatever the rest of the name says. */
const ALWAYS_SECRET_FLAGS = new Set(["--from-literal", "--docker-password", "--secret-string", "--secret-binary"]);
const HEADER_FLAGS = new Set(["-H", "--header"]);
/** `-u user:password` (curl and friends): the part after the colon is a password. */
const USERPASS_FLAGS = new Set(["-u", "--user", "--proxy-user"]);
const redactUserPass = (v: string) => v.replace(/^([^:]*):.+$/, `$1:${REDACTED}`);

export function isSecretName(name: string): boolean {
  const n = name.replace(/^-+/, "");
  return SECRET_NAME.test(n) && !NOT_A_VALUE.test(n);
}

/** Redact secret shapes inside one string. */
export function redactText(s: string): string {
  let out = s;
  for (const re of SECRET_PATTERNS) out = out.replace(re, REDACTED);
  // URL userinfo: scheme://user:password@host. Searched from "://" (not from
  // the scheme, whose long runs made the search quadratic): every attempt stops
  // at the next "/", so the attempts never overlap.
  out = out.replace(/(:\/\/[^/\s:@]*):[^@\s/]+@/g, `$1:${REDACTED}@`);
  // Authorization-style headers and "Bearer x"
  out = out.replace(/\b(Bearer|Basic|token)\s+[^\s"']{6,}/gi, `$1 ${REDACTED}`);
  out = out.replace(LONG_RUN, (m) => (looksRandom(m) ? REDACTED : m));
  return out;
}

function redactHeader(v: string): string {
  const i = v.indexOf(":");
  if (i === -1) return redactText(v);
  const name = v.slice(0, i);
  return /authorization|token|cookie|secret|api-key|password/i.test(name) ? `${name}: ${REDACTED}` : redactText(v);
}

/** `NAME=value` where NAME is credential-like: keep the name. */
function redactAssignment(w: string): string | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(w);
  if (m && isSecretName(m[1]!)) return `${m[1]}=${REDACTED}`;
  return undefined;
}

/** Redact an argv (binary and arguments). The result has the same length. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w.startsWith("-") && w !== "-" && w !== "--") {
      const eq = w.indexOf("=");
      const name = eq === -1 ? w : w.slice(0, eq);
      const secretFlag = ALWAYS_SECRET_FLAGS.has(name) || (name.startsWith("--") && isSecretName(name));
      if (eq !== -1) {
        const value = w.slice(eq + 1);
        out.push(
          secretFlag
            ? `${name}=${REDACTED}`
            : HEADER_FLAGS.has(name)
              ? `${name}=${redactHeader(value)}`
              : USERPASS_FLAGS.has(name)
                ? `${name}=${redactText(redactUserPass(value))}`
                : `${name}=${redactText(value)}`,
        );
        continue;
      }
      out.push(redactText(w));
      const next = argv[i + 1];
      if (next !== undefined && USERPASS_FLAGS.has(name)) {
        out.push(redactText(redactUserPass(next)));
        i++;
        continue;
      }
      if (next !== undefined && (secretFlag || HEADER_FLAGS.has(name))) {
        out.push(secretFlag ? REDACTED : redactHeader(next));
        i++;
      }
      continue;
    }
    out.push(redactAssignment(w) ?? redactText(w));
  }
  return out;
}

/** Redact MCP arguments: credential-like keys lose their value, strings are scanned. */
export function redactValue(v: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (typeof v === "string") return redactText(v);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSecretName(k) ? REDACTED : redactValue(x, depth + 1);
    return out;
  }
  return v;
}
