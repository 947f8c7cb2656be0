/** `downscope-exec [--] <binary> [args...]`: the wrapper (see docs/exec.md). */
import type { Io } from "../cli/io.js";

export async function execMain(argv: string[], io: Io): Promise<number> {
  void argv;
  io.stderr("usage: downscope-exec [--] <binary> [args...]\n");
  return 64;
}
