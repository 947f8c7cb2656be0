/**
 * `downscope hook`: the Claude Code PreToolUse hook. Payload on stdin, answer
 * on stdout (nothing at all when no service is involved), exit 0 always.
 *
 * Fail closed: a hook that crashes (exit 1) or runs past Claude Code's timeout
 * lets the command run, so every error is caught here and answered with a
 * deny that says how to fix it, and an internal deadline below the timeout
 * `install` writes (settings.hook_deadline_ms, default 4000 ms) answers deny
 * too. Never a stack trace into the conversation.
 */
import { ConfigError, errorMessage } from "../errors.js";
import { answerPayload } from "../hook/answer.js";
import { denyOutput, parsePayload, PayloadError, toOutput, type HookOutput } from "../hook/protocol.js";
import type { Policy } from "../policy/policy.js";
import type { Command, Io } from "./io.js";

export const DEFAULT_HOOK_DEADLINE_MS = 4000;

export const hook: Command = async (_argv, io) => {
  const started = Date.now();
  let deadlineMs = deadlineFrom(io);
  let timer: NodeJS.Timeout | undefined;
  let fire: (o: HookOutput) => void = () => {};
  const deadline = new Promise<HookOutput>((resolve) => (fire = resolve));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        fire(
          denyOutput(
            `downscope: the hook did not finish within ${deadlineMs} ms, so the command is blocked. Try again; if it persists, raise settings.hook_deadline_ms (below the hook timeout in Claude Code's settings).`,
          ),
        ),
      Math.max(0, deadlineMs - (Date.now() - started)),
    );
  };
  arm();
  let output: HookOutput | undefined;
  try {
    output = await Promise.race([
      work(io, (ms) => {
        if (ms !== undefined && io.env.DOWNSCOPE_HOOK_DEADLINE_MS === undefined) {
          deadlineMs = ms;
          arm();
        }
      }),
      deadline,
    ]);
  } catch (e) {
    output = denyOutput(failureReason(e, io));
  } finally {
    clearTimeout(timer);
  }
  if (output !== undefined) io.stdout(`${JSON.stringify(output)}\n`);
  return 0;
};

async function work(io: Io, onDeadline: (ms: number | undefined) => void): Promise<HookOutput | undefined> {
  const payload = parsePayload(await io.stdin());
  let policy: Policy | undefined;
  const result = await answerPayload(payload, { env: io.env, cwd: io.cwd, onDeadline, onPolicy: (p) => (policy = p) });
  if (result.decision !== "none") {
    // Only calls that involve a service are recorded (and only then is the audit code loaded).
    const { auditEvent } = await import("../hook/service.js");
    const command = typeof payload.tool_input.command === "string" ? payload.tool_input.command : undefined;
    await auditEvent(
      {
        event: "hook",
        session: payload.session_id,
        cwd: payload.cwd ?? io.cwd,
        ...(command !== undefined ? { argv: [command] } : { tool: payload.tool_name, arguments: payload.tool_input }),
        action: result.decision === "rewrite" ? "allow" : result.decision,
        reason: result.reason,
      },
      { env: io.env, cwd: payload.cwd ?? io.cwd, policy, stderr: io.stderr },
    );
  }
  return toOutput(result, payload.tool_input);
}

export function failureReason(e: unknown, io: Io): string {
  if (io.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  if (e instanceof ConfigError)
    return `downscope: the policy cannot be loaded, so commands are blocked until it is fixed:\n${e.message}\nFix the file (\`downscope lint\` checks it).`;
  if (e instanceof PayloadError) return `downscope: ${e.message}`;
  return `downscope: internal error (${errorMessage(e)}), so the command is blocked. Run \`downscope check -- <command>\` to see the decision, or set DOWNSCOPE_DEBUG=1 for details on stderr.`;
}

function deadlineFrom(io: Io): number {
  const v = Number(io.env.DOWNSCOPE_HOOK_DEADLINE_MS);
  return Number.isInteger(v) && v >= 100 ? v : DEFAULT_HOOK_DEADLINE_MS;
}
