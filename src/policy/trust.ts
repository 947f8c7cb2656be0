/**
 * The trust store: project config files the user has approved, pinned by
 * sha256 (like direnv's `allow`). A project file can be edited by the agent,
 * so only a pinned, unmodified one may grant credentials.
 *
 * Stored as JSON at $XDG_STATE_HOME/downscope/trusted.json (0600). Each pin
 * is signed (HMAC-SHA256 over path and hash) with the trust key,
 * $XDG_CONFIG_HOME/downscope/trust.key, made on the first `trust`. A pin
 * counts only if its signature verifies whenever the key exists or the user
 * runs contained (src/contain/): there the sandbox can read neither the key
 * nor write the store, so a store written by hand from inside — or anything
 * the agent plants — trusts nothing. Without a key and outside contained mode
 * an unsigned store (from before signing) is still read.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { containedState } from "../protection/contained-state.js";
import { trustKeyPath, trustStorePath, type Env } from "../paths.js";
import { hmacSha256, toHex } from "../sha256.js";

interface TrustFile {
  version: 1;
  /** absolute path → sha256 of the trusted content */
  files: Record<string, string>;
  /** absolute path → HMAC-SHA256(trust key, `${path}\0${sha256}`), hex */
  macs?: Record<string, string>;
}

function readKey(env: Env): Uint8Array | undefined {
  try {
    const hex = readFileSync(trustKeyPath(env), "utf8").trim();
    return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, "hex") : undefined;
  } catch {
    return undefined;
  }
}

const macOf = (key: Uint8Array, domain: string, file: string, hash: string) =>
  toHex(hmacSha256(key, `${domain === "" ? "" : `${domain}\0`}${file}\0${hash}`));

export function readTrustStore(env: Env): Map<string, string> {
  return readPins(env, trustStorePath(env), "", true);
}

/** Writes the store, signing every pin; makes the trust key first if there is none. */
export function writeTrustStore(env: Env, files: ReadonlyMap<string, string>): void {
  writePins(env, trustStorePath(env), "", files);
}

/**
 * A signed pin store (path → sha256) at `store`, each pin signed with the
 * trust key under `domain`, so a pin of one store means nothing in another
 * (the trust store uses "", the MCP lock "mcp-lock"). `unsignedWithoutKey`:
 * with no key and outside contained mode, read pins unsigned (only the trust
 * store, written before signing existed); any other store trusts nothing
 * without a key.
 */
export function readPins(env: Env, store: string, domain: string, unsignedWithoutKey = false): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(store, "utf8");
  } catch {
    return new Map();
  }
  let data: Partial<TrustFile>;
  try {
    data = JSON.parse(text) as Partial<TrustFile>;
  } catch {
    return new Map(); // A corrupt store trusts nothing: fail closed.
  }
  if (data.version !== 1 || typeof data.files !== "object" || data.files === null) return new Map();
  const entries = Object.entries(data.files).filter((e): e is [string, string] => typeof e[1] === "string");
  const key = readKey(env);
  const mustVerify = !unsignedWithoutKey || key !== undefined || containedState(env) !== undefined;
  if (!mustVerify) return new Map(entries);
  if (key === undefined) return new Map(); // contained, and the key cannot be read here (the sandbox): nothing is trusted
  const macs = data.macs ?? {};
  return new Map(entries.filter(([file, hash]) => macs[file] === macOf(key, domain, file, hash)));
}

/** Writes a pin store, signing every pin under `domain`; makes the trust key first if there is none. */
export function writePins(env: Env, store: string, domain: string, files: ReadonlyMap<string, string>): void {
  const key = readKey(env) ?? makeKey(env);
  mkdirSync(dirname(store), { recursive: true, mode: 0o700 });
  const sorted = [...files].sort();
  const data: TrustFile = {
    version: 1,
    files: Object.fromEntries(sorted),
    macs: Object.fromEntries(sorted.map(([f, h]) => [f, macOf(key, domain, f, h)])),
  };
  const tmp = `${store}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, store);
}

function makeKey(env: Env): Uint8Array {
  const { randomBytes } = process.getBuiltinModule("node:crypto");
  const key = randomBytes(32);
  const path = trustKeyPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}
