/**
 * The shell analysis of a plain command without the parser (pure). Most
 * service calls an agent makes look like `cd repo && gh pr list --limit 5 |
 * jq .`; reading those needs no grammar, and loading the parser costs the hook
 * more than the rest of its decision.
 *
 * Answered here only when the text is words of plain characters separated by
 * spaces and joined by `&&`, `||`, `|` or `;`, and no command word is an
 * assignment, a reserved word, or a command that runs or changes others (the
 * prefilter's list: shells, env, sudo, xargs, eval, export, …). Everything
 * else — quotes, expansions, redirections, `&`, newlines, comments — returns
 * undefined and goes to the full analysis (analyze.ts).
 *
 * test/shell/simple.test.ts proves that whatever this answers equals the full
 * analysis, on every corpus command and on generated ones.
 */
import type { ShellAnalysis, ShellInvocation } from "./analyze.js";
import { RUNS_OTHERS } from "./prefilter.js";

const TEXT = /^[A-Za-z0-9_\-./=:,+@% &|;]*$/;
const WORD_CHAR = /[A-Za-z0-9_\-./=:,+@%]/;
const OPERATORS = new Set(["&&", "||", "|", ";"]);
const RESERVED = new Set([
  ...["if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do", "done", "in"],
  ...["function", "time", "coproc"],
]);

interface Word {
  value: string;
  pos: number;
}

export function analyzeSimple(text: string): ShellAnalysis | undefined {
  if (!TEXT.test(text)) return undefined;
  const commands: Word[][] = [];
  let current: Word[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " ") {
      i++;
      continue;
    }
    let j = i;
    if (WORD_CHAR.test(c)) {
      while (j < text.length && WORD_CHAR.test(text[j]!)) j++;
      current.push({ value: text.slice(i, j), pos: i });
    } else {
      while (j < text.length && "&|;".includes(text[j]!)) j++;
      if (!OPERATORS.has(text.slice(i, j)) || current.length === 0) return undefined;
      commands.push(current);
      current = [];
    }
    i = j;
  }
  // Empty text, or a trailing operator (`gh x &&`, `gh x;`): the parser decides.
  if (current.length === 0) return undefined;
  commands.push(current);
  const invocations: ShellInvocation[] = [];
  for (const words of commands) {
    const [cmd, ...args] = words as [Word, ...Word[]];
    const binary = cmd.value.slice(cmd.value.lastIndexOf("/") + 1);
    if (cmd.value.includes("=") || RESERVED.has(cmd.value) || RUNS_OTHERS.has(binary)) return undefined;
    // `node …/downscope-exec.js gh …` is unwrapped by the full analysis.
    if ((binary === "node" || binary === "nodejs") && args.some((a) => a.value.includes("downscope-exec")))
      return undefined;
    const last = words[words.length - 1]!;
    invocations.push({
      binary,
      word: cmd.value,
      args: args.map((a) => a.value),
      dynamicArgs: false,
      insertAt: cmd.pos,
      wrappers: [],
      assigns: false,
      pos: cmd.pos,
      text: text.slice(cmd.pos, last.pos + last.value.length),
    });
  }
  return {
    invocations,
    redirections: [],
    unresolved: [],
    envChanges: [],
    definitions: [],
    writesFiles: false,
    errors: [],
  };
}
