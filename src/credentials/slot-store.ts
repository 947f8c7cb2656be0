/**
 * Where downscope keeps a secret a person gave it: a 0600 file in
 * ~/.config/downscope/slots/ (a 0700 directory contained mode hides from the
 * sandbox), or the system keyring. Read back by token-sources.ts (`file:` or
 * `keyring:` sources); the value is never in argv, a log or a message.
 */
import { spawnSync } from "node:child_process";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CredentialUnavailable } from "../errors.js";
import { slotsDir, type Env } from "../paths.js";
import type { KeyringEntry } from "../policy/schema.js";
import { ensurePrivateDir } from "../private-store.js";

/** The keyring service downscope's own entries are stored under. */
export const KEYRING_SERVICE = "downscope";

/** Writes `value` to slots/NAME (0600), atomically; no partial copy is left if it fails. Returns the path. */
export function writeSlotFile(env: Env, name: string, value: string): string {
  const dir = slotsDir(env);
  ensurePrivateDir(dir);
  const file = join(dir, name);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${value}\n`, { mode: 0o600, flag: "wx" });
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return file;
}

/**
 * Stores `value` in the system keyring with libsecret's `secret-tool`, the
 * value on its stdin (never argv). Undefined when there is no keyring to
 * store in (no secret-tool, no secret service running, not Linux): the
 * caller falls back to a file. macOS's `security add-generic-password` takes
 * the value only in argv, so it is not used.
 */
export function storeInKeyring(env: Env, name: string, value: string): { keyring: KeyringEntry } | undefined {
  if (process.platform !== "linux") return undefined;
  const entry = { service: KEYRING_SERVICE, account: name };
  const r = spawnSync(
    "secret-tool",
    ["store", `--label=downscope slot ${name}`, "service", entry.service, "account", entry.account],
    { env, input: value, stdio: ["pipe", "ignore", "ignore"], timeout: 30_000 },
  );
  return r.error === undefined && r.status === 0 ? { keyring: entry } : undefined;
}

/** Removes a stored secret (best effort: an entry already gone is fine). */
export function removeStored(env: Env, source: { file: string } | { keyring: KeyringEntry }): void {
  if ("file" in source) {
    rmSync(source.file, { force: true });
    return;
  }
  const k = source.keyring;
  const r = spawnSync("secret-tool", ["clear", "service", k.service, "account", k.account], {
    env,
    stdio: "ignore",
    timeout: 30_000,
  });
  if (r.error !== undefined || r.status !== 0)
    throw new CredentialUnavailable(
      `could not remove keyring entry service=${k.service} account=${k.account} (secret-tool clear exited ${r.status ?? r.error?.message}); remove it by hand`,
    );
}
