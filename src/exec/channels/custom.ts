/**
 * Custom services from the config: the slot's (else the service's)
 * `inject_as` puts the token in that variable; `inject_file_env` writes it to
 * a private file (0600) and sets the variable to its path.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CredentialUnavailable } from "../../errors.js";
import type { Channel } from "../channel.js";
import { KNOWN_TOKEN_VARS } from "../../protection/secret-env.js";
import { without } from "../env.js";
import { slotToken } from "./slot-token.js";

export const channel: Channel = async (input) => {
  const token = await slotToken(input);
  const env = without(input.baseEnv, KNOWN_TOKEN_VARS);
  for (const k of input.grant.config.pass_env ?? []) if (input.parentEnv[k] !== undefined) env[k] = input.parentEnv[k];
  if (token === undefined) return { env, secrets: [] };
  const asVar = token.slot.inject_as ?? input.grant.config.inject_as;
  const fileVar = token.slot.inject_file_env ?? input.grant.config.inject_file_env;
  if (asVar === undefined && fileVar === undefined)
    throw new CredentialUnavailable(
      `${input.grant.service}: downscope does not know how ${input.binary} reads a token; set inject_as (a variable) or inject_file_env (a variable naming a token file) on the slot or the service in ${input.grant.file}`,
    );
  if (asVar !== undefined) env[asVar] = token.value;
  if (fileVar !== undefined) {
    const file = join(input.tmpDir, `token-${input.grant.service.replace(/[^A-Za-z0-9_.-]/g, "_")}`);
    writeFileSync(file, token.value, { mode: 0o600, flag: "wx" });
    env[fileVar] = file;
  }
  return { env, secrets: [token.value] };
};
