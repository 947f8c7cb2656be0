/**
 * `downscope hook [--agent cursor|gemini|codex|opencode|copilot|pi]`: the PreToolUse hook. Payload on
 * stdin, answer on stdout. Claude Code by default (nothing at all when no
 * service is involved, exit 0 always); `--agent` picks another agent's
 * protocol (src/hook/agents/), a thin adapter over the same decision.
 *
 * Fail closed: a hook that crashes (exit 1) or runs past Claude Code's timeout
 * lets the command run, so every error is caught here and answered with a
 * deny that says how to fix it, and an internal deadline below the timeout
 * `install` writes (settings.hook_deadline_ms, default 4000 ms) answers deny
 * too. Never a stack trace into the conversation. The call itself (parse,
 * decide, audit, answer) is src/hook/hook-call.ts, which the decision service
 * (`downscope serve`) runs too.
 */
import { errorMessage } from "../errors.js";
import { deadlineFromEnv, deadlineReason } from "../hook/deadline.js";
import { answerHookCall, failureReason as hookFailureReason } from "../hook/hook-call.js";
import { claudeProtocol, type HookProtocol, type ProtocolAnswer } from "../hook/protocol.js";
import type { Command, Io } from "../io.js";

export const AGENTS = ["cursor", "gemini", "codex", "opencode", "copilot", "pi"] as const;
export type Agent = (typeof AGENTS)[number];

/** Each agent's protocol, loaded only when named: Claude Code's hook path stays as it was. */
const PROTOCOLS: Record<Agent, () => Promise<HookProtocol>> = {
  cursor: async () => (await import("../hook/agents/cursor.js")).cursorProtocol,
  gemini: async () => (await import("../hook/agents/gemini.js")).geminiProtocol,
  codex: async () => (await import("../hook/agents/codex.js")).codexProtocol,
  copilot: async () => (await import("../hook/agents/copilot.js")).copilotProtocol,
  opencode: async () => (await import("../hook/agents/plugin.js")).opencodeProtocol,
  pi: async () => (await import("../hook/agents/plugin.js")).piProtocol,
};

/** The protocol named by `--agent`. */
export async function protocolFor(argv: readonly string[]): Promise<HookProtocol> {
  if (argv.length === 0) return claudeProtocol;
  const agent = argv[0] === "--agent" ? argv[1] : argv[0]?.startsWith("--agent=") ? argv[0].slice(8) : undefined;
  const rest = argv[0] === "--agent" ? argv.slice(2) : argv.slice(1);
  if (agent !== undefined && rest.length === 0 && Object.hasOwn(PROTOCOLS, agent)) return PROTOCOLS[agent as Agent]();
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
  let deadlineMs = deadlineFromEnv(io.env);
  let timer: NodeJS.Timeout | undefined;
  let fire: (o: ProtocolAnswer) => void = () => {};
  const deadline = new Promise<ProtocolAnswer>((resolve) => (fire = resolve));
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => fire(protocol.deny(deadlineReason(deadlineMs, protocol.agent))),
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
  return answerHookCall(await io.stdin(), protocol, { env: io.env, cwd: io.cwd, stderr: io.stderr, onDeadline });
}

/** The deny reason for an error (src/hook/hook-call.ts), for the process's Io. */
export function failureReason(e: unknown, io: Io): string {
  return hookFailureReason(e, io);
}
