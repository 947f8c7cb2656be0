import { main } from "../../src/cli/main.js";
import type { Io } from "../../src/cli/io.js";

/** Runs `downscope <argv>` in-process and captures its output. */
export async function runCli(argv: string[], opts: { env: Record<string, string>; cwd: string; stdin?: string }) {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    env: opts.env,
    cwd: opts.cwd,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: async () => opts.stdin ?? "",
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
