/**
 * The decision service's decision thread (a worker_threads Worker, built as
 * dist/serve-worker.cjs): each message is one hook call, answered by the
 * route's call (src/serve/routes.ts) — the same code `downscope hook` runs,
 * with the same lazily loaded bundles (hook-service.cjs, shell.cjs, …).
 *
 * It runs apart from the HTTP side so that a decision that never ends (a
 * pathological regex in a policy, a bug) costs that one call a deny at the
 * deadline, not every session's next call: the HTTP side answers and
 * replaces this thread (src/serve/decision-thread.ts).
 */
import { parentPort } from "node:worker_threads";
import { answerHookCall, failureReason, type HookCallContext } from "../hook/hook-call.js";
import type { HookProtocol, ProtocolAnswer } from "../hook/protocol.js";
import type { Env } from "../paths.js";
import { HOOK_ROUTES, protocolOf, type CallName } from "./routes.js";

/** The calls a route can name (src/serve/routes.ts). */
const CALLS: Record<CallName, (text: string, protocol: HookProtocol, ctx: HookCallContext) => Promise<ProtocolAnswer>> =
  {
    decide: answerHookCall,
  };

export interface DecisionRequest {
  id: number;
  route: string;
  text: string;
  env: Env;
  cwd: string;
}

export type DecisionMessage =
  | { id: number; deadline: number | undefined }
  | { id: number; answer: { stdout?: string; code: number } }
  /** The call could not even start (its route or protocol would not load): the HTTP side denies. */
  | { id: number; error: string }
  | { log: string };

const port = parentPort;
if (port === null) throw new Error("serve-worker.cjs runs as a worker thread of `downscope serve`");
const post = (m: DecisionMessage) => port.postMessage(m);
const log = (text: string) => post({ log: text });

port.on("message", (m: DecisionRequest | { warm: true }) => {
  if ("warm" in m) return void warm();
  void handle(m);
});

async function handle(m: DecisionRequest): Promise<void> {
  const route = HOOK_ROUTES[m.route];
  if (route === undefined) return post({ id: m.id, error: `no route ${m.route}` });
  let protocol;
  try {
    protocol = await protocolOf(route.agent);
  } catch (e) {
    return post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
  try {
    const answer = await CALLS[route.call](m.text, protocol, {
      env: m.env,
      cwd: m.cwd,
      stderr: log,
      onDeadline: (ms) => post({ id: m.id, deadline: ms }),
    });
    post({ id: m.id, answer });
  } catch (e) {
    post({ id: m.id, answer: protocol.deny(failureReason(e, { env: m.env, stderr: log })) });
  }
}

/** Loads what every call needs before the first one comes (a process hook pays this on each run). */
async function warm(): Promise<void> {
  try {
    await import("../hook/service.js");
    await import("../hook/file-tools.js");
  } catch (e) {
    log(`warm-up: ${e instanceof Error ? e.message : String(e)}`);
  }
}
