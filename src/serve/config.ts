/**
 * Where the decision service (`downscope serve`) keeps its few files, and the
 * two secrets it is set up with (docs/adr/ADR-021-serve-authentication.md):
 *
 *  - `~/.config/downscope/serve.json` {port, key}: the loopback port and the
 *    request key. `install claude --serve` writes both into Claude Code's user
 *    settings (the hook's URL, and the key as a literal header), so the key is
 *    exactly as secret as that file, which install makes private (0600). It
 *    keeps other users and web pages out, not the agent (docs/security-model.md).
 *  - `~/.config/downscope/serve.key`: the identity key. The service proves it
 *    holds it (src/serve/identity.ts) before downscope trusts an answer on the
 *    port; it is never sent anywhere, so a process that takes the port and
 *    reads requests learns nothing that lets it pass that check. The hook
 *    denies the agent's plain reads of it (src/hook/protected-paths.ts).
 *
 *  - `~/.config/downscope/serve.curl`: the request key as a curl config file,
 *    for the sh + curl client other agents' hooks run (bin/serve-client.sh).
 *
 * State: `~/.local/state/downscope/serve/` (0700) holds the pid file the
 * ensure hook reads (`<keeper pid> <start time>`) and the log (never stdout).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { configHome, stateHome, type Env } from "../paths.js";
import { readPrivateJson } from "../private-store.js";

export interface ServeConfig {
  version: 1;
  /** The loopback port (127.0.0.1 only), chosen at install below the ephemeral range. */
  port: number;
  /** The request key Claude Code sends as X-Downscope-Key (base64url, 32 random bytes). */
  key: string;
}

export const serveConfigPath = (env: Env) => join(configHome(env), "serve.json");
export const serveKeyPath = (env: Env) => join(configHome(env), "serve.key");
/** The request key as a curl config file (`-K`), for bin/serve-client.sh: a secret never goes into a command line. */
export const serveCurlConfigPath = (env: Env) => join(configHome(env), "serve.curl");
export const serveStateDir = (env: Env) => join(stateHome(env), "serve");
export const servePidPath = (env: Env) => join(serveStateDir(env), "serve.pid");
export const serveLogPath = (env: Env) => join(serveStateDir(env), "serve.log");

/** The header that carries the request key. */
export const KEY_HEADER = "x-downscope-key";

const KEY = /^[A-Za-z0-9_-]{43}$/;

/** The configuration, or undefined when the service is not set up (or the file is not a private one of ours). */
export function readServeConfig(env: Env): ServeConfig | undefined {
  const c = readPrivateJson<Partial<ServeConfig>>(serveConfigPath(env));
  if (
    c?.version !== 1 ||
    typeof c.port !== "number" ||
    !Number.isInteger(c.port) ||
    c.port < 1024 ||
    c.port > 65535 ||
    typeof c.key !== "string" ||
    !KEY.test(c.key)
  )
    return undefined;
  return { version: 1, port: c.port, key: c.key };
}

/** The identity key, or undefined when absent or not a private file of ours. */
export function readIdentityKey(env: Env): Buffer | undefined {
  const k = readPrivateJson<{ version?: number; key?: string }>(serveKeyPath(env));
  return k?.version === 1 && typeof k.key === "string" && KEY.test(k.key) ? Buffer.from(k.key, "base64url") : undefined;
}

/**
 * The existing configuration, or a new one: a fresh request key, a fresh
 * identity key, and a port `pickPort` finds free. Idempotent: a second
 * install keeps the port and both keys (the settings do not change).
 */
export async function ensureServeConfig(env: Env, pickPort: () => Promise<number>): Promise<ServeConfig> {
  const { randomBytes } = await import("node:crypto");
  if (readIdentityKey(env) === undefined)
    writeSecret(serveKeyPath(env), { version: 1, key: randomBytes(32).toString("base64url") });
  const config: ServeConfig = readServeConfig(env) ?? {
    version: 1,
    port: await pickPort(),
    key: randomBytes(32).toString("base64url"),
  };
  writeSecret(serveConfigPath(env), config);
  writeSecret(serveCurlConfigPath(env), `header = "X-Downscope-Key: ${config.key}"`);
  return config;
}

/** A 0600 file written atomically (the config directory may be one the user made 0755: only the file must be private). */
function writeSecret(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${typeof data === "string" ? data : JSON.stringify(data)}\n`, { mode: 0o600, flag: "wx" });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
