/**
 * Where the masking hook finds the secret values downscope knows, cheaply and
 * on every tool call, without writing a new list of secrets anywhere (see
 * docs/adr/ADR-030-masking-known-secrets.md):
 *
 *   - read where they already are: the token variables of the hook's own
 *     environment (the slot `env_var:` sources of trusted layers and the CLIs'
 *     well-known token variables), the slot `file:` sources of trusted layers,
 *     and the tokens `downscope slot set` stored;
 *   - the rest (a `command:` or `keyring:` slot, a minted GitHub App or
 *     Kubernetes token, an STS session) is remembered when it is handed out,
 *     as a keyed fingerprint, never as text, in a private file
 *     ($XDG_CACHE_HOME/downscope/mask/fingerprints.json, 0600 in 0700 dirs,
 *     hidden and read-only to contained mode's sandbox, write-protected by
 *     the hook; src/mask/fingerprints.ts).
 *
 * An untrusted project layer's slots are not read: they are never used to
 * hand out a credential, and reading files an agent-edited policy names would
 * turn masking into an oracle for their contents.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { auditKey, readAuditKey, withLock } from "../audit/log.js";
import { KNOWN_TOKEN_VARS } from "../protection/secret-env.js";
import { cacheHome, expandHome, slotsDir, type Env } from "../paths.js";
import type { Policy } from "../policy/policy.js";
import { ensurePrivateDir, readPrivateJson, writePrivateJson } from "../private-store.js";
import { hmacSha256 } from "../sha256.js";
import {
  fingerprint,
  fingerprintMatcher,
  FINGERPRINTABLE,
  MAX_FINGERPRINT_LENGTH,
  type Fingerprint,
} from "./fingerprints.js";
import type { KnownSecret, Masker } from "./mask.js";
import { MIN_SECRET_LENGTH } from "./replacement.js";

export const fingerprintsPath = (env: Env) => join(cacheHome(env), "mask", "fingerprints.json");

/** Entries kept; the oldest go first. */
export const MAX_FINGERPRINTS = 512;

interface FingerprintFile {
  version: 1;
  entries: (Fingerprint & { at: string })[];
}

/** The fingerprints' key: derived from the audit key, so it is exactly as hidden as that key. */
const keyFrom = (auditKeyBytes: Uint8Array) => hmacSha256(auditKeyBytes, "downscope mask fingerprints v1");

/**
 * Remembers values downscope is handing out, so the masking hook finds them
 * in output later. Never throws and never stores a value: a failure means
 * only that such a value is masked by its shape alone, if it has one.
 */
export function rememberSecrets(values: readonly string[], env: Env, now: () => Date = () => new Date()): void {
  const wanted = values.filter(
    (v) => v.length >= MIN_SECRET_LENGTH && v.length <= MAX_FINGERPRINT_LENGTH && FINGERPRINTABLE.test(v),
  );
  if (wanted.length === 0) return;
  try {
    const key = keyFrom(auditKey(env));
    const prints = [...new Set(wanted)].map((v) => fingerprint(v, key));
    const path = fingerprintsPath(env);
    const has = (file: FingerprintFile | undefined, p: Fingerprint) =>
      file?.entries.some((e) => e.mac === p.mac && e.len === p.len) === true;
    if (prints.every((p) => has(readFile(path), p))) return;
    ensurePrivateDir(join(cacheHome(env), "mask"));
    withLock(`${path}.lock`, () => {
      const file = readFile(path) ?? { version: 1, entries: [] };
      const at = now().toISOString();
      for (const p of prints) if (!has(file, p)) file.entries.push({ ...p, at });
      file.entries = file.entries.slice(-MAX_FINGERPRINTS);
      writePrivateJson(path, file);
    });
  } catch {
    // Less masking, never a changed decision or a failed command.
  }
}

function readFile(path: string): FingerprintFile | undefined {
  const f = readPrivateJson<FingerprintFile>(path);
  return f !== undefined && f !== null && f.version === 1 && Array.isArray(f.entries) ? f : undefined;
}

/**
 * The masker for one tool output: every secret value downscope knows and
 * can read now (see the top of this file), plus the token-shaped rules.
 * `policy` undefined: only the sources that need no policy.
 */
export function knownSecrets(policy: Policy | undefined, env: Env): Masker {
  const secrets: KnownSecret[] = [];
  const seen = new Set<string>();
  const add = (value: string | undefined, kind: string) => {
    const v = value?.trim();
    if (v === undefined || v.length < MIN_SECRET_LENGTH || /[\r\n\0]/.test(v) || seen.has(v)) return;
    seen.add(v);
    secrets.push({ value: v, kind });
  };
  for (const layer of policy?.layers ?? []) {
    if (!layer.trusted) continue;
    for (const service of Object.values(layer.config.services))
      for (const [name, slot] of Object.entries(service.token_slots ?? {})) {
        if (slot.env_var !== undefined) add(env[slot.env_var], `slot:${name}`);
        if (slot.file !== undefined) add(readSmall(expandHome(slot.file, env)), `slot:${name}`);
      }
  }
  const stored = slotsDir(env);
  for (const name of listDir(stored)) add(readSmall(join(stored, name)), `slot:${name}`);
  for (const v of KNOWN_TOKEN_VARS) add(env[v], "token");
  const key = readKey(env);
  const file = key === undefined ? undefined : readFile(fingerprintsPath(env));
  const fingerprints =
    key === undefined || file === undefined ? undefined : fingerprintMatcher(file.entries, keyFrom(key));
  return { secrets, ...(fingerprints !== undefined ? { fingerprints } : {}) };
}

/** A token file: small, read whole; anything else (missing, a directory, huge) is skipped. */
function readSmall(path: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8");
    return text.length <= 16_384 ? text : undefined;
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}

/** The audit key, if there is a well-formed one (a malformed key is reported by the audit trail itself). */
function readKey(env: Env): Buffer | undefined {
  try {
    return readAuditKey(env);
  } catch {
    return undefined;
  }
}
