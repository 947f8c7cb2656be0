/**
 * What the decision service answers, one entry per agent hook event: the URL
 * path under `/v1/hook/`, the event the payload must name, the agent whose
 * protocol parses and answers it, and the call that decides it (the decision
 * thread's table, src/serve/decision-worker.ts). A new hook event (PostToolUse
 * masking, say) is one entry here — plus its call there if it is a new kind
 * of call — and one hook entry in the agent's settings.
 */
import type { HookProtocol } from "../hook/protocol.js";

export type Agent = "claude" | "cursor" | "gemini";
/** The decision thread's calls: `decide` is src/hook/hook-call.ts's answerHookCall, as `downscope hook` runs it. */
export type CallName = "decide";

export interface HookRoute {
  /** The payload's hook_event_name, checked when the payload names one. */
  event?: string;
  agent: Agent;
  call: CallName;
  /**
   * Where the call's environment and working directory come from:
   *  - "claude-http": Claude Code's http hook — the session's variables in
   *    headers, the cwd and project from the payload (src/serve/request-env.ts);
   *  - "hook-process": a hook process of the agent (bin/serve-client.sh) —
   *    its own environment (CLAUDE_PROJECT_DIR included) and working
   *    directory in headers, exactly what `downscope hook` would have read.
   */
  session: "claude-http" | "hook-process";
}

export const HOOK_ROUTES: Readonly<Record<string, HookRoute>> = {
  // Claude Code's http hook (install claude --serve).
  "claude/PreToolUse": { event: "PreToolUse", agent: "claude", call: "decide", session: "claude-http" },
  // Agents without http hooks, through bin/serve-client.sh (sh + curl) instead of `downscope hook --agent …`.
  cursor: { agent: "cursor", call: "decide", session: "hook-process" },
  gemini: { agent: "gemini", call: "decide", session: "hook-process" },
};

export const ROUTE_PREFIX = "/v1/hook/";

/** The agent's protocol (src/hook/protocol.ts; the other agents' adapters load only when named). */
export async function protocolOf(agent: Agent): Promise<HookProtocol> {
  switch (agent) {
    case "claude":
      return (await import("../hook/protocol.js")).claudeProtocol;
    case "cursor":
      return (await import("../hook/agents/cursor.js")).cursorProtocol;
    case "gemini":
      return (await import("../hook/agents/gemini.js")).geminiProtocol;
  }
}
