/**
 * I/O side of config loading: find the layer files, read them, check trust,
 * and hand the text to the pure parser. Any problem with any present layer is
 * a ConfigError: callers that were asked for a decision turn it into a deny.
 */
import { closeSync, fstatSync, openSync, readFileSync, statSync, type BigIntStats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../errors.js";
import {
  cacheHome,
  managedConfigPath,
  relocationProblem,
  trustKeyPath,
  trustStorePath,
  userConfigPath,
  type Env,
} from "../paths.js";
import { readPrivateJson, writePrivateJson } from "../private-store.js";
import { sha256Hex } from "../lazy-crypto.js";
import type { Layer, LayerName, Policy } from "./policy.js";
import type { Config } from "./schema.js";
import { readTrustStore } from "./trust.js";

declare const __BUILD_ID__: string | undefined;
/** Changes whenever the schema or the version changes, so compiled configs never outlive them. */
const BUILD_ID = typeof __BUILD_ID__ === "string" ? __BUILD_ID__ : "dev";

export const PROJECT_CONFIG = ".claude/downscoping.yaml";

export interface LoadOptions {
  cwd: string;
  env: Env;
  /** The clock the racy-file guard compares ctimes with (tests), in ms. */
  now?: () => number;
}

/** The project file: DOWNSCOPE_CONFIG, else .claude/downscoping.yaml searched upward from cwd. */
export function findProjectConfig(cwd: string, env: Env): string | undefined {
  if (env.DOWNSCOPE_CONFIG) return resolve(cwd, env.DOWNSCOPE_CONFIG);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROJECT_CONFIG);
    if (exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Read a layer file's text, turning every failure into one clear issue. */
export function readConfigText(file: string): string {
  return readLayerFile(file).text;
}

/**
 * A layer file's text and its identity (see layerHash). The identity is taken
 * before and after reading through the same descriptor; a file that changed
 * meanwhile has none (its hash is not remembered).
 */
function readLayerFile(file: string, now: () => number = Date.now): { text: string; identity?: string } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw readError(file, e);
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    if (before.isDirectory()) {
      throw new ConfigError([{ file, path: "", message: "is a directory; expected a YAML file" }]);
    }
    const text = readFileSync(fd, "utf8");
    const id = identityOf(before, now);
    return id !== undefined && id === identityOf(fstatSync(fd, { bigint: true }), now)
      ? { text, identity: id }
      : { text };
  } catch (e) {
    throw e instanceof ConfigError ? e : readError(file, e);
  } finally {
    closeSync(fd);
  }
}

function readError(file: string, e: unknown): ConfigError {
  const code = (e as NodeJS.ErrnoException).code;
  const message =
    code === "ENOENT"
      ? "file not found"
      : code === "EACCES"
        ? "permission denied; make the file readable by you"
        : code === "EISDIR"
          ? "is a directory; expected a YAML file"
          : `cannot read the file (${code ?? "error"})`;
  return new ConfigError([{ file, path: "", message }]);
}

/**
 * Racy-file guard (as git's index has): a file changed in the last two seconds
 * gets no identity, so a change within the timestamp granularity of the
 * filesystem can never hide behind a remembered one.
 */
const SETTLED_NS = 2_000_000_000n;

/**
 * Device, inode, size, mtime and ctime, to the nanosecond. Any write to a file
 * moves its ctime to the current time and no call lets a user set ctime, so
 * an unchanged identity means unchanged content; an unsettled file has none.
 */
function identityOf(st: BigIntStats, now: () => number): string | undefined {
  if (!st.isFile()) return undefined;
  if (BigInt(Math.trunc(now())) * 1_000_000n - st.ctimeNs < SETTLED_NS) return undefined;
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

type Identities = Record<string, { identity: string; sha256: string } | undefined>;
/** The remembered hash also names a compiled-config file: only 64 hex digits are taken. */
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_IDENTITIES = 200;

const identitiesPath = (env: Env) => `${cacheHome(env)}/policy/identities.json`;
const trustMemoPath = (env: Env) => `${cacheHome(env)}/policy/trust-verified.json`;

function statIdentity(file: string, now: () => number): string | undefined {
  try {
    return identityOf(statSync(file, { bigint: true }), now);
  } catch {
    return undefined;
  }
}

/**
 * The trust store's pins, their signatures verified (src/policy/trust.ts). A
 * verification is remembered with the identities of the store and the key
 * (as layer hashes are, below) so that a hook run does not compute an HMAC —
 * the JavaScript SHA-256 compiling cold costs it about a millisecond. The memo
 * is a private file in the cache directory, which contained mode's sandbox can
 * neither read nor write; outside it, whoever can write the cache can read the
 * key as well (docs/security-model.md, "Caches it keeps for speed").
 */
function verifiedTrust(env: Env, now: () => number): Map<string, string> {
  const store = statIdentity(trustStorePath(env), now);
  const key = statIdentity(trustKeyPath(env), now);
  type Memo = { store: string; key: string; pins: Record<string, string> };
  if (store !== undefined && key !== undefined) {
    const memo = readPrivateJson<Memo>(trustMemoPath(env));
    if (memo?.store === store && memo.key === key && typeof memo.pins === "object" && memo.pins !== null)
      return new Map(Object.entries(memo.pins).filter((e): e is [string, string] => typeof e[1] === "string"));
  }
  const pins = readTrustStore(env);
  if (store !== undefined && key !== undefined)
    try {
      writePrivateJson(trustMemoPath(env), { store, key, pins: Object.fromEntries(pins) } satisfies Memo);
    } catch {
      // A memo we cannot write only costs time.
    }
  return pins;
}

/**
 * The sha256 of a layer file without reading it: hashing means loading
 * node:crypto, which costs a hook run about 5 ms, so the hash of each layer
 * file is remembered with the file's identity and reused while the identity is
 * unchanged. The trust check still compares content hashes; only how the hash
 * is obtained changes. Returns the text too when the file had to be read.
 */
function layerHash(file: string, ctx: LayerContext): { hash: string; text?: string } {
  const { env, now } = ctx;
  const remembered = ctx.identities?.[file];
  if (typeof remembered?.identity === "string" && SHA256_HEX.test(remembered.sha256)) {
    let st: BigIntStats | undefined;
    try {
      st = statSync(file, { bigint: true });
    } catch {
      // reported by the read below
    }
    if (st !== undefined && identityOf(st, now) === remembered.identity) return { hash: remembered.sha256 };
  }
  const { text, identity } = readLayerFile(file, now);
  const hash = sha256Hex(text);
  if (identity !== undefined) rememberIdentity(file, identity, hash, env);
  return { hash, text };
}

function rememberIdentity(file: string, identity: string, hash: string, env: Env): void {
  const path = identitiesPath(env);
  const all = readPrivateJson<Identities>(path) ?? {};
  delete all[file];
  all[file] = { identity, sha256: hash };
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_IDENTITIES))) delete all[k];
  try {
    writePrivateJson(path, all);
  } catch {
    // A cache we cannot write only costs time.
  }
}

