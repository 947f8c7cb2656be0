/**
 * `downscope` entry: argv → command. The only place that calls process.exit
 * and maps typed errors to exit codes and one-line messages.
 */
import { COMMANDS } from "./commands.js";
import type { Io } from "../io.js";
import { reportError } from "./report-error.js";

export { reportError };

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stderr(usage());
    return name === undefined ? 64 : 0;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr(`downscope: unknown command "${name}"\n\n${usage()}`);
    return 64;
  }
  if (rest[0] === "--help" || rest[0] === "-h") {
    io.stderr(`usage: ${entry.usage}\n\n${entry.summary}\n`);
    return 0;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (e) {
    return reportError(e, io);
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "dev";

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`);
  return `usage: downscope <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nEnvironment: DOWNSCOPE_CONFIG (project policy file), DOWNSCOPE_DEBUG (debug output on stderr).\n`;
}
