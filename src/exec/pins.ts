/**
 * Pins: the absolute path of each real CLI and the identity of the file it
 * named, recorded by `downscope shims install` at
 * $XDG_STATE_HOME/downscope/pins.json (0600). At run time a look-up that lands
 * anywhere else gets no credential, and neither does the pinned path once the
 * file it names has changed (see docs/exec.md, "Finding the real binary").
 *
 * The identity is the one the compiled-policy cache compares (device, inode,
 * size, mtime, ctime, to the nanosecond), of the file the path resolves to:
 * cheap on every call, and no user can set a ctime, so a binary replaced by a
 * user-writable install's owner — an agent with a file tool, say — is seen.
 * Hashing a 50 MB binary on every call is what this avoids.
 */
import { mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stateHome, type Env } from "../paths.js";

export interface Pin {
  /** The absolute path the look-up found when it was pinned. */
  path: string;
  /** `dev:ino:size:mtimeNs:ctimeNs` of the file `path` resolved to; missing in pins from before version 2. */
  identity?: string;
}

interface PinFileV1 {
  version: 1;
  pins: Record<string, string>;
}

interface PinFileV2 {
  version: 2;
  pins: Record<string, { path: string; identity: string }>;
}

export const pinsPath = (env: Env) => join(stateHome(env), "pins.json");

/** The identity of the file `path` resolves to, or undefined if there is none. */
export function binaryIdentity(path: string): string | undefined {
  try {
    const st = statSync(realpathSync.native(path), { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** The pins, or an empty map when there is no file. A corrupt file is an error: it must not silently unpin. */
export function readPins(env: Env): Map<string, Pin> {
  const file = pinsPath(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    const data = JSON.parse(text) as Partial<PinFileV1 | PinFileV2>;
    if (typeof data.pins !== "object" || data.pins === null) throw new Error("bad shape");
    if (data.version === 1)
      return new Map(
        Object.entries(data.pins as Record<string, unknown>)
          .filter((e): e is [string, string] => typeof e[1] === "string")
          .map(([k, path]) => [k, { path }]),
      );
    if (data.version !== 2) throw new Error("bad version");
    const out = new Map<string, Pin>();
    for (const [k, v] of Object.entries(data.pins as Record<string, unknown>)) {
      const p = v as Partial<Pin> | null;
      if (p === null || typeof p.path !== "string" || typeof p.identity !== "string") throw new Error("bad pin");
      out.set(k, { path: p.path, identity: p.identity });
    }
    return out;
  } catch {
    throw new Error(`${file} is corrupt; run \`downscope shims install --repin\` to rewrite it`);
  }
}

/** Writes the pins, each with the identity of the file it names now. */
export function writePins(env: Env, pins: ReadonlyMap<string, string | Pin>): void {
  const file = pinsPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const out: PinFileV2["pins"] = {};
  for (const [k, v] of [...pins].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const path = typeof v === "string" ? v : v.path;
    const identity = (typeof v === "string" ? undefined : v.identity) ?? binaryIdentity(path);
    if (identity === undefined) continue; // nothing there to pin
    out[k] = { path, identity };
  }
  const data: PinFileV2 = { version: 2, pins: out };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}
