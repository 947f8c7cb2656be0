/**
 * The decision service's log: a private file in downscope's state directory
 * (src/serve/config.ts), never stdout. One line per event (start, refused
 * requests, a deadline passed, a thread replaced), with a time; no payload,
 * no key. Kept to about 1 MiB: the file is moved to `serve.log.1` when it
 * grows past that, replacing the one before.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";

export const LOG_MAX_BYTES = 1024 * 1024;

export function fileLog(path: string, maxBytes = LOG_MAX_BYTES): (line: string) => void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return (line) => {
    try {
      if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > maxBytes) renameSync(path, `${path}.1`);
    } catch {
      // rotation is best effort; the append below reports nothing either
    }
    try {
      appendFileSync(path, `${new Date().toISOString()} ${line.replace(/\n/g, "\n  ")}\n`, { mode: 0o600 });
    } catch {
      // A log that cannot be written must not stop a decision.
    }
  };
}
