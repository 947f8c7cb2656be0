/**
 * What downscope-exec's command returned, measured as it passes
 * (docs/adr/ADR-031-exec-output-tap.md): for stdout and stderr that are not
 * terminals, the command writes into a pipe and downscope-exec copies each
 * chunk on at once, counting the bytes, hashing them (sha256), masking the
 * credentials it handed that command (src/mask/stream-masker.ts) and, with
 * settings.record_output: masked, keeping the first bytes for the record.
 *
 * A terminal is handed to the command as it is, unmeasured: prompts, colours,
 * line editing and the terminal size keep working, and the record says `tty`.
 * Streaming is kept (every chunk goes on as it arrives; a held-back tail that
 * might start a credential goes on after IDLE_FLUSH_MS without more data), and
 * so is backpressure (the copy is a blocking write). When the reader goes away
 * (`| head -1`), the pipe is closed, so the command gets SIGPIPE as it would
 * have without downscope-exec.
 */
import { isatty } from "node:tty";
import type { StreamRecord } from "../audit/record.js";
import { nodeCrypto, sha256Hex } from "../lazy-crypto.js";
import { StreamMasker, type StreamSecret } from "../mask/stream-masker.js";
import { writeAll } from "../io.js";

/** Output up to this size is kept and hashed at the end (no node:crypto for a small output); beyond, hashed as it passes. */
const HASH_IN_MEMORY = 64 * 1024;

/** A tail held back for a possible credential goes out after this long without new data. */
export const IDLE_FLUSH_MS = 20;

export interface TapOptions {
  /** The credentials handed to the command: masked in its output. */
  secrets: readonly StreamSecret[];
  /** Keep this many bytes of the (masked) output for the record; undefined: none. */
  capture?: number;
}

/** The readable end of the command's pipe (a subset of Node's Readable). */
export interface TapSource {
  on(event: "data", f: (chunk: Buffer) => void): unknown;
  on(event: "end" | "close", f: () => void): unknown;
  on(event: "error", f: (e: Error) => void): unknown;
  destroy(): unknown;
}

export class OutputTap {
  private readonly masker: StreamMasker;
  private bytes = 0;
  /** The first bytes, hashed at the end without node:crypto when that is all there is (src/lazy-crypto.ts). */
  private head: Buffer[] = [];
  private hash: ReturnType<ReturnType<typeof nodeCrypto>["createHash"]> | undefined;
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  private truncated = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly fd: number,
    private readonly o: TapOptions,
    private readonly write: (fd: number, data: Buffer) => void = writeAll,
  ) {
    this.masker = new StreamMasker(o.secrets);
  }

  /** Copies `source` to the fd until it ends; resolves then (never rejects). */
  consume(source: TapSource): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(this.timer);
        this.emit(this.masker.flush());
        resolve();
      };
      source.on("data", (chunk) => {
        this.emit(this.masker.push(chunk));
        if (this.closed) {
          source.destroy();
          return finish();
        }
        clearTimeout(this.timer);
        if (this.masker.masking) this.timer = setTimeout(() => this.emit(this.masker.flush()), IDLE_FLUSH_MS);
      });
      source.on("end", finish);
      source.on("close", finish);
      source.on("error", finish);
    });
  }

  private emit(data: Buffer): void {
    if (data.length === 0 || this.closed) return;
    try {
      this.write(this.fd, data);
    } catch {
      // The reader is gone (EPIPE): stop, so the command learns it the way it would have.
      this.closed = true;
      return;
    }
    this.bytes += data.length;
    if (this.hash !== undefined) this.hash.update(data);
    else if (this.bytes <= HASH_IN_MEMORY) this.head.push(Buffer.from(data));
    else {
      this.hash = nodeCrypto().createHash("sha256");
      for (const b of this.head) this.hash.update(b);
      this.head = [];
      this.hash.update(data);
    }
    const cap = this.o.capture;
    if (cap !== undefined && this.capturedBytes < cap) {
      const take = data.subarray(0, cap - this.capturedBytes);
      this.captured.push(Buffer.from(take));
      this.capturedBytes += take.length;
      if (take.length < data.length) this.truncated = true;
    } else if (cap !== undefined) this.truncated = true;
  }

  /** What went through: bytes, sha256, what was masked, the captured text. */
  result(): StreamRecord & { masked: Record<string, number> } {
    const r: StreamRecord & { masked: Record<string, number> } = {
      bytes: this.bytes,
      sha256: this.hash !== undefined ? this.hash.digest("hex") : sha256Hex(Buffer.concat(this.head)),
      masked: this.masker.hits,
    };
    if (this.o.capture !== undefined && this.bytes > 0) {
      let text = Buffer.concat(this.captured);
      // Cut at a character boundary (a UTF-8 continuation byte is 10xxxxxx).
      let end = text.length;
      if (this.truncated) while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
      text = text.subarray(0, end);
      r.text = text.toString("utf8");
      if (this.truncated) r.truncated = true;
    }
    return r;
  }
}

/** Taps for stdout and stderr where they are not terminals (a terminal is inherited, unmeasured). */
export function outputTaps(o: TapOptions, isTerminal: (fd: number) => boolean = isatty): Taps {
  return {
    ...(isTerminal(1) ? {} : { stdout: new OutputTap(1, o) }),
    ...(isTerminal(2) ? {} : { stderr: new OutputTap(2, o) }),
  };
}

export interface Taps {
  stdout?: OutputTap;
  stderr?: OutputTap;
}
