/**
 * Finding the real binary for a service, skipping the shims and downscope-exec
 * itself, and checking it against the pin. Only a binary that passes gets a
 * credential.
 *
 *  1. `binary_path` from the trusted layer that grants the credential wins.
 *  2. Otherwise search PATH, skipping directories that hold a `.downscope-shims`
 *     marker and any file whose realpath is a shim or downscope-exec.
 *  3. If a pin exists, the result must be the pinned path (or the same file).
 *     Without a pin, only a "system" binary is accepted: it and every directory
 *     above it are owned by root and not writable by group or others, and it
 *     lies outside $HOME, the working directory and the temp directory. No
 *     trust on first use: an agent could otherwise pin its own ./gh.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { CredentialUnavailable, UsageError } from "../errors.js";
import { SHIMS_MARKER } from "../paths.js";
import { isInside } from "../policy/match.js";
import { binaryIdentity, type Pin } from "./pins.js";

export interface ResolveInput {
  binary: string;
  path: string | undefined;
  cwd: string;
  home: string | undefined;
  /** From a trusted layer. */
  binaryPath?: string;
  pin?: Pin;
  /** Realpaths that are downscope itself (downscope-exec's entry and bundle). */
  selfPaths: readonly string[];
}

export interface Resolved {
  path: string;
  how: "binary_path" | "pinned" | "system";
}

function realpathOr(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A shim script written by downscope: it names downscope-exec in its first lines. */
function isShim(real: string): boolean {
  if (existsSync(join(dirname(real), SHIMS_MARKER))) return true;
  try {
    const fd = openSync(real, "r");
    try {
      const buf = Buffer.alloc(512);
      const n = readSync(fd, buf, 0, 512, 0);
      const head = buf.subarray(0, n).toString("utf8");
      return head.startsWith("#!") && head.includes("downscope shim");
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** The first candidate on PATH that is not a shim or downscope itself. */
export function lookPath(input: ResolveInput): string | undefined {
  const self = new Set(input.selfPaths);
  for (const raw of (input.path ?? "").split(delimiter)) {
    // An empty PATH entry means the current directory, as in the shell.
    const dir = resolve(input.cwd, raw === "" ? "." : raw);
    if (existsSync(join(dir, SHIMS_MARKER))) continue;
    const candidate = join(dir, input.binary);
    if (!isExecutableFile(candidate)) continue;
    const real = realpathOr(candidate);
    if (real === undefined || self.has(real) || isShim(real)) continue;
    return candidate;
  }
  return undefined;
}

/** Is p (a realpath) inside the working directory or a temp directory (where an agent drops files)? */
export function inScratchLocation(real: string, cwd: string): boolean {
  for (const d of [cwd, tmpdir(), "/tmp", "/var/tmp", "/dev/shm"]) {
    if (d === "") continue;
    const rd = realpathOr(d) ?? d;
    if (rd !== "/" && isInside(real, rd)) return true;
  }
  return false;
}

/** Is p (a realpath) a binary the agent cannot have written? See the header. */
export function isSystemBinary(real: string, cwd: string, home: string | undefined): boolean {
  if (inScratchLocation(real, cwd)) return false;
  if (home !== undefined && home !== "") {
    const rh = realpathOr(home) ?? home;
    if (rh !== "/" && isInside(real, rh)) return false;
  }
  let p = real;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch {
      return false;
    }
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    const parent = dirname(p);
    if (parent === p) return true;
    p = parent;
  }
}

export function resolveRealBinary(input: ResolveInput): Resolved {
  if (input.binaryPath !== undefined) {
    if (!isAbsolute(input.binaryPath) || !isExecutableFile(input.binaryPath))
      throw new UsageError(`${input.binary}: binary_path ${input.binaryPath} is not an executable file`);
    return { path: input.binaryPath, how: "binary_path" };
  }
  const found = lookPath(input);
  if (found === undefined)
    throw new UsageError(
      `${input.binary}: the real ${input.binary} is not installed (not found on PATH outside the downscope shims); install it or set binary_path for the service`,
    );
  const real = realpathOr(found) ?? found;
  if (input.pin !== undefined) {
    // The pin is the path the look-up found when it was recorded; another path to the same file passes too.
    const pin = input.pin;
    const pinned = realpathOr(pin.path) ?? pin.path;
    if (found !== pin.path && real !== pinned)
      throw new CredentialUnavailable(
        `${input.binary}: the ${input.binary} found on PATH (${found}) is not the pinned real binary (${pin.path}); no credential is handed to it. Remove ${found} from PATH, or run \`downscope shims install --repin\` yourself if it is the real one`,
      );
    // The file it names must be the one pinned: an upgrade, or a replacement written by anyone who can
    // write there, gets no credential until a person pins it again.
    const now = binaryIdentity(pin.path);
    if (pin.identity === undefined || now !== pin.identity)
      throw new CredentialUnavailable(
        pin.identity === undefined
          ? `${input.binary}: the pin of ${pin.path} was recorded by an older downscope without the file's identity; no credential is handed to it until it is pinned again. Ask the user to run \`downscope shims install --repin\` in their own terminal`
          : `${input.binary}: ${pin.path} changed since it was pinned (${now === undefined ? "it is gone" : "another file, size or modification time"}); no credential is handed to a binary that is not the one pinned. If the user upgraded it, they re-pin it in their own terminal with \`downscope shims install --repin\`; if not, someone replaced it: tell the user`,
      );
    return { path: found, how: "pinned" };
  }
  if (!isSystemBinary(real, input.cwd, input.home))
    throw new CredentialUnavailable(
      `${input.binary}: ${found} is not pinned and not a system binary (root-owned, outside HOME, the project and temp dirs); no credential is handed to it. Run \`downscope shims install\` to pin the real ${input.binary}, or set binary_path in your user config`,
    );
  return { path: found, how: "system" };
}

export const binaryName = (p: string) => basename(p);
