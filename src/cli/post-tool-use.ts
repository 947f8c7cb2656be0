/**
 * `downscope post-tool-use [--agent gemini|cursor]`: the hook that runs after
 * every tool call. Payload on stdin, answer on stdout: the output with every
 * secret downscope knows or recognises replaced by `[masked:<kind>]`
 * (src/hook/post-tool-use.ts), and an audit record of what the call returned
 * when downscope governed it or something was masked.
 *
 * Fail safe: Claude Code shows the tool's output as it was when this hook
 * fails in any way (exit 1 or 2, a timeout, invalid JSON, with or without
 * `"onFailure": "block"`), so nothing may escape: every error, and the
 * deadline (settings.hook_deadline_ms, default 4000 ms, below the 10 s timeout
 * `install` writes), answers with the output withheld — its shape kept, every
 * string a short notice — never with the output unmasked, and never with a
 * failing exit code. The session goes on; the model is told to tell the user.
 */
import { ConfigError, errorMessage } from "../errors.js";
import {
  answerPostToolUse,
  claudePostProtocol,
  shouldRecord,
  withheldResult,
  type PostResult,
  type PostToolPayload,
  type PostToolProtocol,
} from "../hook/post-tool-use.js";
import type { Policy } from "../policy/policy.js";
import type { Command, Io } from "../io.js";

/** As the PreToolUse hook's (src/cli/hook.ts), below the 10 s timeout `install` writes. */
const DEFAULT_DEADLINE_MS = 4000;

/** The protocol named by `--agent` (loaded only then: Claude Code's path stays small). */
export async function postProtocolFor(argv: readonly string[]): Promise<PostToolProtocol> {
  const agent = argv[0] === "--agent" ? argv[1] : argv[0]?.startsWith("--agent=") ? argv[0].slice(8) : undefined;
  const rest = argv[0] === "--agent" ? argv.slice(2) : argv.slice(1);
  if (argv.length === 0 || (agent === "claude" && rest.length === 0)) return claudePostProtocol;
  if (agent === "gemini" && rest.length === 0)
    return (await import("../hook/agents/gemini-after-tool.js")).geminiAfterToolProtocol;
  if (agent === "cursor" && rest.length === 0)
    return (await import("../hook/agents/cursor-post-tool-use.js")).cursorPostToolUseProtocol;
  throw new Error(
    `usage: downscope post-tool-use [--agent claude|gemini|cursor] (got ${JSON.stringify(argv.join(" "))}); fix the hook command in the agent's settings (\`downscope install <agent>\` writes it)`,
  );
}

export const postToolUse: Command = async (argv, io) => {
  const started = Date.now();
  let protocol: PostToolProtocol;
  try {
    protocol = await postProtocolFor(argv);
  } catch (e) {
    io.stderr(`downscope: ${errorMessage(e)}\n`);
    return emit(io, claudePostProtocol.failure(errorMessage(e)));
  }
  let payload: PostToolPayload;
  try {
    payload = protocol.parse(await io.stdin());
  } catch (e) {
    io.stderr(`downscope: ${errorMessage(e)}\n`);
    return emit(io, protocol.failure(`downscope: ${errorMessage(e)}`));
  }
  let deadlineMs = deadlineFrom(io);
  let policy: Policy | undefined;
  let result: PostResult;
  try {
    result = await answerPostToolUse(payload, {
      env: io.env,
      cwd: io.cwd,
      deadline: started + deadlineMs,
      onPolicy: (p) => (policy = p),
      onDeadline: (ms) => {
        if (ms !== undefined && io.env.DOWNSCOPE_HOOK_DEADLINE_MS === undefined) deadlineMs = ms;
      },
    });
  } catch (e) {
    if (io.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
    result = withheldResult(payload, whyOf(e));
  }
  const code = emit(io, protocol.answer(payload, result));
  if (shouldRecord(payload, result, policy)) {
    const { recordToolResult } = await import("../hook/tool-record.js");
    await recordToolResult(payload, result, { env: io.env, cwd: payload.cwd ?? io.cwd, policy, stderr: io.stderr });
  }
  return code;
};

function emit(io: Io, a: { stdout?: string; code: number }): number {
  if (a.stdout !== undefined) io.stdout(a.stdout);
  return a.code;
}

function whyOf(e: unknown): string {
  if (e instanceof ConfigError)
    return `the downscope policy cannot be loaded: ${e.message.split("\n")[0] ?? ""}; \`downscope lint\` shows where`;
  return errorMessage(e);
}

function deadlineFrom(io: Io): number {
  const v = Number(io.env.DOWNSCOPE_HOOK_DEADLINE_MS);
  return Number.isInteger(v) && v >= 100 ? v : DEFAULT_DEADLINE_MS;
}
