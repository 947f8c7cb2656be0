/**
 * Shell command text → the service invocations in it, for `downscope test`
 * and the attack pack. It uses the hook's own shell analysis (src/shell/), so
 * a test decides a command exactly as the hook would find its parts: every
 * simple command, wrappers (env, sudo, timeout, xargs, …) unwrapped, strings
 * given to `bash -c` or `eval` parsed recursively. What cannot be known
 * statically comes back as `unresolved` (the hook asks or denies); text that
 * does not parse is `invalid` (the hook denies).
 */
import type { Invocation } from "../policy/invocation.js";
import { analyzeShell } from "../shell/analyze.js";

export interface CommandAnalysis {
  invocations: Invocation[];
  /**
   * Per invocation (same order): why a human approval could not be bound to
   * it (nested in a string another shell runs, or non-literal arguments). The
   * hook turns a `review` of such an invocation into a deny.
   */
  unapprovable: (string | undefined)[];
  /** Why some part could not be resolved statically; undefined when all was. */
  unresolved?: string;
  /** A parse error; the hook denies such commands. */
  invalid?: string;
}

export function analyzeCommand(command: string): CommandAnalysis {
  const a = analyzeShell(command);
  const out: CommandAnalysis = {
    invocations: a.invocations.map((i) => ({ kind: "cli", binary: i.binary, args: i.args })),
    unapprovable: a.invocations.map((i) =>
      i.insertAt === undefined
        ? "it is nested in a string run by another shell, so an approval cannot be bound to it"
        : i.dynamicArgs
          ? "its arguments are not literal, so an approval cannot be bound to them"
          : undefined,
    ),
  };
  const unresolved = [
    ...a.unresolved.map((u) => u.construct),
    ...a.definitions.map((d) => `${d.kind} ${d.name} defined in the command`),
  ];
  if (unresolved.length > 0) out.unresolved = unresolved.join("; ");
  if (a.errors.length > 0) out.invalid = a.errors[0];
  return out;
}