/**
 * Compiled-config cache: the validated config of a file, keyed by the sha256
 * of its content and the build. On a hit the YAML parser and zod are never
 * loaded (they cost more than the rest of a hook run together). An edited
 * file has a new hash (layerHash), so it is always recompiled and its trust
 * always rechecked. The cache sits beside the trust store: both are private
 * files of the user (see docs/security-model.md).
 */
const compiledPath = (hash: string, env: Env) => `${cacheHome(env)}/policy/${BUILD_ID}-${hash}.json`;

async function compile(text: string, file: string, hash: string, env: Env): Promise<Config> {
  const { parseConfig } = await import("./parse.js");
  const result = parseConfig(text, file);
  if (!result.ok) throw new ConfigError(result.issues);
  try {
    writePrivateJson(compiledPath(hash, env), { config: result.config });
  } catch {
    // A cache we cannot write only costs time.
  }
  return result.config;
}

interface LayerContext {
  /** Pinned sha256 of trusted project files, by path. */
  trust: ReadonlyMap<string, string>;
  env: Env;
  now: () => number;
  /** Remembered file identities (read once per load). */
  identities: Identities | undefined;
}

async function loadLayer(name: LayerName, file: string, ctx: LayerContext): Promise<Layer> {
  const { env } = ctx;
  let { hash, text } = layerHash(file, ctx);
  let config = readPrivateJson<{ config: Config }>(compiledPath(hash, env))?.config;
  if (config === undefined) {
    if (text === undefined) {
      // Known by its identity but not compiled: read it, and use the hash of what was read.
      text = readConfigText(file);
      hash = sha256Hex(text);
      config = readPrivateJson<{ config: Config }>(compiledPath(hash, env))?.config;
    }
    config ??= await compile(text, file, hash, env);
  }
  if (name !== "project") return { name, file, trusted: true, config, sha256: hash };
  const pinned = ctx.trust.get(file);
  const layer: Layer = { name, file, trusted: pinned === hash, config, sha256: hash };
  if (pinned === undefined) layer.untrustedReason = "never trusted";
  else if (pinned !== hash) layer.untrustedReason = "modified since it was trusted";
  return layer;
}

/**
 * Load every present layer. Missing managed/user files are simply absent; a
 * named DOWNSCOPE_CONFIG that does not exist is an error (the user asked for it).
 */
export async function loadPolicy({ cwd, env, now }: LoadOptions): Promise<Policy> {
  const projectFile = findProjectConfig(cwd, env);
  const projectRoot =
    projectFile !== undefined && env.DOWNSCOPE_CONFIG === undefined ? dirname(dirname(projectFile)) : cwd;
  const problem = relocationProblem(env, projectRoot);
  if (problem !== undefined) throw new ConfigError([{ file: "(environment)", path: "", message: problem }]);
  const candidates: [LayerName, string | undefined, boolean][] = [
    ["managed", managedConfigPath(env), false],
    ["user", userConfigPath(env), false],
    ["project", projectFile, env.DOWNSCOPE_CONFIG !== undefined],
  ];
  const ctx: LayerContext = {
    trust: verifiedTrust(env, now ?? Date.now),
    env,
    now: now ?? Date.now,
    identities: readPrivateJson<Identities>(identitiesPath(env)),
  };
  const layers: Layer[] = [];
  const issues: ConfigIssue[] = [];
  for (const [name, file, required] of candidates) {
    if (file === undefined) continue;
    if (!required && !exists(file)) continue;
    try {
      layers.push(await loadLayer(name, file, ctx));
    } catch (e) {
      if (e instanceof ConfigError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { layers, warnings: [] };
}
