/**
 * `downscope cache clear`: revoke every cached GitHub App installation token
 * (DELETE /installation/token), then remove every cached scoped credential
 * (they are re-minted on next use). A revoke that fails is reported and the
 * local copy removed anyway; the exit status is then 1.
 */
import { clearCache } from "../credentials/cache.js";
import { cacheHome } from "../paths.js";
import { UsageError } from "../errors.js";
import type { Command } from "../io.js";

export const cache: Command = async (argv, io) => {
  if (argv.length !== 1 || argv[0] !== "clear") throw new UsageError("usage: downscope cache clear");
  const { revokeCachedInstallationTokens } = await import("../credentials/github-app.js");
  const revoke = await revokeCachedInstallationTokens(io.env);
  if (revoke.revoked > 0)
    io.stderr(`downscope: revoked ${revoke.revoked} GitHub App installation token${revoke.revoked === 1 ? "" : "s"}\n`);
  for (const f of revoke.failures) io.stderr(`downscope: could not revoke ${f}; it stays valid until it expires\n`);
  clearCache(io.env);
  io.stderr(`downscope: removed cached credentials under ${cacheHome(io.env)}\n`);
  return revoke.failures.length > 0 ? 1 : 0;
};
