import { resolve } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { sha256Hex } from "../lazy-crypto.js";
import { findProjectConfig, readConfigText } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import { readTrustStore, writeTrustStore } from "../policy/trust.js";
import { trustStorePath, type Env } from "../paths.js";
import type { Command, Io } from "./io.js";

function target(argv: string[], io: Io): string {
  const file = argv[0] !== undefined ? resolve(io.cwd, argv[0]) : findProjectConfig(io.cwd, io.env);
  if (file === undefined)
    throw new UsageError("no project policy found (.claude/downscoping.yaml upward from here); name the file");
  return file;
}

/** Pin a valid policy file's sha256 in the trust store; returns the hash. Shared by `trust` and `init`. */
export function pinTrust(file: string, env: Env): string {
  const text = readConfigText(file);
  const parsed = parseConfig(text, file);
  if (!parsed.ok) throw new ConfigError(parsed.issues);
  const store = readTrustStore(trustStorePath(env));
  store.set(file, sha256Hex(text));
  writeTrustStore(trustStorePath(env), store);
  return sha256Hex(text);
}

/** `downscope trust [file]`: pin the file's sha256 so it may grant credentials. */
export const trust: Command = async (argv, io) => {
  const file = target(argv, io);
  const hash = pinTrust(file, io.env);
  io.stderr(
    `downscope: trusted ${file} (sha256 ${hash.slice(0, 12)}…). Any change to it withdraws the trust until you run \`downscope trust\` again.\n`,
  );
  return 0;
};

export const untrust: Command = async (argv, io) => {
  const file = target(argv, io);
  const store = readTrustStore(trustStorePath(io.env));
  const had = store.delete(file);
  writeTrustStore(trustStorePath(io.env), store);
  io.stderr(
    had
      ? `downscope: ${file} is no longer trusted; its rules can only restrict.\n`
      : `downscope: ${file} was not trusted.\n`,
  );
  return 0;
};
