import { main } from "../../src/cli/main.js";
import type { Io } from "../../src/io.js";

export interface RunCliOptions {
  env: Record<string, string>;
  cwd: string;
  stdin?: string;
  /**
   * What a person types at the terminal when a command asks for confirmation
   * (trust, install, uninstall, init, shims install): "yes" unless given;
   * null for a process with no terminal.
   */
  answer?: string | null;
  /** What the person pastes when asked for a secret (default: the answer). */
  secret?: string;
}

/** Runs `downscope <argv>` in-process and captures its output and what it asked at the terminal. */
export async function runCli(argv: string[], opts: RunCliOptions) {
  let stdout = "";
  let stderr = "";
  const prompts: string[] = [];
  const answer = opts.answer === undefined ? "yes" : opts.answer;
  const io: Io = {
    env: opts.env,
    cwd: opts.cwd,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: async () => opts.stdin ?? "",
    terminal: () =>
      answer === null
        ? undefined
        : {
            ask: (prompt) => {
              prompts.push(prompt);
              return answer;
            },
            askSecret: (prompt) => {
              prompts.push(prompt);
              return opts.secret ?? answer;
            },
          },
  };
  const code = await main(argv, io);
  return { code, stdout, stderr, prompts };
}
