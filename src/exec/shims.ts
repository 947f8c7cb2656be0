/**
 * The shims directory: one tiny POSIX sh script per service binary that execs
 * `downscope-exec -- <name> "$@"`, a `downscope-exec` link to the package's
 * entry (so the scripts find it next to themselves), and a `.downscope-shims`
 * marker so the binary look-up skips the directory. Installing also pins the
 * real binaries (pins.ts).
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { dataHome, type Env } from "../paths.js";
import { readPins, writePins } from "./pins.js";
import { isInside } from "../policy/match.js";
import { SHIMS_MARKER } from "../paths.js";
import { lookPath } from "./resolve-binary.js";

export const defaultShimsDir = (env: Env) => join(dataHome(env), "shims");
const SAFE_NAME = /^[A-Za-z0-9_.+-]+$/;
const SHIM_TAG = "downscope shim";

export function shimScript(name: string): string {
  return `#!/bin/sh
# ${SHIM_TAG}: runs ${name} through downscope-exec, which decides the call
# against the policy and hands the real ${name} only the scoped credential.
# See docs/exec.md. Finds downscope-exec relative to this file.
# The wrapper runs on Node: variables that would load code into it or change
# whom it trusts for TLS are dropped before it starts.
here=$(dirname -- "$0")
clean="-u NODE_OPTIONS -u NODE_EXTRA_CA_CERTS -u NODE_PATH -u NODE_TLS_REJECT_UNAUTHORIZED"
if [ -x "$here/downscope-exec" ]; then exec env $clean "$here/downscope-exec" -- ${name} "$@"; fi
exec env $clean "$here/../bin/downscope-exec.js" -- ${name} "$@"
`;
}

export interface ShimsReport {
  dir: string;
  written: string[];
  removed: string[];
  skipped: string[];
  pinned: Record<string, string>;
  kept: Record<string, string>;
  notFound: string[];
  /** Found inside the working directory (the project): not pinned. */
  refused: Record<string, string>;
}

export interface InstallShimsOptions {
  dir: string;
  binaries: Iterable<string>;
  env: Env;
  cwd: string;
  /** Absolute path of bin/downscope-exec.js. */
  execEntry: string;
  /** Re-resolve every pin, replacing existing ones. */
  repin?: boolean;
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function insideDir(real: string, dir: string): boolean {
  let d: string;
  try {
    d = realpathSync(dir);
  } catch {
    d = dir;
  }
  return d !== "/" && isInside(real, d);
}

export function installShims(opts: InstallShimsOptions): ShimsReport {
  const { dir } = opts;
  const report: ShimsReport = {
    dir,
    written: [],
    removed: [],
    skipped: [],
    pinned: {},
    kept: {},
    notFound: [],
    refused: {},
  };
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const marker = join(dir, SHIMS_MARKER);
  if (!existsSync(marker)) writeFileSync(marker, "downscope shims directory; see docs/exec.md\n", { mode: 0o644 });

  const link = join(dir, "downscope-exec");
  let linkOk = false;
  try {
    linkOk = lstatSync(link).isSymbolicLink() && realpathSync(link) === realpathSync(opts.execEntry);
  } catch {
    linkOk = false;
  }
  if (!linkOk) {
    rmSync(link, { force: true });
    symlinkSync(opts.execEntry, link);
  }

  const names = [...new Set(opts.binaries)].sort();
  const wanted = new Set<string>();
  for (const name of names) {
    if (!SAFE_NAME.test(name) || name === "downscope-exec") {
      report.skipped.push(name);
      continue;
    }
    wanted.add(name);
    const path = join(dir, name);
    const text = shimScript(name);
    let current: string | undefined;
    try {
      current = readFileSync(path, "utf8");
    } catch {
      current = undefined;
    }
    if (current !== text) {
      writeAtomic(path, text, 0o755);
      report.written.push(name);
    }
  }
  for (const n of readdirSync(dir)) {
    if (n.startsWith(".") || n === "downscope-exec" || wanted.has(n)) continue;
    try {
      if (readFileSync(join(dir, n), "utf8").includes(SHIM_TAG)) {
        rmSync(join(dir, n), { force: true });
        report.removed.push(n);
      }
    } catch {
      /* not ours */
    }
  }

  const pins = readPins(opts.env);
  const self = [opts.execEntry, link].flatMap((p) => {
    try {
      return [realpathSync(p)];
    } catch {
      return [];
    }
  });
  let changed = false;
  for (const name of wanted) {
    const pin = pins.get(name);
    if (pin !== undefined && !opts.repin) {
      report.kept[name] = pin.path;
      // A pin from before version 2 gets the identity of what it names now (as a new pin would).
      if (pin.identity === undefined) changed = true;
      continue;
    }
    const found = lookPath({ binary: name, path: opts.env.PATH, cwd: opts.cwd, home: opts.env.HOME, selfPaths: self });
    if (found === undefined) {
      report.notFound.push(name);
      continue;
    }
    // Never pin something the project put on PATH (a cloned repo's ./gh via `.`,
    // ./bin or node_modules/.bin): session-start runs this in the project.
    if (insideDir(realpathSync(found), opts.cwd)) {
      report.refused[name] = found;
      continue;
    }
    pins.set(name, { path: found });
    report.pinned[name] = found;
    changed = true;
  }
  if (changed) writePins(opts.env, pins);
  return report;
}

export function formatShimsReport(r: ShimsReport): string {
  const lines = [`shims in ${r.dir}${r.written.length ? ` (written: ${r.written.join(", ")})` : ""}`];
  for (const [k, v] of Object.entries(r.pinned)) lines.push(`  pinned ${k} -> ${v}`);
  for (const [k, v] of Object.entries(r.kept)) lines.push(`  kept pin ${k} -> ${v}`);
  for (const k of r.notFound)
    lines.push(`  ${k}: not found on PATH; not pinned (it will not run until it is installed)`);
  for (const [k, v] of Object.entries(r.refused))
    lines.push(`  ${k}: ${v} is inside the project; not pinned (set binary_path if it really is the one)`);
  for (const k of r.skipped) lines.push(`  ${k}: not a plain command name; no shim written`);
  for (const k of r.removed) lines.push(`  removed stale shim ${k}`);
  return lines.join("\n") + "\n";
}
