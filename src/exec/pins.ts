/**
 * Pins: the absolute path of each real CLI, recorded by `downscope shims
 * install` at $XDG_STATE_HOME/downscope/pins.json (0600). At run time a
 * look-up that lands anywhere else gets no credential (see docs/exec.md,
 * "Finding the real binary").
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stateHome, type Env } from "../paths.js";

interface PinFile {
  version: 1;
  /** binary name → absolute path the PATH look-up found when pinned */
  pins: Record<string, string>;
}

export const pinsPath = (env: Env) => join(stateHome(env), "pins.json");

/** The pins, or an empty map when there is no file. A corrupt file is an error: it must not silently unpin. */
export function readPins(env: Env): Map<string, string> {
  const file = pinsPath(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    const data = JSON.parse(text) as Partial<PinFile>;
    if (data.version !== 1 || typeof data.pins !== "object" || data.pins === null) throw new Error("bad shape");
    return new Map(Object.entries(data.pins).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    throw new Error(`${file} is corrupt; run \`downscope shims install --repin\` to rewrite it`);
  }
}

export function writePins(env: Env, pins: ReadonlyMap<string, string>): void {
  const file = pinsPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const data: PinFile = { version: 1, pins: Object.fromEntries([...pins].sort()) };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}
