/**
 * The filesystem the real CLI sees when it runs outside Claude Code's sandbox
 * in contained mode (Linux: bubblewrap, the tool that sandbox is built on).
 *
 * An allowlist, not a denylist (docs/adr/ADR-001-confined-cli-allowlist.md):
 * the new root starts empty and gets
 *   - the system directories, read-only (/usr and its links, /etc, /opt,
 *     /nix), and the file /etc/resolv.conf points at;
 *   - an empty, private, writable home and /tmp (the CLI's caches go there
 *     and vanish with it);
 *   - the install tree of the real binary and of its script interpreter,
 *     read-only, when they are not system directories (a `~/.pyenv`, a
 *     `~/.local/bin`);
 *   - the project, writable (its `.claude/`, `.git/hooks` and `.mcp.json`
 *     read-only), and the run directory with the config downscope wrote;
 *   - then, on top, every protected location that falls inside one of those
 *     trees made empty again (downscope's keys, state and caches, the
 *     credential stores).
 * No procfs: without /proc the CLI cannot name its own environment
 * (/proc/self/environ), which holds its credential, nor anyone else's; /dev
 * is bubblewrap's minimal one. A new session, PID and IPC namespace, no
 * capabilities. The network is left as it is: the CLI must reach its API.
 *
 * Pure but for the file system reads that decide what exists (stat,
 * realpath, the first bytes of a script): builds the argv, runs nothing.
 */
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { inside } from "../../paths.js";

/** Top-level directories of the host that hold the system, bound read-only (or recreated as links). */
const SYSTEM_ROOTS = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "opt", "nix"] as const;

/** The real binary is found here without binding anything more. */
function inSystem(real: string): boolean {
  return SYSTEM_ROOTS.some((r) => inside(real, `/${r}`));
}

/** Home directories that hold unrelated things (secrets among them): bind one level deeper. */
const SHARED_HOME_DIRS = new Set([".local", ".config", ".cache"]);

export interface NamespaceInput {
  /** The real binary (realpath): what bubblewrap execs. */
  binary: string;
  /** Its arguments. */
  args: readonly string[];
  /** Realpaths. */
  home: string;
  project: string;
  cwd: string;
  runDir: string;
  /** The PATH the CLI gets (to find a script's `env` interpreter). */
  path: string;
  /** Locations to empty again if they fall inside a bound tree (absolute). */
  hidden: readonly string[];
  /** Extra files to bind read-only (a CA bundle the policy passes with pass_env). */
  readOnlyFiles: readonly string[];
  /** Writable directories beside the project (the git directory of the project's repository when it lies outside it). */
  writableDirs: readonly string[];
}

/** bubblewrap's argv (after the bwrap path) that runs the binary in the confined namespace. */
export function namespaceArgv(bwrap: string, n: NamespaceInput): string[] {
  const out = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts"];
  out.push("--unshare-cgroup-try", "--cap-drop", "ALL");
  for (const r of SYSTEM_ROOTS) {
    const p = `/${r}`;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) out.push("--symlink", readlinkSync(p), p);
    else if (st.isDirectory()) out.push("--ro-bind", p, p);
  }
  // /etc/resolv.conf is often a link into /run (systemd-resolved): the resolver needs its target.
  for (const f of ["/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"]) {
    const real = realpathOr(f);
    if (real !== undefined && !inSystem(real)) out.push("--ro-bind", real, real);
  }
  out.push("--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp");
  if (n.home !== "/" && n.home !== "") out.push("--tmpfs", n.home);

  const trees = new Set<string>();
  for (const t of installTrees(n.binary, n.home, n.path)) trees.add(t);
  const bound: string[] = [];
  for (const t of [...trees].sort()) {
    if (inside(n.project, t)) continue; // the project is bound writable below; a tree above it would hide nothing
    out.push("--ro-bind", t, t);
    bound.push(t);
  }
  for (const f of n.readOnlyFiles) {
    out.push("--ro-bind", f, f);
    bound.push(f);
  }
  out.push("--bind", n.project, n.project);
  for (const p of [".claude", join(".git", "hooks"), ".mcp.json"]) {
    const abs = join(n.project, p);
    out.push("--ro-bind-try", abs, abs);
  }
  for (const d of n.writableDirs) out.push("--bind", d, d);
  out.push("--bind", n.runDir, n.runDir);
  bound.push(n.project, ...n.writableDirs);
  // Protected locations inside anything bound are made empty again (a project in the home, a tree in ~/.local).
  for (const h of [...new Set(n.hidden)].sort()) {
    if (!bound.some((b) => inside(h, b)) || inside(n.runDir, h) || inside(h, n.runDir)) continue;
    let st;
    try {
      st = statSync(h);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push("--tmpfs", h);
    else out.push("--ro-bind", "/dev/null", h);
  }
  out.push("--chdir", n.cwd, "--", n.binary, ...n.args);
  return out;
}

/**
 * The directories the binary needs from outside the system roots, read-only:
 * its install tree, and that of its script interpreter (`#!/path/python`,
 * `#!/usr/bin/env node` looked up on PATH), one level deep.
 */
export function installTrees(binary: string, home: string, path: string): string[] {
  const out = new Set<string>();
  const add = (file: string) => {
    const real = realpathOr(file);
    if (real === undefined || inSystem(real)) return real;
    out.add(treeOf(real, home));
    return real;
  };
  const real = add(binary);
  const interp = real === undefined ? undefined : interpreterOf(real, path);
  if (interp !== undefined) add(interp);
  return [...out];
}

/**
 * The tree a binary outside the system roots needs: its top directory in the
 * home (`~/.pyenv`; one level deeper in the shared `~/.local`, `~/.config`,
 * `~/.cache`), else the prefix above its `bin/` or `shims/` directory (a
 * `/home/linuxbrew/.linuxbrew`), else its own directory. Never a directory
 * that holds the home itself.
 */
function treeOf(real: string, home: string): string {
  const hasHome = home !== "/" && home !== "";
  if (hasHome && inside(real, home) && real !== home) {
    const parts = real.slice(home.length + 1).split(sep);
    const depth = SHARED_HOME_DIRS.has(parts[0]!) && parts.length > 2 ? 2 : 1;
    const top = join(home, ...parts.slice(0, Math.min(depth, parts.length - 1)));
    return top === home ? real : top;
  }
  const dir = dirname(real);
  const prefix = dirname(dir);
  if (["bin", "sbin", "shims"].includes(basename(dir)) && prefix !== "/" && !(hasHome && inside(home, prefix)))
    return prefix;
  return dir;
}

/** A script's interpreter, if the file starts with `#!` (`env NAME` is looked up on PATH). */
export function interpreterOf(file: string, path: string): string | undefined {
  let head: string;
  try {
    const fd = openSync(file, "r");
    try {
      const buf = Buffer.alloc(256);
      head = buf.subarray(0, readSync(fd, buf, 0, 256, 0)).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (!head.startsWith("#!")) return undefined;
  const words = head.slice(2).split("\n")[0]!.trim().split(/\s+/);
  const first = words[0];
  if (first === undefined || !isAbsolute(first)) return undefined;
  if (first.endsWith("/env")) {
    const name = words.slice(1).find((w) => !w.startsWith("-"));
    if (name === undefined) return undefined;
    for (const dir of path.split(delimiter)) {
      if (!isAbsolute(dir)) continue;
      const cand = resolve(dir, name);
      if (existsSync(cand)) return cand;
    }
    return undefined;
  }
  return first;
}

function realpathOr(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}
