/**
 * Bash text → every simple command it would run, with positions (pure).
 *
 * Uses `unbash` (a real Bash grammar; synchronous; positions and dequoted
 * values on every word) and walks the whole tree: lists, pipelines, `&`,
 * subshells, groups, `$(…)`, backticks, process substitution, here-doc
 * bodies, if/for/while/case, function bodies. Each command word is judged
 * after quote removal (including ANSI-C `$'\x67\x68'`) and by basename, and the
 * usual wrappers (env, sudo, timeout, xargs, find -exec, `bash -c '…'`,
 * `eval '…'`, …) are unwrapped to find what they really run; literal strings
 * given to a shell are parsed recursively.
 *
 * What cannot be known statically is reported in `unresolved` with the
 * construct named; the hook decides what to do with it. Nothing here knows
 * about services or policies.
 */
import { ARGV_WRAPPERS, splitWrapper } from "./wrappers.js";
import { quote } from "./quote.js";
import { forEachChild, parse, type Command, type SyntaxNode, type Word, type WordPart } from "unbash";

export interface ShellInvocation {
  /** Basename of the command word after quote removal and unwrapping (`/usr/bin/gh` → `gh`). */
  binary: string;
  /** The command word's value after quote removal (may be a path). */
  word: string;
  /** Arguments after quote removal. Dynamic parts (`$X`, globs) are kept as written. */
  args: string[];
  /** Some argument is not known statically (an expansion, a glob, or xargs/find -exec filling it in). */
  dynamicArgs: boolean;
  /**
   * Offset in the analysed text where `downscope-exec ` can be inserted in
   * front of the command word. Undefined when the command sits inside a
   * string run by another shell (`bash -c '…'`, `eval`, `trap`, escaped
   * backticks), where the text cannot be rewritten in place.
   */
  insertAt: number | undefined;
  /** Wrapper commands it was found inside, outermost first (`sudo`, `timeout`, `downscope-exec`, …). */
  wrappers: string[];
  /** It carries environment assignments (`X=1 gh …`, `env X=1 gh …`). */
  assigns: boolean;
  /** Offset of the top-level construct it came from (for ordering against environment changes). */
  pos: number;
  /** Source text of the simple command, for messages. */
  text: string;
}

export interface Unresolved {
  /** What could not be resolved, e.g. "a command name from a variable". */
  construct: string;
  /** Wrappers it sat inside (`sudo $CMD` → [sudo]). */
  wrappers: string[];
  text: string;
  pos: number;
}

/** An environment variable set, exported or unset before or for a command. `*` means the whole environment (`env -i`). */
export interface EnvChange {
  name: string;
  pos: number;
}

export interface Definition {
  kind: "alias" | "function";
  name: string;
  pos: number;
}

/** A redirection's target: where a command writes (`>`, `>>`, `&>`, …) or reads (`<`). */
export interface Redirection {
  target: string;
  /** The target is not known statically (an expansion or a glob). */
  dynamic: boolean;
  writes: boolean;
  pos: number;
}

export interface ShellAnalysis {
  invocations: ShellInvocation[];
  /** Redirections to or from files (fd duplications and /dev/null left out). */
  redirections: Redirection[];
  unresolved: Unresolved[];
  envChanges: EnvChange[];
  definitions: Definition[];
  /** Some output redirection writes to a file (anything but /dev/null and fd duplication). */
  writesFiles: boolean;
  /** Parse errors, `message at offset`. */
  errors: string[];
}

/** Strings given to shells are parsed recursively down to this depth; deeper is unresolved. */
const MAX_DEPTH = 8;

export function analyzeShell(text: string): ShellAnalysis {
  const out: ShellAnalysis = {
    invocations: [],
    redirections: [],
    unresolved: [],
    envChanges: [],
    definitions: [],
    writesFiles: false,
    errors: [],
  };
  analyzeInto(text, out, { depth: 0, outerPos: undefined, wrappers: [] });
  return out;
}

