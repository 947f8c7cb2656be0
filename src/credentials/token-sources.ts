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
import type { TokenSlot } from "../policy/schema.js";
import type { ScopedToken } from "./provider.js";

export function fingerprint(secret: string): string {
  return "sha256:" + sha256Hex(secret).slice(0, 12);
}

/** Reads a slot's token. Throws CredentialUnavailable naming the source, never the value. */
export function readSlotToken(slotName: string, slot: TokenSlot, env: Env, cwd: string): ScopedToken {
  const where = `slot "${slotName}"`;
  let value: string | undefined;
  if (slot.env_var !== undefined) {
    value = env[slot.env_var];
    if (value === undefined || value.trim() === "")
      throw new CredentialUnavailable(
        `${where}: environment variable ${slot.env_var} is not set in downscope's environment`,
      );
  } else if (slot.file !== undefined) {
    const path = expandHome(slot.file, env);
    try {
      value = readFileSync(path, "utf8");
    } catch (e) {
      throw new CredentialUnavailable(
        `${where}: cannot read token file ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  } else if (slot.command !== undefined) {
    const [file, ...args] = slot.command;
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
        `${where}: cannot run token command ${file}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`,
      );
    if (r.status !== 0)
      // stderr may contain the secret or parts of it: report that it failed, not what it said.
      throw new CredentialUnavailable(`${where}: token command ${file} exited with status ${r.status ?? r.signal}`);
    value = r.stdout;
  }
  const token = (value ?? "").trim();
  if (token === "") throw new CredentialUnavailable(`${where}: the token source is empty`);
  if (/[\r\n\0]/.test(token))
    throw new CredentialUnavailable(`${where}: the token contains line breaks or NUL; expected a single line`);
  return { value: token, fingerprint: fingerprint(token) };
}
