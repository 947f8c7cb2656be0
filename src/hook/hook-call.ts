/**
 * One hook call, start to end, shared by every path that answers an agent:
 * the payload text in, the agent's answer out — parse, decide
 * (answerPayload), record the audit event, answer in the agent's protocol.
 * `downscope hook` (src/cli/hook.ts) runs it on its stdin; the decision
 * service (src/serve/) runs it on an HTTP request's body. Neither has a
 * decision path of its own, so the two cannot drift
 * (test/serve/differential.test.ts runs the command table through both).
 *
 * Errors propagate: each caller turns them into its deny (failureReason)
 * and owns the deadline (src/hook/deadline.ts), since a process and a
 * resident service wait differently.
 */
import { ConfigError, errorMessage } from "../errors.js";
import type { Env } from "../paths.js";
import type { Policy } from "../policy/policy.js";
import { answerPayload } from "./answer.js";
import { isPayloadError, type HookProtocol, type ProtocolAnswer } from "./protocol.js";

export interface HookCallContext {
  /**
   * The environment the decision runs with: where downscope's files are
   * (HOME, XDG_*), the project (CLAUDE_PROJECT_DIR), PATH.
   */
  env: Env;
  /** The working directory when the payload names none. */
  cwd: string;
  /** Where a failed audit write is reported (never stdout: it is the protocol channel). */
  stderr: (text: string) => void;
  /** Told settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
}

export async function answerHookCall(
  text: string,
  protocol: HookProtocol,
  ctx: HookCallContext,
): Promise<ProtocolAnswer> {
  const payload = protocol.parse(text, { env: ctx.env, cwd: ctx.cwd });
  let policy: Policy | undefined;
  // An agent that names its project in the payload (Cursor) has no CLAUDE_PROJECT_DIR: the self-protection reads it from there.
  const env = payload.project_dir === undefined ? ctx.env : { ...ctx.env, CLAUDE_PROJECT_DIR: payload.project_dir };
  const result = await answerPayload(payload, {
    env,
    cwd: ctx.cwd,
    ...(ctx.onDeadline ? { onDeadline: ctx.onDeadline } : {}),
    onPolicy: (p) => (policy = p),
    ...(protocol.shimsFromPathOnly ? { shimsFromPathOnly: true } : {}),
    ...(protocol.gatedApprovals ? { gatedApprovals: true } : {}),
  });
  if (result.decision !== "none") {
    // Only calls that involve a service are recorded (and only then is the audit code loaded).
    const { auditEvent } = await import("./service.js");
    const command = typeof payload.tool_input.command === "string" ? payload.tool_input.command : undefined;
    await auditEvent(
      {
        event: "hook",
        session: payload.session_id,
        cwd: payload.cwd ?? ctx.cwd,
        ...(command !== undefined ? { argv: [command] } : { tool: payload.tool_name, arguments: payload.tool_input }),
        action: result.decision === "rewrite" ? "allow" : result.decision,
        reason: result.reason,
        // The tool record of the same call (what it returned, src/hook/tool-record.ts) carries it too.
        ...(payload.tool_use_id !== undefined ? { tool_use_id: payload.tool_use_id } : {}),
      },
      { env: ctx.env, cwd: payload.cwd ?? ctx.cwd, policy, stderr: ctx.stderr },
    );
  }
  return protocol.answer(result, payload, { env: ctx.env });
}

/** The deny reason for an error of a hook call: what to fix, never a stack trace (DOWNSCOPE_DEBUG=1 puts one on stderr). */
export function failureReason(e: unknown, ctx: Pick<HookCallContext, "env" | "stderr">): string {
  if (ctx.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) ctx.stderr(`${e.stack}\n`);
  if (e instanceof ConfigError)
    return `downscope: the policy cannot be loaded, so commands are blocked until it is fixed:\n${e.message}\nFix the file (\`downscope lint\` checks it).`;
  if (isPayloadError(e)) return `downscope: ${e.message}`;
  return `downscope: internal error (${errorMessage(e)}), so the command is blocked. Run \`downscope check -- <command>\` to see the decision, or set DOWNSCOPE_DEBUG=1 for details on stderr.`;
}
