/**
 * `downscope hook [--agent cursor|gemini]`: the PreToolUse hook. Payload on
 * stdin, answer on stdout. Claude Code by default (nothing at all when no
 * service is involved, exit 0 always); `--agent` picks another agent's
 * protocol (src/hook/agents/), a thin adapter over the same decision.
 *
 * Fail closed: a hook that crashes (exit 1) or runs past Claude Code's timeout
 * lets the command run, so every error is caught here and answered with a
 * deny that says how to fix it, and an internal deadline below the timeout
 * `install` writes (settings.hook_deadline_ms, default 4000 ms) answers deny
 * too. Never a stack trace into the conversation.
 */
import { ConfigError, errorMessage } from "../errors.js";
import { answerPayload } from "../hook/answer.js";
import { claudeProtocol, isPayloadError, type HookProtocol, type ProtocolAnswer } from "../hook/protocol.js";
import type { Policy } from "../policy/policy.js";
import type { Command, Io } from "./io.js";

export const DEFAULT_HOOK_DEADLINE_MS = 4000;

export const AGENTS = ["cursor", "gemini"] as const;
export type Agent = (typeof AGENTS)[number];

/** The protocol named by `--agent` (loaded only then: Claude Code's hook path stays as it was). */
export async function protocolFor(argv: readonly string[]): Promise<HookProtocol> {
  if (argv.length === 0) return claudeProtocol;
  const agent = argv[0] === "--agent" ? argv[1] : argv[0]?.startsWith("--agent=") ? argv[0].slice(8) : undefined;
  const rest = argv[0] === "--agent" ? argv.slice(2) : argv.slice(1);
  if (agent === "cursor" && rest.length === 0) return (await import("../hook/agents/cursor.js")).cursorProtocol;
  if (agent === "gemini" && rest.length === 0) return (await import("../hook/agents/gemini.js")).geminiProtocol;
  if (agent === "claude" && rest.length === 0) return claudeProtocol;
  throw new UsageForHook(
    `usage: downscope hook [--agent claude|${AGENTS.join("|")}] (got ${JSON.stringify(argv.join(" "))}); fix the hook command in the agent's settings (\`downscope install <agent>\` writes it)`,
  );
}

/** A hook command line downscope does not know: answered as a deny in Claude Code's terms (the only one known for sure). */
class UsageForHook extends Error {}

export const hook: Command = async (argv, io) => {
  const started = Date.now();
  let protocol: HookProtocol;
  try {
    protocol = await protocolFor(argv);
  } catch (e) {
    return emit(io, claudeProtocol.deny(`downscope: ${errorMessage(e)}`));
  }
  let deadlineMs = deadlineFrom(io);
  let timer: NodeJS.Timeout | undefined;
  let fire: (o: ProtocolAnswer) => void = () => {};
  const deadline = new Promise<ProtocolAnswer>((resolve) => (fire = resolve));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        fire(
          protocol.deny(
            `downscope: the hook did not finish within ${deadlineMs} ms, so the command is blocked. Try again; if it persists, raise settings.hook_deadline_ms (below the hook timeout in ${protocol.agent}'s settings).`,
          ),
        ),
      Math.max(0, deadlineMs - (Date.now() - started)),
    );
  };
  arm();
  let output: ProtocolAnswer;
  try {
    output = await Promise.race([
      work(io, protocol, (ms) => {
        if (ms !== undefined && io.env.DOWNSCOPE_HOOK_DEADLINE_MS === undefined) {
          deadlineMs = ms;
          arm();
        }
      }),
      deadline,
    ]);
  } catch (e) {
    output = protocol.deny(failureReason(e, io));
  } finally {
    clearTimeout(timer);
  }
  return emit(io, output);
};

function emit(io: Io, a: ProtocolAnswer): number {
  if (a.stdout !== undefined) io.stdout(a.stdout);
  return a.code;
}

async function work(
  io: Io,
  protocol: HookProtocol,
  onDeadline: (ms: number | undefined) => void,
): Promise<ProtocolAnswer> {
  const payload = protocol.parse(await io.stdin(), { env: io.env, cwd: io.cwd });
  let policy: Policy | undefined;
  // An agent that names its project in the payload (Cursor) has no CLAUDE_PROJECT_DIR: the self-protection reads it from there.
  const env = payload.project_dir === undefined ? io.env : { ...io.env, CLAUDE_PROJECT_DIR: payload.project_dir };
  const result = await answerPayload(payload, {
    env,
    cwd: io.cwd,
    onDeadline,
    onPolicy: (p) => (policy = p),
    ...(protocol.shimsFromPathOnly ? { shimsFromPathOnly: true } : {}),
    ...(protocol.gatedApprovals ? { gatedApprovals: true } : {}),
  });
  if (result.decision !== "none") {
    // Only calls that involve a service are recorded (and only then is the audit code loaded).
    const { auditEvent } = await import("../hook/service.js");
    const command = typeof payload.tool_input.command === "string" ? payload.tool_input.command : undefined;
    await auditEvent(
      {
        event: "hook",
        session: payload.session_id,
        // The tool record of the same call (what it returned, src/hook/tool-record.ts) carries it too.
        ...(payload.tool_use_id !== undefined ? { tool_use_id: payload.tool_use_id } : {}),
        cwd: payload.cwd ?? io.cwd,
        ...(command !== undefined ? { argv: [command] } : { tool: payload.tool_name, arguments: payload.tool_input }),
        action: result.decision === "rewrite" ? "allow" : result.decision,
        reason: result.reason,
      },
      { env: io.env, cwd: payload.cwd ?? io.cwd, policy, stderr: io.stderr },
    );
  }
  return protocol.answer(result, payload, { env: io.env });
}

export function failureReason(e: unknown, io: Io): string {
  if (io.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  if (e instanceof ConfigError)
    return `downscope: the policy cannot be loaded, so commands are blocked until it is fixed:\n${e.message}\nFix the file (\`downscope lint\` checks it).`;
  if (isPayloadError(e)) return `downscope: ${e.message}`;
  return `downscope: internal error (${errorMessage(e)}), so the command is blocked. Run \`downscope check -- <command>\` to see the decision, or set DOWNSCOPE_DEBUG=1 for details on stderr.`;
}

function deadlineFrom(io: Io): number {
  const v = Number(io.env.DOWNSCOPE_HOOK_DEADLINE_MS);
  return Number.isInteger(v) && v >= 100 ? v : DEFAULT_HOOK_DEADLINE_MS;
}
