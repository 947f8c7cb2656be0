/**
 * `downscope env [--dir D]`: refreshes the shims and prints the line that puts
 * them first on PATH, for a plain shell: eval "$(downscope env)".
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { shellQuote } from "../exec/env.js";
import type { Command } from "../io.js";
import { ensureShims } from "./shims.js";

export function pathExportLine(dir: string): string {
  return `export PATH=${shellQuote(dir)}":$PATH"\n`;
}

export const env: Command = async (argv, io) => {
  const { values } = parseArgs({ args: argv, options: { dir: { type: "string" } } });
  const report = await ensureShims(io, values.dir === undefined ? undefined : resolve(io.cwd, values.dir));
  io.stdout(pathExportLine(report.dir));
  return 0;
};
