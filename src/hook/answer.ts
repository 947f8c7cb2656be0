/**
 * One PreToolUse payload → one answer: loads the policy for the payload's cwd
 * and, when a service may be involved, decides (src/hook/service.ts). Shared by
 * `downscope hook` and the Agent SDK callback. Errors propagate; the callers'
 * top-level catch turns them into a deny.
 *
 * Split for speed: this file is all that a command naming no service needs;
 * the decision, the shell parser and the audit trail load only after the
 * prefilter (dist/hook.cjs, dist/hook-service.cjs, dist/shell.cjs).
 */
import { isAbsolute } from "node:path";
import type { Env } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { serviceBinaries, settingsOf, type Policy } from "../policy/policy.js";
import { mayInvolveService } from "../shell/prefilter.js";
import type { HookResult } from "./decide.js";
import type { HookPayload } from "./protocol.js";

export interface AnswerOptions {
  env: Env;
  cwd: string;
  /** Told settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
  /** Given the loaded policy (the audit trail reads its settings without loading it again). */
  onPolicy?: (policy: Policy) => void;
  /**
   * Count the shims as covering calls the hook cannot rewrite only when a
   * directory on this environment's PATH holds them. Agents other than Claude
   * Code have no SessionStart PATH line (src/cli/session-start.ts), so the
   * default shims directory existing proves nothing for them.
   */
  shimsFromPathOnly?: boolean;
}

export async function answerPayload(payload: HookPayload, opts: AnswerOptions): Promise<HookResult> {
  const cwd = payload.cwd && isAbsolute(payload.cwd) ? payload.cwd : opts.cwd;
  const isBash = payload.tool_name === "Bash";
  if (!isBash && !payload.tool_name.startsWith("mcp__")) return { decision: "none" };
  const policy = await loadPolicy({ cwd, env: opts.env });
  opts.onDeadline?.(settingsOf(policy).hookDeadlineMs);
  opts.onPolicy?.(policy);
  const command = payload.tool_input.command;
  if (isBash && typeof command !== "string") return { decision: "none" };
  // Fast path (proven against the full analysis in test/shell/prefilter.test.ts):
  // a plain command naming no service, shell or wrapper needs no parser.
  if (isBash && !mayInvolveService(command as string, serviceBinaries(policy))) return { decision: "none" };
  const { answerService } = await import("./service.js");
  return answerService(payload, policy, cwd, opts.env, opts.shimsFromPathOnly === true);
}
