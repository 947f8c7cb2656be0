/**
 * The hook's deadline: how long a hook call may take before the agent is
 * answered deny, below the 10 s timeout `install` writes. Shared by the
 * process hook (src/cli/hook.ts) and the decision service
 * (src/serve/decision-thread.ts), which say the same words when it passes.
 */
import type { Env } from "../paths.js";

/** When no trusted layer sets settings.hook_deadline_ms. */
export const DEFAULT_HOOK_DEADLINE_MS = 4000;

/** DOWNSCOPE_HOOK_DEADLINE_MS when it is a whole number of at least 100 ms, else the default. */
export function deadlineFromEnv(env: Env): number {
  const v = Number(env.DOWNSCOPE_HOOK_DEADLINE_MS);
  return Number.isInteger(v) && v >= 100 ? v : DEFAULT_HOOK_DEADLINE_MS;
}

/** The deny an agent gets when a hook call runs past its deadline. */
export function deadlineReason(ms: number, agent: string): string {
  return `downscope: the hook did not finish within ${ms} ms, so the command is blocked. Try again; if it persists, raise settings.hook_deadline_ms (below the hook timeout in ${agent}'s settings).`;
}