interface Scope {
  depth: number;
  /** Set when analysing a string nested in a word of the original text: every position becomes this one. */
  outerPos: number | undefined;
  /** Wrappers around the string being analysed (`sudo bash -c '…'` → [sudo, bash]). */
  wrappers: string[];
}

/** A command-line word, reduced to what unwrapping needs. */
interface Arg {
  value: string;
  dynamic: boolean;
  pos: number;
  /** Set for `NAME=value` words the parser recognised as assignments. */
  assignment?: string;
}

function analyzeInto(text: string, out: ShellAnalysis, scope: Scope): void {
  if (scope.depth > MAX_DEPTH) {
    out.unresolved.push({
      construct: "shell strings nested too deeply",
      text,
      pos: scope.outerPos ?? 0,
      wrappers: scope.wrappers,
    });
    return;
  }
  const script = parse(text);
  const at = (p: number) => scope.outerPos ?? p;
  for (const e of script.errors ?? []) out.errors.push(`${e.message} at offset ${at(e.pos)}`);

  // `source` is the text positions index into; escaped-backtick scripts own a decoded copy.
  const visit = (node: SyntaxNode, source: string, direct: boolean): void => {
    if (node.type === "Script" && node.source !== undefined && node.source !== source) {
      source = node.source;
      direct = false;
    }
    // A nested script (substitution, backticks) reports its own parse errors.
    if (node.type === "Script" && node !== script) {
      for (const e of node.errors ?? []) out.errors.push(`${e.message} at offset ${at(e.pos)}`);
    }
    if (node.type === "Command") simpleCommand(node, source, direct);
    else if (node.type === "Function")
      out.definitions.push({ kind: "function", name: node.name.value, pos: at(node.pos) });
    else if (node.type === "Redirect") {
      if (writesFile(node.operator, node.target)) out.writesFiles = true;
      const r = redirection(node.operator, node.target, at(node.pos));
      if (r) out.redirections.push(r);
    }
    forEachChild(node, (c) => visit(c, source, direct));
  };

  const simpleCommand = (cmd: Command, source: string, direct: boolean): void => {
    const pos = at(cmd.pos);
    const cmdText = source.slice(cmd.pos, cmd.end);
    let assigns = false;
    for (const p of cmd.prefix) {
      if (p.type === "Assignment") {
        out.envChanges.push({ name: p.name, pos });
        assigns = true;
      }
    }
    if (!cmd.name) return; // a bare assignment: recorded above
    const words: Arg[] = [argOf(cmd.name), ...cmd.args.map(argOf)];
    unwrap(words, {
      wrappers: scope.wrappers,
      assigns,
      dynamicArgs: false,
      direct: direct && scope.outerPos === undefined,
      pos,
      text: cmdText,
    });
  };

  interface Frame {
    wrappers: string[];
    assigns: boolean;
    dynamicArgs: boolean;
    direct: boolean;
    pos: number;
    text: string;
  }

  const unresolved = (construct: string, f: Frame) =>
    out.unresolved.push({ construct, text: f.text, pos: f.pos, wrappers: f.wrappers });

  /** Parses a string that `runner` (bash -c, eval, …) will run. */
  const nested = (str: string, f: Frame, runner: string) =>
    analyzeInto(str, out, { depth: scope.depth + 1, outerPos: f.pos, wrappers: [...f.wrappers, runner] });

  const unwrap = (words: Arg[], f: Frame): void => {
    for (;;) {
      const cmd = words[0];
      if (cmd === undefined) return;
      if (cmd.dynamic) return void unresolved("a command name from a variable, substitution or glob", f);
      const name = basename(cmd.value);
      const rest = words.slice(1);
      const wrap = (next: Arg[] | undefined, extra: Partial<Frame> = {}) => {
        if (next === undefined) return false;
        words = next;
        f = { ...f, ...extra, wrappers: [...f.wrappers, name] };
        return true;
      };
      switch (name) {
        case "env": {
          const r = envOperands(rest, f.pos, out.envChanges);
          if (r.split !== undefined) {
            if (r.split.dynamic) return void unresolved("env -S with a non-literal string", f);
            nested([r.split.value, ...r.after.map((a) => quote(a.value))].join(" "), f, "env");
            return;
          }
          if (r.assigns) f = { ...f, assigns: true };
          if (!wrap(r.after)) return;
          if (words.length === 0) return;
          continue;
        }
        case "command": {
          const opts = skipOptions(rest, {});
          if (rest.slice(0, rest.length - opts.length).some((a) => /^-[pvV]*[vV]/.test(a.value)))
            return emit(cmd, rest, f); // command -v: a lookup
          wrap(opts);
          continue;
        }
        case "sudo": {
          const after = skipOptions(rest, SUDO_VALUE_FLAGS);
          const cmdAt = skipAssignments(after, f.pos, out.envChanges);
          wrap(cmdAt.words, cmdAt.assigns ? { assigns: true } : {});
          continue;
        }
        case "xargs": {
          const after = skipOptions(rest, XARGS_VALUE_FLAGS, /^-(i|e|l)/);
          if (after.length === 0) return emit(cmd, rest, f); // xargs alone runs echo
          wrap(after, { dynamicArgs: true });
          continue;
        }
        case "find": {
          emit(cmd, rest, f);
          for (let i = 0; i < rest.length; i++) {
            if (!["-exec", "-execdir", "-ok", "-okdir"].includes(rest[i]!.value)) continue;
            const end = rest.findIndex((a, j) => j > i && (a.value === ";" || a.value === "+"));
            const sub = rest.slice(i + 1, end === -1 ? undefined : end);
            unwrap(sub, { ...f, wrappers: [...f.wrappers, "find"], dynamicArgs: true });
            if (end === -1) break;
            i = end;
          }
          return;
        }
        case "downscope-exec":
        case "downscope-exec.js":
          // Written by the agent, not by the hook: judge what it wraps.
          wrap(skipOptions(rest, EXEC_VALUE_FLAGS));
          continue;
        case "node":
        case "nodejs": {
          // `node …/downscope-exec.js gh …` (contained mode's spelling) wraps like downscope-exec.
          const script = skipOptions(rest, NODE_VALUE_FLAGS);
          if (script[0] !== undefined && /^downscope-exec(\.c?js)?$/.test(basename(script[0].value))) {
            words = [{ ...script[0], value: "downscope-exec.js" }, ...script.slice(1)];
            continue;
          }
          return emit(cmd, rest, f);
        }
        case "eval": {
          emit(cmd, rest, f);
          if (rest.some((a) => a.dynamic)) return void unresolved("eval of a non-literal string", f);
          if (rest.length > 0) nested(rest.map((a) => a.value).join(" "), f, "eval");
          return;
        }
        case "source":
        case ".":
          emit(cmd, rest, f);
          return void unresolved(`\`${name}\` of a file`, f);
        case "trap": {
          emit(cmd, rest, f);
          const action = rest.find((a) => !a.value.startsWith("-"));
          if (action === undefined || action.value === "" || action.value === "-") return;
          if (action.dynamic) return void unresolved("trap with a non-literal command", f);
          nested(action.value, f, "trap");
          return;
        }
        case "su": {
          emit(cmd, rest, f);
          const i = rest.findIndex((a) => a.value === "-c" || a.value === "--command");
          const s = i === -1 ? undefined : rest[i + 1];
          const eq = rest.find((a) => a.value.startsWith("--command="));
          if (eq) nestedOrUnresolved(eq.value.slice("--command=".length), eq.dynamic, "su -c", f);
          else if (s) nestedOrUnresolved(s.value, s.dynamic, "su -c", f);
          return;
        }
        case "watch": {
          emit(cmd, rest, f);
          const after = skipOptions(rest, { "-n": true, "-d": false, "--interval": true, "-q": true, "-g": false });
          if (after.length > 0) {
            if (after.some((a) => a.dynamic)) return void unresolved("watch with a non-literal command", f);
            nested(after.map((a) => a.value).join(" "), f, "watch");
          }
          return;
        }
        case "script": {
          // util-linux script(1): `script -c 'command' [file]` runs the string in a shell;
          // BSD/macOS script(1): `script [-aq] [-t time] [file [command ...]]` runs the argv after the file.
          emit(cmd, rest, f);
          let i = 0;
          for (; i < rest.length; i++) {
            const v = rest[i]!.value;
            if (v === "-c" || v === "--command" || (/^-[a-zA-Z]+$/.test(v) && v.endsWith("c"))) {
              const s = rest[i + 1];
              if (s) nestedOrUnresolved(s.value, s.dynamic, "script -c", f);
              return;
            }
            if (v.startsWith("--command=")) return nestedOrUnresolved(v.slice(10), rest[i]!.dynamic, "script -c", f);
            if (v === "--") {
              i++;
              break;
            }
            if (!v.startsWith("-") || v === "-") break;
            if (v === "-t" || v === "-T" || v === "-E" || v === "-I" || v === "-O" || v === "-B") i++;
          }
          const argv = dropDashDash(rest.slice(i + 1)); // after the typescript file
          if (argv.length > 0) wrap(argv);
          else return;
          continue;
        }
        case "alias":
          emit(cmd, rest, f);
          for (const a of rest) {
            const eq = a.value.indexOf("=");
            if (eq > 0) out.definitions.push({ kind: "alias", name: a.value.slice(0, eq), pos: f.pos });
          }
          return;
        case "export":
        case "declare":
        case "typeset":
        case "local":
        case "readonly":
          emit(cmd, rest, f);
          for (const a of rest) {
            if (a.value.startsWith("-") || a.value.startsWith("+")) continue;
            const eq = a.value.indexOf("=");
            out.envChanges.push({ name: eq === -1 ? a.value : a.value.slice(0, eq), pos: f.pos });
          }
          return;
        case "unset":
          emit(cmd, rest, f);
          for (const a of rest) if (!a.value.startsWith("-")) out.envChanges.push({ name: a.value, pos: f.pos });
          return;
        default: {
          if (SHELLS.has(name)) return shell(cmd, rest, f);
          const row = ARGV_WRAPPERS[name];
          if (row === undefined) return emit(cmd, rest, f);
          // A wrapper that runs its argv (src/shell/wrappers.ts): the command after its options.
          const split = splitWrapper(
            row,
            rest.map((a) => a.value),
          );
          if (split.string !== undefined) {
            emit(cmd, rest, f);
            const s = rest[split.string.at];
            if (s === undefined) return;
            const text = split.string.afterEquals ? s.value.slice(s.value.indexOf("=") + 1) : s.value;
            return nestedOrUnresolved(text, s.dynamic, `${name} -c`, f);
          }
          if (rest.slice(0, split.command).some((a) => a.dynamic))
            return void unresolved(`${name} with a non-literal option`, f);
          if (split.command >= rest.length) return emit(cmd, rest, f);
          wrap(rest.slice(split.command));
          continue;
        }
      }
    }
  };

  const nestedOrUnresolved = (value: string, dynamic: boolean, what: string, f: Frame) => {
    if (dynamic) unresolved(`${what} with a non-literal string`, f);
    else nested(value, f, what.split(" ")[0]!);
  };

  const shell = (cmd: Arg, rest: Arg[], f: Frame): void => {
    emit(cmd, rest, f);
    let cflag = false;
    let stdin = false;
    let i = 0;
    for (; i < rest.length; i++) {
      const a = rest[i]!;
      if (a.dynamic) return void unresolved(`${basename(cmd.value)} with a non-literal option`, f);
      const v = a.value;
      if (v === "--" || v === "-") {
        i++;
        break;
      }
      if (/^[-+][oO]$/.test(v) || v === "--rcfile" || v === "--init-file") {
        i++;
        continue;
      }
      if (v.startsWith("--")) continue;
      if (/^[-+][A-Za-z]+$/.test(v)) {
        if (v.startsWith("-") && v.includes("c")) cflag = true;
        if (v.startsWith("-") && v.includes("s")) stdin = true;
        continue;
      }
      break;
    }
    const operand = rest[i];
    if (cflag) {
      if (operand === undefined) return;
      return nestedOrUnresolved(operand.value, operand.dynamic, `${basename(cmd.value)} -c`, f);
    }
    if (operand === undefined || stdin) unresolved("a script fed to a shell on stdin or by here-doc", f);
    // `bash script.sh` runs a file like `./script.sh` does: left to the shims.
  };

  const emit = (cmd: Arg, args: Arg[], f: Frame): void => {
    out.invocations.push({
      binary: basename(cmd.value),
      word: cmd.value,
      args: args.map((a) => a.value),
      dynamicArgs: f.dynamicArgs || args.some((a) => a.dynamic),
      insertAt: f.direct ? cmd.pos : undefined,
      wrappers: f.wrappers,
      assigns: f.assigns,
      pos: f.pos,
      text: f.text,
    });
  };

  visit(script, text, true);
}

