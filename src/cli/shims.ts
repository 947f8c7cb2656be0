/**
 * `downscope shims install [--dir D] [--repin]`: writes a shim for every CLI
 * service in the config (custom ones included) and pins the real binaries.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { defaultShimsDir, formatShimsReport, installShims, type ShimsReport } from "../exec/shims.js";
import { packageRoot } from "../package-root.js";
import { loadPolicy } from "../policy/load.js";
import { serviceBinaries } from "../policy/policy.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import type { Command, Io } from "../io.js";

/** Shims for the configured services, in dir (default $XDG_DATA_HOME/downscope/shims). */
export async function ensureShims(io: Io, dir?: string, repin = false): Promise<ShimsReport> {
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  return installShims({
    dir: dir ?? defaultShimsDir(io.env),
    binaries: serviceBinaries(policy),
    env: io.env,
    cwd: io.cwd,
    execEntry: join(packageRoot(), "bin", "downscope-exec.js"),
    repin,
  });
}

export const shims: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: dropYes(argv, io),
    options: { dir: { type: "string" }, repin: { type: "boolean" } },
    allowPositionals: true,
  });
  if (positionals[0] !== "install" || positionals.length !== 1)
    throw new UsageError("usage: downscope shims install [--dir D] [--repin]");
  const dir = values.dir === undefined ? defaultShimsDir(io.env) : resolve(io.cwd, values.dir);
  await confirmByPerson(io, {
    command: "downscope shims install",
    details: `downscope shims install writes the shims in ${dir} and ${values.repin ? "pins the real binaries again (replacing the pins)" : "pins the real binaries it finds on PATH that have no pin yet"}; credentials go only to pinned binaries.`,
  });
  const report = await ensureShims(
    io,
    values.dir === undefined ? undefined : resolve(io.cwd, values.dir),
    values.repin,
  );
  io.stderr(formatShimsReport(report));
  io.stderr(`put it first on PATH: eval "$(downscope env)"  (Claude Code: the SessionStart hook does this)\n`);
  return 0;
};
