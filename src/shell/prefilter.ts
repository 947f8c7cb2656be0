/**
 * The hook's fast path: commands that cannot involve a service, recognised
 * without loading the shell parser (the hook runs before every Bash command,
 * and most of them call no service).
 *
 * A command is skipped only if BOTH hold:
 *  - it is made of plain characters: no quotes, \`$\`, backticks, backslashes,
 *    globs, parentheses or braces — so no word can be built, expanded,
 *    substituted or defined as a function at run time;
 *  - no word in it (split at every other character, also at \`=\`) has a
 *    basename that is a service binary, a shell, a wrapper that runs another
 *    command (env, sudo, xargs, find, …), eval/source/\`.\`/exec/alias/trap,
 *    downscope itself, or a DOWNSCOPE_ variable.
 * Everything else goes to the full analysis. The test
 * test/shell/prefilter.test.ts proves on every corpus case that a skipped
 * command is one the full analysis answers with nothing.
 */

import { ARGV_WRAPPER_NAMES } from "./wrappers.js";

const PLAIN = /^[A-Za-z0-9_\-./=:,+@%&|;<> \t\n~!#]*$/;

// The analyzer's shells, wrappers and definitions (src/shell/analyze.ts, wrappers.ts), and downscope itself.
export const RUNS_OTHERS: ReadonlySet<string> = new Set([
  ...["bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "busybox"],
  ...["eval", "source", ".", "exec", "command", "builtin", "alias", "trap", "function", "coproc"],
  ...["env", "sudo", "su", "xargs", "find", "watch", "script"],
  ...ARGV_WRAPPER_NAMES,
  ...["export", "declare", "local", "readonly", "typeset", "unset"],
  ...["downscope", "downscope-exec", "downscope-exec.js", "downscope.js"],
]);

export function mayInvolveService(command: string, binaries: ReadonlySet<string>): boolean {
  if (!PLAIN.test(command)) return true;
  for (const word of command.split(/[^A-Za-z0-9_\-./@%+:,]+/)) {
    if (word === "") continue;
    if (word.startsWith("DOWNSCOPE_")) return true;
    const base = word.slice(word.lastIndexOf("/") + 1);
    if (binaries.has(base) || RUNS_OTHERS.has(base) || (base === "" && word === ".")) return true;
  }
  return false;
}
