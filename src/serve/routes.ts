/**
 * What the decision service answers, one entry per agent hook event: the URL
 * path under `/v1/hook/`, the event the payload must name, the agent whose
 * protocol parses and answers it, and the call that decides it (the decision
 * thread's table, src/serve/decision-worker.ts). A new hook event (PostToolUse
 * masking, say) is one entry here — plus its call there if it is a new kind
 * of call — and one hook entry in the agent's settings.
 */
import type { HookProtocol } from "../hook/protocol.js";

export type Agent = "claude";
/** The decision thread's calls: `decide` is src/hook/hook-call.ts's answerHookCall, as `downscope hook` runs it. */
export type CallName = "decide";

export interface HookRoute {
  /** The payload's hook_event_name, checked when the payload names one. */
  event?: string;
  agent: Agent;
  call: CallName;
}

export const HOOK_ROUTES: Readonly<Record<string, HookRoute>> = {
  // Claude Code's http hook (install claude --serve).
  "claude/PreToolUse": { event: "PreToolUse", agent: "claude", call: "decide" },
};

export const ROUTE_PREFIX = "/v1/hook/";

/** The agent's protocol (src/hook/protocol.ts; the other agents' adapters load only when named). */
export async function protocolOf(agent: Agent): Promise<HookProtocol> {
  switch (agent) {
    case "claude":
      return (await import("../hook/protocol.js")).claudeProtocol;
  }
}