const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh", "mksh", "ash", "busybox"]);

const SUDO_VALUE_FLAGS: Record<string, boolean> = Object.fromEntries(
  [
    "-u",
    "-g",
    "-h",
    "-p",
    "-C",
    "-D",
    "-r",
    "-t",
    "-T",
    "-U",
    "-R",
    "--user",
    "--group",
    "--host",
    "--prompt",
    "--close-from",
    "--chdir",
    "--role",
    "--type",
    "--command-timeout",
    "--other-user",
    "--chroot",
  ].map((k) => [k, true]),
);
const EXEC_VALUE_FLAGS: Record<string, boolean> = { "--approval": true };
const NODE_VALUE_FLAGS: Record<string, boolean> = Object.fromEntries(
  ["-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions", "--title"].map((k) => [
    k,
    true,
  ]),
);
const XARGS_VALUE_FLAGS: Record<string, boolean> = Object.fromEntries(
  [
    "-I",
    "-L",
    "-n",
    "-P",
    "-s",
    "-E",
    "-d",
    "-a",
    "--arg-file",
    "--delimiter",
    "--max-args",
    "--max-procs",
    "--max-chars",
    "--max-lines",
    "--eof",
    "--replace",
    "--process-slot-var",
  ].map((k) => [k, true]),
);

