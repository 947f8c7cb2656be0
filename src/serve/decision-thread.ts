/**
 * The HTTP side's handle on the decision thread (src/serve/decision-worker.ts):
 * sends each call, holds its deadline, and keeps a thread alive.
 *
 *  - Deadline: as `downscope hook` does, settings.hook_deadline_ms (told by
 *    the thread once the policy is loaded) or DOWNSCOPE_HOOK_DEADLINE_MS,
 *    default 4000 ms, below the 10 s timeout install writes. When it passes,
 *    the call is answered deny with the process hook's words, and the thread
 *    is terminated (V8 interrupts running JavaScript, a runaway regex
 *    included) and replaced; the other calls it held are sent again.
 *  - A thread that dies (an uncaught error, out of memory) is replaced and
 *    its calls sent again, each at most twice, then denied.
 *  - A new build of downscope (an upgrade: the thread's bundle changed on
 *    disk) gets a new thread on the next call, so decisions never come from
 *    code older than what is installed.
 *
 * The thread is started with the first call and ended after IDLE_MS without
 * one, which gives its memory back (about 10 MiB and the heap it grew):
 * an idle service is the HTTP side alone, and no timer runs then, so it uses
 * no CPU. The first call after a pause pays for starting the thread again
 * (about the start of a process hook), once.
 */
import { statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { deadlineReason } from "../hook/deadline.js";
import type { ProtocolAnswer } from "../hook/protocol.js";
import type { DecisionMessage, DecisionRequest } from "./decision-worker.js";

export interface Call {
  request: Omit<DecisionRequest, "id">;
  /** The deadline to start with (DOWNSCOPE_HOOK_DEADLINE_MS or the default). */
  deadlineMs: number;
  /** The environment fixed the deadline: the policy's setting does not move it. */
  deadlineFixed: boolean;
  /** The agent's deny (its protocol, src/hook/protocol.ts). */
  deny: (reason: string) => ProtocolAnswer;
  agent: string;
}

interface Pending {
  call: Call;
  resolve: (a: ProtocolAnswer) => void;
  timer: NodeJS.Timeout | undefined;
  started: number;
  deadlineMs: number;
  attempts: number;
  worker: Worker;
}

const MAX_ATTEMPTS = 2;
/** How long a thread may sit idle before it is ended. */
export const IDLE_MS = 60_000;
/**
 * The thread's heap: a small young generation keeps the resident size of the
 * service down (the budget is 60 MiB in all, docs/performance.md); a thread
 * that needs more than the old generation allows dies and is replaced, and
 * its call is sent again once, then denied.
 */
const LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 48 };

export class DecisionThread {
  private worker: Worker | undefined;
  private builtAs: string | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private closed = false;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: (line: string) => void,
    private readonly idleMs = IDLE_MS,
  ) {}

  decide(call: Call): Promise<ProtocolAnswer> {
    clearTimeout(this.idle);
    return new Promise((resolve) => {
      const id = this.next++;
      const p: Pending = {
        call,
        resolve,
        timer: undefined,
        started: Date.now(),
        deadlineMs: call.deadlineMs,
        attempts: 0,
        worker: this.current(),
      };
      this.pending.set(id, p);
      this.arm(id, p);
      this.send(id, p);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idle);
    for (const [id, p] of this.pending) this.finish(id, p, p.call.deny("downscope: the decision service is stopping"));
    const w = this.worker;
    this.worker = undefined;
    return w ? w.terminate().then(() => undefined) : Promise.resolve();
  }

  /** The live thread, a new one if there is none or the installed bundle changed. */
  private current(): Worker {
    const built = this.identity();
    if (this.worker !== undefined && built === this.builtAs) return this.worker;
    if (this.worker !== undefined) {
      this.log(`downscope serve: ${this.file} changed (downscope was updated): a new decision thread`);
      this.replace(this.worker);
      if (this.worker !== undefined) return this.worker;
    }
    const w = new Worker(this.file, { stdout: false, stderr: false, resourceLimits: LIMITS });
    this.worker = w;
    this.builtAs = built;
    w.on("message", (m: DecisionMessage) => this.onMessage(m));
    w.on("error", (e) => this.log(`downscope serve: the decision thread failed: ${e.message}`));
    w.on("exit", () => this.onExit(w));
    w.unref();
    // Loads the decision code now: calls that come while it loads wait behind it.
    w.postMessage({ warm: true });
    return w;
  }

  private identity(): string {
    try {
      const st = statSync(this.file, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return "missing";
    }
  }

  private send(id: number, p: Pending): void {
    p.attempts++;
    p.worker = this.current();
    p.worker.postMessage({ id, ...p.call.request } satisfies DecisionRequest);
  }

  private arm(id: number, p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(
      () => {
        this.log(`downscope serve: a call ran past its ${p.deadlineMs} ms deadline; denied, decision thread replaced`);
        const w = p.worker;
        this.finish(id, p, p.call.deny(deadlineReason(p.deadlineMs, p.call.agent)));
        this.replace(w);
      },
      Math.max(0, p.deadlineMs - (Date.now() - p.started)),
    );
  }

  private onMessage(m: DecisionMessage): void {
    if ("log" in m) return this.log(m.log.replace(/\n$/, ""));
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if ("deadline" in m) {
      if (m.deadline !== undefined && !p.call.deadlineFixed) {
        p.deadlineMs = m.deadline;
        this.arm(m.id, p);
      }
      return;
    }
    if ("error" in m)
      return this.finish(
        m.id,
        p,
        p.call.deny(`downscope: internal error (${m.error}), so the command is blocked. Run \`downscope doctor\`.`),
      );
    this.finish(m.id, p, m.answer);
  }

  private finish(id: number, p: Pending, answer: ProtocolAnswer): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
    p.resolve(answer);
    if (this.pending.size === 0 && this.worker !== undefined && !this.closed) {
      clearTimeout(this.idle);
      this.idle = setTimeout(() => this.retire(), this.idleMs);
      this.idle.unref();
    }
  }

  /** Ends an idle thread (its memory goes back to the system); the next call starts a new one. */
  private retire(): void {
    if (this.pending.size > 0 || this.worker === undefined) return;
    const w = this.worker;
    this.worker = undefined;
    this.log(`downscope serve: decision thread ended after ${this.idleMs} ms without a call`);
    void w.terminate();
  }

  /** Ends `w` and sends the calls it held to a new thread. */
  private replace(w: Worker): void {
    if (this.worker === w) this.worker = undefined;
    void w.terminate();
    this.onExit(w);
  }

  private onExit(w: Worker): void {
    if (this.worker === w) this.worker = undefined;
    for (const [id, p] of this.pending) {
      if (p.worker !== w) continue;
      if (this.closed) continue;
      if (p.attempts >= MAX_ATTEMPTS)
        this.finish(
          id,
          p,
          p.call.deny(
            "downscope: the decision thread stopped twice while deciding this call, so it is blocked. Try again; `downscope doctor` and the service log (~/.local/state/downscope/serve/serve.log) say more.",
          ),
        );
      else this.send(id, p);
    }
  }
}
