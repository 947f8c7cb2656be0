/**
 * `downscope trust [file]` and `untrust`: pin (or unpin) a project policy's
 * sha256 so it may grant credentials. Trusting widens what the agent may do,
 * so a person confirms it at the terminal after seeing what changed since the
 * version they last trusted (src/cli/confirm.ts); untrusting only restricts
 * and asks nothing. A copy of each trusted version is kept (private, in the
 * state directory) so the next `trust` can show the diff.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { sha256Hex } from "../lazy-crypto.js";
import { stateHome, type Env } from "../paths.js";
import { findProjectConfig, readConfigText } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import { readTrustStore, writeTrustStore } from "../policy/trust.js";
import { ensurePrivateDir, readIntactCopy } from "../private-store.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import type { Command, Io } from "../io.js";
import { lineDiff } from "./unified-diff.js";

function target(argv: string[], io: Io): string {
  const file = argv[0] !== undefined ? resolve(io.cwd, argv[0]) : findProjectConfig(io.cwd, io.env);
  if (file === undefined)
    throw new UsageError("no project policy found (.claude/downscoping.yaml upward from here); name the file");
  return file;
}

const copiesDir = (env: Env) => join(stateHome(env), "trusted");
const copyPath = (env: Env, hash: string) => join(copiesDir(env), `${hash}.yaml`);

/** The text of a version trusted before (kept by pinTrust), if its copy is intact. */
export function trustedCopy(env: Env, hash: string | undefined): string | undefined {
  if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) return undefined;
  return readIntactCopy(copyPath(env, hash), hash);
}

/** What trusting `file` now would change, for the person confirming it. */
export function trustDetails(file: string, text: string, env: Env): string {
  const before = trustedCopy(env, readTrustStore(env).get(file));
  if (before === undefined)
    return `${file} has not been trusted before. Read all of it: once trusted, its rules may grant credentials.\n\n${text}`;
  return `Changes to ${file} since you last trusted it:\n\n${lineDiff(before, text, `${file} (trusted)`, `${file} (now)`)}`;
}

/** Pin a valid policy file's sha256 in the trust store and keep a copy; returns the hash. Shared by `trust` and `init`. */
export function pinTrust(file: string, env: Env, text = readConfigText(file)): string {
  const parsed = parseConfig(text, file);
  if (!parsed.ok) throw new ConfigError(parsed.issues);
  const hash = sha256Hex(text);
  ensurePrivateDir(copiesDir(env));
  const tmp = `${copyPath(env, hash)}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, copyPath(env, hash));
  const store = readTrustStore(env);
  store.set(file, hash);
  writeTrustStore(env, store);
  return hash;
}

/** `downscope trust [file]`: show what changed, ask, then pin the file's sha256 so it may grant credentials. */
export const trust: Command = async (argv, io) => {
  const file = target(dropYes(argv, io), io);
  const text = readConfigText(file);
  const parsed = parseConfig(text, file);
  if (!parsed.ok) throw new ConfigError(parsed.issues);
  if (readTrustStore(io.env).get(file) === sha256Hex(text)) {
    io.stderr(`downscope: ${file} is already trusted as it is; nothing to do\n`);
    return 0;
  }
  await confirmByPerson(io, { command: "downscope trust", details: trustDetails(file, text, io.env) });
  // Pin exactly the text that was shown: a change made while the person read it is not trusted.
  const hash = pinTrust(file, io.env, text);
  io.stderr(
    `downscope: trusted ${file} (sha256 ${hash.slice(0, 12)}…). Any change to it withdraws the trust until you run \`downscope trust\` again.\n`,
  );
  return 0;
};

export const untrust: Command = async (argv, io) => {
  const file = target(argv, io);
  const store = readTrustStore(io.env);
  const had = store.delete(file);
  writeTrustStore(io.env, store);
  io.stderr(
    had
      ? `downscope: ${file} is no longer trusted; its rules can only restrict.\n`
      : `downscope: ${file} was not trusted.\n`,
  );
  return 0;
};