/**
 * Skips leading options. `valueFlags` maps a flag to whether it takes the
 * next word as its value (`-u root`); `--flag=value` and `-uroot` are one word.
 * `alsoOption` matches further one-word options (e.g. `nice -10`).
 */
function skipOptions(words: Arg[], valueFlags: Record<string, boolean>, alsoOption?: RegExp): Arg[] {
  let i = 0;
  while (i < words.length) {
    const v = words[i]!.value;
    if (v === "--") return words.slice(i + 1);
    if (!v.startsWith("-") || v === "-") break;
    if (alsoOption?.test(v)) {
      i++;
      continue;
    }
    if (valueFlags[v] === true) {
      i += 2;
      continue;
    }
    i++;
  }
  return words.slice(i);
}

function dropDashDash(words: Arg[]): Arg[] {
  return words[0]?.value === "--" ? words.slice(1) : words;
}

function skipAssignments(words: Arg[], pos: number, changes: EnvChange[]): { words: Arg[]; assigns: boolean } {
  let i = 0;
  let assigns = false;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*\+?=/.test(words[i]!.value)) {
    changes.push({ name: words[i]!.value.split(/\+?=/)[0]!, pos });
    assigns = true;
    i++;
  }
  return { words: words.slice(i), assigns };
}

/** `env` operands: options, assignments, then the command (see env(1)). */
function envOperands(words: Arg[], pos: number, changes: EnvChange[]): { after: Arg[]; assigns: boolean; split?: Arg } {
  let i = 0;
  let assigns = false;
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "--") {
      i++;
      break;
    }
    if (v === "-" || v === "-i" || v === "--ignore-environment" || /^-[0v]*i[0iv]*$/.test(v)) {
      changes.push({ name: "*", pos });
      continue;
    }
    if (v === "-u" || v === "--unset") {
      changes.push({ name: words[i + 1]?.value ?? "*", pos });
      i++;
      continue;
    }
    if (v.startsWith("--unset=")) {
      changes.push({ name: v.slice(8), pos });
      continue;
    }
    if (/^-u./.test(v)) {
      changes.push({ name: v.slice(2), pos });
      continue;
    }
    if (v === "-C" || v === "--chdir") {
      i++;
      continue;
    }
    if (v === "-S" || v === "--split-string")
      return { after: words.slice(i + 2), assigns, split: words[i + 1] ?? { value: "", dynamic: false, pos } };
    if (v.startsWith("--split-string="))
      return { after: words.slice(i + 1), assigns, split: { ...words[i]!, value: v.slice(15) } };
    if (/^-S./.test(v)) return { after: words.slice(i + 1), assigns, split: { ...words[i]!, value: v.slice(2) } };
    if (v.startsWith("-")) continue; // -0, -v, --block-signal[=…], --chdir=…, …
    if (/^[^=]+=/.test(v)) {
      changes.push({ name: v.slice(0, v.indexOf("=")), pos });
      assigns = true;
      continue;
    }
    break;
  }
  return { after: words.slice(i), assigns };
}

