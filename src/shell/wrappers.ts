/**
 * Commands that run the rest of their argv as a command: `nohup gh …`,
 * `setsid downscope trust`, `timeout 5 gh …`, `flock /tmp/l gh …`. The
 * analyser (analyze.ts) looks through each one to the command it runs, so a
 * service call or a downscope management command inside is seen as if it
 * stood alone; the prefilter (prefilter.ts) sends any command naming one to
 * the analyser. A new wrapper is one row.
 *
 * Each row says how to find the command among the wrapper's own words:
 * options that take a value (the next word, `--opt=value` or the last letter
 * of a cluster like screen's `-dmS name`), and positional operands that come
 * first (timeout's duration, flock's lock file, chroot's directory). Options
 * that take their value in the same word (`--nofile=10`) need no row entry.
 * A `-c STRING` that a wrapper runs in a shell is `string` (flock, runuser,
 * sg).
 *
 * Wrappers with a syntax of their own stay in analyze.ts: env, command, sudo,
 * xargs, find -exec, eval, source, trap, su, watch, script (both forms), the
 * shells, downscope-exec.
 */

export interface ArgvWrapper {
  /** Options that take a value. */
  valueFlags?: readonly string[];
  /** Positional words before the command. */
  operands?: number;
  /** Options whose value is a command string run by a shell. */
  string?: readonly string[];
  /** Numeric options in one word (`nice -10`). */
  numeric?: boolean;
}

export const ARGV_WRAPPERS: Readonly<Record<string, ArgvWrapper>> = {
  nohup: {},
  builtin: {},
  exec: { valueFlags: ["-a"] },
  time: { valueFlags: ["-f", "-o", "--format", "--output"] },
  nice: { valueFlags: ["-n", "--adjustment"], numeric: true },
  timeout: { valueFlags: ["-s", "-k", "--signal", "--kill-after"], operands: 1 },
  stdbuf: { valueFlags: ["-i", "-o", "-e", "--input", "--output", "--error"] },
  doas: { valueFlags: ["-u", "-C"] },
  setsid: {},
  unbuffer: {},
  chronic: {},
  flock: { valueFlags: ["-w", "--timeout", "-E", "--conflict-exit-code"], operands: 1, string: ["-c", "--command"] },
  ionice: { valueFlags: ["-c", "--class", "-n", "--classdata"] },
  chrt: { valueFlags: ["-T", "-P", "-D", "--sched-runtime", "--sched-period", "--sched-deadline"], operands: 1 },
  taskset: { operands: 1 },
  setarch: { operands: 1 },
  linux32: {},
  linux64: {},
  unshare: { valueFlags: ["-S", "--setuid", "-G", "--setgid", "-R", "--root", "-w", "--wd"] },
  chroot: { valueFlags: ["--userspec", "--groups"], operands: 1 },
  nsenter: { valueFlags: ["-t", "--target", "-S", "--setuid", "-G", "--setgid", "-r", "-w"] },
  prlimit: {},
  "systemd-run": {
    valueFlags: ["-u", "--unit", "-p", "--property", "-E", "--setenv", "--slice", "--description", "-M", "--machine"],
  },
  runuser: { valueFlags: ["-u", "--user", "-g", "--group", "-G", "--supp-group"], string: ["-c", "--command"] },
  sg: { operands: 1, string: ["-c"] },
  pkexec: { valueFlags: ["--user"] },
  "dbus-run-session": { valueFlags: ["--config-file", "--dbus-daemon"] },
  "xvfb-run": { valueFlags: ["-n", "--server-num", "-e", "--error-file", "-f", "--auth-file", "-s", "--server-args"] },
  fakeroot: { valueFlags: ["-l", "--lib", "--faked", "-i", "-s"] },
  faketime: { valueFlags: ["-m", "-p"], operands: 1 },
  strace: { valueFlags: ["-o", "-e", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-O", "-S", "-P", "-X"] },
  ltrace: { valueFlags: ["-o", "-e", "-p", "-s", "-u", "-a", "-l", "-n", "-w", "-x", "-L"] },
  valgrind: {},
  caffeinate: { valueFlags: ["-t", "-w"] },
  torsocks: { valueFlags: ["-a", "-P", "-u", "-p", "--address", "--port", "--user", "--pass"] },
  proxychains: { valueFlags: ["-f"] },
  proxychains4: { valueFlags: ["-f"] },
  firejail: {},
  "ssh-agent": { valueFlags: ["-a", "-E", "-P", "-t"] },
  screen: { valueFlags: ["-S", "-c", "-e", "-h", "-p", "-s", "-t", "-T"] },
  catchsegv: {},
  nocache: {},
};

export const ARGV_WRAPPER_NAMES: ReadonlySet<string> = new Set(Object.keys(ARGV_WRAPPERS));

export interface WrapperSplit {
  /** Index of the first word of the wrapped command (words.length: none). */
  command: number;
  /**
   * When the wrapper runs a command string instead (`flock -c STRING`): the
   * index of the word holding it, and whether it is the part after `=`
   * (`--command=STRING`).
   */
  string?: { at: number; afterEquals: boolean };
}

/** Where the wrapped command starts among the wrapper's words (after its name). */
export function splitWrapper(w: ArgvWrapper, words: readonly string[]): WrapperSplit {
  const value = new Set(w.valueFlags ?? []);
  const string = new Set(w.string ?? []);
  let operands = w.operands ?? 0;
  let i = 0;
  while (i < words.length) {
    const v = words[i]!;
    if (v === "--") {
      i++;
      break;
    }
    if (v.startsWith("-") && v !== "-") {
      if (string.has(v)) return { command: words.length, string: { at: i + 1, afterEquals: false } };
      if (v.startsWith("--") && v.includes("=")) {
        if (string.has(v.slice(0, v.indexOf("="))))
          return { command: words.length, string: { at: i, afterEquals: true } };
        i++;
        continue;
      }
      if (w.numeric && /^-\d+$/.test(v)) {
        i++;
        continue;
      }
      // `-n5` carries its value; `-dmS name` takes one for its last letter.
      const takesNext = value.has(v) || (!v.startsWith("--") && v.length > 2 && value.has(`-${v.at(-1)}`));
      i += takesNext ? 2 : 1;
      continue;
    }
    if (operands > 0) {
      operands--;
      i++;
      continue;
    }
    break;
  }
  while (operands > 0 && i < words.length) {
    operands--;
    i++;
  }
  return { command: i };
}
