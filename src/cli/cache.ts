/** `downscope cache clear`: remove every cached scoped credential (they are re-minted on next use). */
import { clearCache } from "../credentials/cache.js";
import { cacheHome } from "../paths.js";
import { UsageError } from "../errors.js";
import type { Command } from "./io.js";

export const cache: Command = async (argv, io) => {
  if (argv.length !== 1 || argv[0] !== "clear") throw new UsageError("usage: downscope cache clear");
  clearCache(io.env);
  io.stderr(`downscope: removed cached credentials under ${cacheHome(io.env)}\n`);
  return 0;
};
