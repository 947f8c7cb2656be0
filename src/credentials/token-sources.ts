/**
 * Token slot sources: env_var, file, command (argv, no shell). A value is
 * never echoed: a failing command is reported by its exit status only, since
 * its stderr may contain the secret.
 */
import { spawnSync } from "node:child_process";
import { sha256Hex } from "../lazy-crypto.js";
import { readFileSync } from "node:fs";
import { CredentialUnavailable } from "../errors.js";
import { expandHome } from "../paths.js";
import type { Env } from "../paths.js";
import type { KeyringEntry, KeySource, TokenSlot } from "../policy/schema.js";
import type { ScopedToken } from "./provider.js";

export function fingerprint(secret: string): string {
  return "sha256:" + sha256Hex(secret).slice(0, 12);
}

/** Reads a slot's token. Throws CredentialUnavailable naming the source, never the value. */
export function readSlotToken(slotName: string, slot: TokenSlot, env: Env, cwd: string): ScopedToken {
  const where = `slot "${slotName}"`;
  const src = slot.keyring !== undefined ? { command: keyringArgv(slot.keyring) } : slot;
  const token = readSource(where, src, env, cwd, "token").trim();
  if (token === "") throw new CredentialUnavailable(`${where}: the token source is empty`);
  if (/[\r\n\0]/.test(token))
    throw new CredentialUnavailable(`${where}: the token contains line breaks or NUL; expected a single line`);
  return { value: token, fingerprint: fingerprint(token) };
}

/**
 * Reads a long-lived secret that only downscope's own process may see (a
 * GitHub App's private key): file, command or keyring, never an environment
 * variable (the schema refuses one; refused here again). Multi-line values
 * (PEM) are kept. Throws CredentialUnavailable naming the source, never the value.
 */
export function readKeySource(what: string, src: KeySource, env: Env, cwd: string): string {
  if (src.env_var !== undefined)
    throw new CredentialUnavailable(
      `${what}: cannot come from an environment variable (the agent's environment); use file, command or keyring`,
    );
  const argv = src.keyring === undefined ? src.command : keyringArgv(src.keyring);
  const value = readSource(
    what,
    { ...(src.file !== undefined ? { file: src.file } : {}), ...(argv ? { command: argv } : {}) },
    env,
    cwd,
    "key",
  );
  const trimmed = value.trim();
  if (trimmed === "") throw new CredentialUnavailable(`${what}: the source is empty`);
  return trimmed + "\n";
}

/** The system keyring's lookup: secret-tool (libsecret) on Linux, security on macOS. */
export function keyringArgv(k: KeyringEntry): string[] {
  return process.platform === "darwin"
    ? ["security", "find-generic-password", "-s", k.service, "-a", k.account, "-w"]
    : ["secret-tool", "lookup", "service", k.service, "account", k.account];
}

interface Source {
  env_var?: string | undefined;
  file?: string | undefined;
  command?: readonly string[] | undefined;
}

function readSource(where: string, src: Source, env: Env, cwd: string, noun: "token" | "key"): string {
  if (src.env_var !== undefined) {
    const value = env[src.env_var];
    if (value === undefined || value.trim() === "")
      throw new CredentialUnavailable(
        `${where}: environment variable ${src.env_var} is not set in downscope's environment`,
      );
    return value;
  }
  if (src.file !== undefined) {
    const path = expandHome(src.file, env);
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      throw new CredentialUnavailable(
        `${where}: cannot read ${noun} file ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  if (src.command !== undefined) {
    const [file, ...args] = src.command;
    const r = spawnSync(file!, args, {
      cwd,
      env: env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
      maxBuffer: 1 << 20,
    });
    if (r.error)
      throw new CredentialUnavailable(
        `${where}: cannot run ${noun} command ${file}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
      );
    if (r.status !== 0)
      // stderr may contain the secret or parts of it: report that it failed, not what it said.
      throw new CredentialUnavailable(`${where}: ${noun} command ${file} exited with status ${r.status ?? r.signal}`);
    return r.stdout;
  }
  return "";
}
