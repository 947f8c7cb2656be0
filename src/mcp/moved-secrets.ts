/**
 * Secrets moved out of an MCP client config (`downscope install mcp
 * --move-secrets`), given back to that one server by the proxy.
 *
 * The config entry then names only where each one went:
 *   downscope mcp-proxy --server NAME --env-slot VAR=SLOT -- <command> …
 * The value is in a downscope slot (the system keyring, else a 0600 file in
 * ~/.config/downscope/slots/, which contained mode hides from the sandbox),
 * and a binding record, ~/.config/downscope/mcp-secrets/SLOT.json (0600,
 * written with the slot), says which server, variable and upstream command
 * may have it. The proxy reads it when it starts an instance and sets it in
 * that instance's environment only; it is in no argv, no config file and not
 * in the proxy's own environment.
 *
 * The binding is what stops an edited config from sending the secret
 * elsewhere: `--env-slot GITHUB_TOKEN=mcp-github-TOKEN` added to another
 * server's entry, or the entry's command changed to a script of the agent's,
 * no longer matches the record, and the instance is not started (fail
 * closed). What the bound command itself does with it is its own: a server
 * whose code lives in the project can be edited like any project file.
 */
import { join } from "node:path";
import { readSlotToken } from "../credentials/token-sources.js";
import { CredentialUnavailable } from "../errors.js";
import { sha256Hex } from "../lazy-crypto.js";
import { configHome, type Env } from "../paths.js";
import type { KeyringEntry } from "../policy/schema.js";
import { readPrivateJson } from "../private-store.js";

export interface MovedSecretBinding {
  version: 1;
  slot: string;
  server: string;
  /** The variable the server reads it from. */
  env: string;
  /** sha256 of JSON [command, ...args] of the upstream the secret belongs to. */
  upstream_sha256: string;
  /** That command line, to show a person what it was (not checked: the hash is). */
  upstream?: string[];
  source: { file: string } | { keyring: KeyringEntry };
}

/** A secret the proxy sets in every instance of its server: read when an instance starts. */
export interface MovedSecret {
  name: string;
  read: () => string;
}

export const movedSecretsDir = (env: Env) => join(configHome(env), "mcp-secrets");
export const bindingPath = (env: Env, slot: string) => join(movedSecretsDir(env), `${slot}.json`);
export const upstreamHash = (u: { file: string; args: readonly string[] }) =>
  sha256Hex(JSON.stringify([u.file, ...u.args]));

/** A slot name for a moved secret: `mcp-<server>-<VAR>`, in the characters slot names allow. */
export function slotNameFor(server: string, variable: string): string {
  return `mcp-${server}-${variable}`.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** `--env-slot VAR=SLOT` of the proxy's command line. */
export function parseEnvSlot(spec: string): { name: string; slot: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(spec);
  return m ? { name: m[1]!, slot: m[2]! } : undefined;
}

/**
 * The moved secrets of one proxy: each read (when an instance starts) only
 * if its binding names this server, this variable and this upstream command.
 * Throws CredentialUnavailable naming the slot, never the value.
 */
export function movedSecrets(
  specs: readonly { name: string; slot: string }[],
  server: string,
  upstream: { file: string; args: readonly string[] },
  env: Env,
  cwd: string,
): MovedSecret[] {
  return specs.map(({ name, slot }) => ({
    name,
    read: () => {
      const where = `the secret ${name} moved to slot "${slot}"`;
      const b = readPrivateJson<MovedSecretBinding>(bindingPath(env, slot));
      if (b === undefined || b.version !== 1)
        throw new CredentialUnavailable(
          `${where}: no binding record at ${bindingPath(env, slot)} (written by \`downscope install mcp --move-secrets\`, 0600); the server is not started`,
        );
      if (b.server !== server || b.env !== name)
        throw new CredentialUnavailable(
          `${where} belongs to server "${b.server}" as ${b.env}, not to "${server}" as ${name}; the MCP config was changed. The server is not started`,
        );
      if (b.upstream_sha256 !== upstreamHash(upstream))
        throw new CredentialUnavailable(
          `${where} belongs to another command line of server "${server}" than the one this config starts; the MCP config was changed. If you changed it (a new version), run \`downscope install mcp --move-secrets --server ${server}\` to give the secret to the new command. The server is not started`,
        );
      return readSlotToken(slot, b.source, env, cwd).value;
    },
  }));
}
