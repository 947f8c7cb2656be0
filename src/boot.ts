/**
 * Starts a hot-path bundle (the hook, downscope-exec, credential-process) the
 * cheapest way Node 20 allows; built to dist/boot.cjs and required by bin/.
 *
 *  - CommonJS, not ESM: an ES module entry costs about 8 ms more to start.
 *  - V8 code cache: compiling the bundles is most of what is left once Node
 *    itself is up. The bytecode V8 produced on an earlier run is kept beside
 *    the bundle (dist/.v8-cache/) and handed back to V8, which checks it
 *    against its version and flags and otherwise compiles as usual. The cache
 *    is written only into a package directory owned by the user running it
 *    and read only when it has the same owner as the bundle and no one else
 *    may write it: whoever can change it can already change the bundle, so it
 *    adds no one to the code's trust (docs/security-model.md). A root-owned
 *    install simply runs without it.
 *
 * Bundles load their lazily used siblings (the shell parser, the policy
 * validator) with require("./x.cjs"), which goes through the same cache.
 * This file runs only as the CommonJS dist/boot.cjs (its `require` is that
 * module's own), and it must sit in the same directory as the bundles.
 */
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";

type Loaded = { exports: unknown };
type Pending = { script: Script; path: string; dir: string };

/** What each load found in the cache (tests and `downscope doctor` read it). */
export const loads: { file: string; cache: "hit" | "miss" | "rejected" | "ignored" }[] = [];
const pending: Pending[] = [];
let exitHooked = false;

const loaded = new Map<string, unknown>();

/** Runs `file` (a CommonJS bundle) once and returns its exports. */
export function loadBundle(file: string): unknown {
  if (loaded.has(file)) return loaded.get(file);
  const source = readFileSync(file, "utf8");
  const st = statSync(file, { bigint: true });
  const dir = join(dirname(file), ".v8-cache");
  // The bundle's size and mtime are in the name: a rebuilt bundle never meets an old cache.
  const path = join(dir, `${basename(file)}-${st.size}-${st.mtimeNs}-${process.versions.v8}-${process.arch}.bin`);
  const owner = Number(st.uid);
  const cachedData = readCache(path, owner);
  const cache = cachedData === "ignored" ? "ignored" : cachedData === undefined ? "miss" : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
    filename: file,
    cachedData: typeof cachedData === "string" ? undefined : cachedData,
  });
  const status = cache ?? (script.cachedDataRejected === true ? "rejected" : "hit");
  loads.push({ file, cache: status });
  if (status !== "hit" && owner === process.getuid?.()) remember({ script, path, dir });
  // Bundles live beside this file, so its own require resolves what theirs would
  // (node:module's createRequire would load the ES module loader, about 1 ms).
  const bundleRequire = (id: string): unknown =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- this module's own require (see above)
    id.startsWith("./") && id.endsWith(".cjs") ? loadBundle(join(dirname(file), id)) : require(id);
  const mod: Loaded = { exports: {} };
  // Registered before it runs, as require() does, so a cycle sees the partial exports.
  loaded.set(file, mod.exports);
  try {
    const fn = script.runInThisContext() as (...a: unknown[]) => void;
    fn.call(mod.exports, mod.exports, bundleRequire, mod, file, dirname(file));
  } catch (e) {
    // As require() does: a bundle that failed is not cached half-run.
    loaded.delete(file);
    throw e;
  }
  loaded.set(file, mod.exports);
  return mod.exports;
}

/**
 * The cached bytecode, if it is a regular file of the bundle's owner that no
 * one else may write (a planted or loosened file is ignored, not trusted).
 */
function readCache(path: string, owner: number): Buffer | "ignored" | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== owner || (st.mode & 0o022) !== 0) return "ignored";
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The cache is written when the process exits, so it holds the bytecode of
 * every function this run compiled, not only the top level.
 */
function remember(p: Pending): void {
  pending.push(p);
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const { script, path, dir } of pending) {
      try {
        mkdirSync(dir, { mode: 0o755 });
      } catch {
        // exists (or cannot be made: then the write below fails too)
      }
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData(), { mode: 0o644, flag: "wx" });
        renameSync(tmp, path);
      } catch {
        // Not writable (a root-owned install): run without the cache.
        rmSync(tmp, { force: true });
      }
    }
  });
}
