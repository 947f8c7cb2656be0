/** The one mapping from a thrown error to an exit code and a one-line message. */
import { DownscopeError, errorMessage } from "../errors.js";
import type { Io } from "../io.js";

export function reportError(e: unknown, io: Io): number {
  if (e instanceof DownscopeError) {
    io.stderr(`downscope: ${e.message}\n`);
    return e.exitCode;
  }
  // Not expected: say so plainly, stack only under DOWNSCOPE_DEBUG.
  io.stderr(`downscope: internal error: ${errorMessage(e)}\n`);
  if (io.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 70;
}
