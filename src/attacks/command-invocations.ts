/**
 * Shell command text → the service invocations in it, for `downscope test`.
 *
 * This is a small stand-in for the real shell analysis (src/shell/, built for
 * the hook): it splits on `&& || ; | &` and newlines outside quotes, removes
 * `NAME=value` prefixes, unwraps `env`, `sudo`, `command`, `exec`, `nohup`,
 * `nice`, `timeout`, `time`, and recurses into `bash|sh|zsh|dash -c '…'`.
 * Anything it cannot know statically (command substitution, `eval`, a
 * variable as the command name) is `unresolved`, which the hook answers with
 * `ask` (or `deny`). Switching to src/shell means replacing analyzeCommand.
 */
import { basename } from "node:path";
import type { Invocation } from "../policy/invocation.js";

export interface CommandAnalysis {
  invocations: Invocation[];
  /** Why some part could not be resolved statically; undefined when all was. */
  unresolved?: string;
}

export function analyzeCommand(command: string, depth = 0): CommandAnalysis {
  if (depth > 4) return { invocations: [], unresolved: "nested shells too deep" };
  if (/\$\(|`|<\(|>\(/.test(command)) return { invocations: [], unresolved: "command substitution" };
  const tokens = tokenize(command);
  if (tokens === undefined) return { invocations: [], unresolved: "unbalanced quotes" };
  const out: Invocation[] = [];
  let unresolved: string | undefined;
  for (const seg of segments(tokens)) {
    const r = unwrap(seg, depth);
    out.push(...r.invocations);
    unresolved ??= r.unresolved;
  }
  return unresolved === undefined ? { invocations: out } : { invocations: out, unresolved };
}

type Token = { word: string; quoted: boolean } | { op: string };

const OPERATORS = ["&&", "||", ";;", ";", "|&", "|", "&", "\n"];

function tokenize(s: string): Token[] | undefined {
  const out: Token[] = [];
  let cur = "";
  let inWord = false;
  let quoted = false;
  let quote: string | undefined;
  const flush = () => {
    if (inWord) out.push({ word: cur, quoted });
    cur = "";
    inWord = false;
    quoted = false;
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
      quoted = true;
      continue;
    }
    if (ch === "\\" && i + 1 < s.length) {
      const next = s[++i]!;
      if (next !== "\n") {
        cur += next;
        inWord = true;
      }
      continue;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, i));
    if (op) {
      flush();
      out.push({ op });
      i += op.length - 1;
      continue;
    }
    if (ch === "#" && !inWord) {
      while (i < s.length && s[i] !== "\n") i++;
      i--;
      continue;
    }
    if (/\s/.test(ch)) {
      flush();
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (quote) return undefined;
  flush();
  return out;
}

function segments(tokens: Token[]): { word: string; quoted: boolean }[][] {
  const out: { word: string; quoted: boolean }[][] = [[]];
  for (const t of tokens) {
    if ("op" in t) out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out.filter((s) => s.length > 0);
}

const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh"]);
/** Wrappers and the options of theirs that take a value. */
const WRAPPERS: Record<string, readonly string[]> = {
  env: ["-u", "--unset", "-C", "--chdir", "-S", "--split-string"],
  sudo: [
    "-u",
    "--user",
    "-g",
    "--group",
    "-C",
    "-D",
    "--chdir",
    "-h",
    "--host",
    "-p",
    "--prompt",
    "-U",
    "-r",
    "-t",
    "-T",
  ],
  command: [],
  exec: ["-a"],
  nohup: [],
  nice: ["-n", "--adjustment"],
  time: [],
  timeout: ["-s", "--signal", "-k", "--kill-after"],
  stdbuf: ["-i", "-o", "-e"],
  doas: ["-u", "-C"],
  xargs: ["-I", "-n", "-P", "-d", "-E", "-L", "-s", "-a"],
};

function unwrap(words: { word: string; quoted: boolean }[], depth: number): CommandAnalysis {
  let i = 0;
  // Leading assignments and redirections.
  while (i < words.length && (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!.word) || /^\d*[<>]/.test(words[i]!.word))) {
    if (/^\d*[<>]+$/.test(words[i]!.word)) i++; // `> file`: skip the target too
    i++;
  }
  for (;;) {
    const w = words[i];
    if (w === undefined) return { invocations: [] };
    const name = basename(w.word);
    if (/^\$|^\$\{/.test(w.word) || name === "eval" || name === "source" || name === ".")
      return { invocations: [], unresolved: `${w.word} runs a command that is not known statically` };
    const valueOpts = WRAPPERS[name];
    if (valueOpts !== undefined) {
      i++;
      while (i < words.length) {
        const a = words[i]!.word;
        if (a === "--") {
          i++;
          break;
        }
        if (name === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) {
          i++;
          continue;
        }
        if (name === "timeout" && /^\d/.test(a)) {
          i++;
          break; // the duration, then the command
        }
        if (!a.startsWith("-") || a === "-") break;
        if (name === "env" && (a === "-S" || a === "--split-string")) {
          const rest = words[i + 1]?.word ?? "";
          return analyzeCommand([rest, ...words.slice(i + 2).map((x) => quote(x.word))].join(" "), depth + 1);
        }
        i += valueOpts.includes(a) ? 2 : 1;
      }
      continue;
    }
    if (SHELLS.has(name)) {
      // bash -c 'cmd' / bash -lc 'cmd' / bash -x -c 'cmd'
      let k = i + 1;
      while (k < words.length && words[k]!.word.startsWith("-")) {
        const opt = words[k]!.word;
        if (!opt.startsWith("--") && opt.includes("c")) {
          const script = words[k + 1]?.word;
          if (script === undefined) return { invocations: [] };
          return analyzeCommand(script, depth + 1);
        }
        k++;
      }
      return { invocations: [{ kind: "cli", binary: name, args: words.slice(i + 1).map((x) => x.word) }] };
    }
    return {
      invocations: [{ kind: "cli", binary: name, args: stripRedirections(words.slice(i + 1).map((x) => x.word)) }],
    };
  }
}

function stripRedirections(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^\d*(>>?|<)&?\d*$/.test(a)) {
      i++;
      continue;
    }
    if (/^\d*(>>?|<)&?\S+$/.test(a)) continue;
    out.push(a);
  }
  return out;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