function argOf(
  w:
    | Word
    | {
        type: "Assignment";
        text: string;
        name: string;
        pos: number;
        value: Word | { type: "ArrayValue" };
        append: boolean | undefined;
      },
): Arg {
  if (w.type === "Word") return { value: w.value, dynamic: isDynamic(w.parts), pos: w.pos };
  const v = w.value;
  if (v.type !== "Word") return { value: w.text, dynamic: true, pos: w.pos, assignment: w.name };
  return {
    value: `${w.name}${w.append ? "+=" : "="}${v.value}`,
    dynamic: isDynamic(v.parts),
    pos: w.pos,
    assignment: w.name,
  };
}

const DYNAMIC = new Set([
  "SimpleExpansion",
  "ParameterExpansion",
  "CommandExpansion",
  "ArithmeticExpansion",
  "ProcessSubstitution",
  "Glob",
  "ExtendedGlob",
  "BraceExpansion",
]);

function isDynamic(parts: readonly { type: string; parts?: readonly unknown[] }[] | undefined): boolean {
  if (!parts) return false;
  for (const p of parts) {
    if (DYNAMIC.has(p.type)) return true;
    if ((p.type === "DoubleQuoted" || p.type === "LocaleString") && isDynamic(p.parts as WordPart[] | undefined))
      return true;
  }
  return false;
}

function writesFile(operator: string, target: Word | undefined): boolean {
  if (operator === "<" || operator === "<&") return false;
  if (target === undefined) return true;
  if (target.value === "/dev/null") return false;
  if ((operator === ">&" || operator === "<&") && /^(\d+|-)$/.test(target.value)) return false;
  return true;
}

function redirection(operator: string, target: Word | undefined, pos: number): Redirection | undefined {
  if (target === undefined || target.value === "/dev/null") return undefined;
  if (/^(\d+|-)$/.test(target.value) && operator.endsWith("&")) return undefined; // 2>&1, <&-
  if (operator === "<<" || operator === "<<-" || operator === "<<<") return undefined; // here-docs and strings
  return { target: target.value, dynamic: isDynamic(target.parts), writes: writesFile(operator, target), pos };
}

export function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i === -1 ? p : p.slice(i + 1);
}

/** Single-quotes a word for the shell (`it's` → `'it'\''s'`). */
export { quote };
