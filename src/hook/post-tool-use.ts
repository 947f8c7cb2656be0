/**
 * After a tool ran: mask the secrets in its output before the model sees it,
 * and say what the call returned for the audit trail. One function over
 * (payload, env) → result (`answerPostToolUse`), shared by every agent's
 * post-tool hook (Claude Code's below; Gemini CLI's and Cursor's in
 * src/hook/agents/) and callable from a resident service.
 *
 * Claude Code's PostToolUse (https://docs.claude.com/en/docs/claude-code/hooks),
 * as 2.1.328 behaves (checked with the real CLI, test/e2e/masking.test.ts):
 *   - in: {hook_event_name: "PostToolUse", tool_name, tool_input,
 *     tool_response, tool_use_id, session_id, cwd, duration_ms, …};
 *   - out: {"hookSpecificOutput": {"hookEventName": "PostToolUse",
 *     "updatedToolOutput": <value>}} replaces what the model sees, for every
 *     tool, in user, project, local and --settings scopes — but only when the
 *     value has the tool's output shape (Bash: {stdout, stderr, interrupted,
 *     isImage, …}; Read: {type, file: {…}}; an MCP tool: its content array);
 *     a value of another shape is dropped and the original shown. So masking
 *     changes strings only, and a withheld output keeps the shape;
 *   - a hook that fails (exit 1, exit 2, a timeout, invalid JSON), with or
 *     without `"onFailure": "block"`, leaves the output as it was: this hook
 *     must never fail, so every error answers with the output withheld;
 *   - a tool that fails (Bash exiting non-zero) fires PostToolUseFailure,
 *     whose `error` text goes to the model and which no answer can change:
 *     such output is recorded, not masked (docs/claude-code.md).
 */
import { isAbsolute } from "node:path";
import { knownSecrets } from "../mask/known-secrets.js";
import { maskValue, totalHits, withhold, type Hits, type Masker } from "../mask/mask.js";
import type { Env } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { serviceForServer, settingsOf, type Policy } from "../policy/policy.js";
import { PayloadError, type ProtocolAnswer } from "./protocol.js";

/** A finished tool call, in the shape the shared code reads (each agent's adapter maps its own). */
export interface PostToolPayload {
  /** PostToolUse: the output can be replaced. PostToolUseFailure: only recorded. */
  event: "PostToolUse" | "PostToolUseFailure";
  /** Claude-style name: `Bash`, `Read`, `mcp__<server>__<tool>`, …; other agents' names where they have no equivalent. */
  tool_name: string;
  tool_input: Record<string, unknown>;
  /** The output as the agent would give it to the model (any JSON). */
  tool_response?: unknown;
  /** PostToolUseFailure: the error text the model gets. */
  error?: string;
  tool_use_id?: string;
  session_id?: string;
  cwd?: string;
  duration_ms?: number;
  /** Bash's exit status where the agent says it (a failure's "Exit code N"). */
  exit?: number | string;
}

export type PostResult =
  /** Nothing to change: the agent shows the output as it is. */
  | { kind: "unchanged"; output: unknown; hits: Hits }
  /** Secrets were replaced by `[masked:<kind>]`; `output` has the original's shape. */
  | { kind: "masked"; output: unknown; hits: Hits }
  /** Masking could not be done: every string of the output is replaced by a notice. */
  | { kind: "withheld"; output: unknown; reason: string };

export interface PostOptions {
  env: Env;
  cwd: string;
  /** Given the loaded policy (the audit trail reads its settings without loading it again). */
  onPolicy?: (policy: Policy) => void;
  /** Given settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
  /** Epoch ms after which masking stops and the output is withheld (checked between steps). */
  deadline?: number;
}

/** Outputs larger than this (characters, all strings together) are withheld rather than scanned. */
export const MAX_MASKED_CHARS = 32 * 1024 * 1024;

export class MaskDeadline extends Error {
  override name = "MaskDeadline";
}

/**
 * The masked output, or the original when it holds no secret downscope knows
 * or recognises. Throws on errors (a policy that cannot be loaded, the
 * deadline); callers answer those with `withheldResult`.
 */
export async function answerPostToolUse(p: PostToolPayload, o: PostOptions): Promise<PostResult> {
  const output = p.event === "PostToolUseFailure" ? (p.error ?? "") : p.tool_response;
  if (output === undefined || output === null) return { kind: "unchanged", output, hits: {} };
  if (charsOf(output) > MAX_MASKED_CHARS)
    throw new MaskDeadline(`the output is larger than ${MAX_MASKED_CHARS / 1024 / 1024} MiB, too large to mask`);
  const cwd = p.cwd && isAbsolute(p.cwd) ? p.cwd : o.cwd;
  const policy = await loadPolicy({ cwd, env: o.env });
  o.onPolicy?.(policy);
  o.onDeadline?.(settingsOf(policy).hookDeadlineMs);
  const masker = withDeadline(knownSecrets(policy, o.env), o.deadline);
  const hits: Hits = {};
  const masked = maskValue(output, masker, hits);
  if (o.deadline !== undefined && Date.now() > o.deadline)
    throw new MaskDeadline("masking did not finish within the hook's deadline");
  return totalHits(hits) === 0 ? { kind: "unchanged", output, hits } : { kind: "masked", output: masked, hits };
}

/** What the model gets when masking failed: the output's shape, a short notice in every string. */
export function withheldResult(p: PostToolPayload, why: string): PostResult {
  const reason = `downscope could not check this output for secrets (${why}), so it is withheld. Tell the user; running the command again will not help until this is fixed.`;
  const output = p.event === "PostToolUseFailure" ? (p.error ?? "") : p.tool_response;
  return { kind: "withheld", output: withhold(output ?? "", reason), reason };
}

function withDeadline(m: Masker, deadline: number | undefined): Masker {
  if (deadline === undefined) return m;
  // Masking is synchronous: a timer cannot interrupt it, so it checks the clock between steps.
  return {
    ...m,
    checkpoint: () => {
      if (Date.now() > deadline) throw new MaskDeadline("masking did not finish within the hook's deadline");
    },
  };
}

function charsOf(v: unknown, depth = 0): number {
  if (typeof v === "string") return v.length;
  if (depth > 64 || v === null || typeof v !== "object") return 0;
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += charsOf(x, depth + 1);
  return n;
}

/**
 * Whether the audit trail records this call: one downscope decided (a
 * service call it rewrote to downscope-exec, an MCP call of a policy's
 * server), or one whose output held a secret or had to be withheld. Other
 * tool calls are not recorded (the trail is about what downscope governed).
 */
export function shouldRecord(p: PostToolPayload, r: PostResult, policy: Policy | undefined): boolean {
  if (r.kind !== "unchanged") return true;
  const command = p.tool_input.command;
  if (typeof command === "string" && command.includes("downscope-exec")) return true;
  const server = mcpServerOf(p.tool_name);
  return server !== undefined && (policy?.layers ?? []).some((l) => serviceForServer(l.config, server) !== undefined);
}

/** The server of `mcp__<server>__<tool>` (as src/hook/decide.ts reads it, without loading the decision code). */
function mcpServerOf(name: string): string | undefined {
  if (!name.startsWith("mcp__")) return undefined;
  const i = name.indexOf("__", 5);
  return i > 5 && i + 2 < name.length ? name.slice(5, i) : undefined;
}

// ---------------------------------------------------------------- Claude Code

export interface PostToolProtocol {
  /** The agent's name in messages. */
  agent: string;
  /** The agent's payload → PostToolPayload; throws PayloadError. */
  parse(text: string): PostToolPayload;
  /** The agent's answer for a result. */
  answer(p: PostToolPayload, r: PostResult): ProtocolAnswer;
  /** The payload could not be read: answer so the agent shows nothing it should not (as far as it can). */
  failure(reason: string): ProtocolAnswer;
}

export function parseClaudePostPayload(text: string): PostToolPayload {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      "the hook input is not JSON; `downscope post-tool-use` must be run by Claude Code as a PostToolUse hook",
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  const d = data as Record<string, unknown>;
  const event = d.hook_event_name === "PostToolUseFailure" ? "PostToolUseFailure" : "PostToolUse";
  if (d.hook_event_name !== undefined && d.hook_event_name !== event)
    throw new PayloadError(
      `the hook input is a ${JSON.stringify(d.hook_event_name)} event; \`downscope post-tool-use\` answers PostToolUse and PostToolUseFailure`,
    );
  if (typeof d.tool_name !== "string") throw new PayloadError("the hook input has no tool_name");
  const input = d.tool_input ?? {};
  const error = typeof d.error === "string" ? d.error : undefined;
  const exit = event === "PostToolUseFailure" ? exitOf(error) : d.tool_name === "Bash" ? 0 : undefined;
  return {
    event,
    tool_name: d.tool_name,
    tool_input:
      typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {},
    ...(d.tool_response !== undefined ? { tool_response: d.tool_response } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(typeof d.tool_use_id === "string" ? { tool_use_id: d.tool_use_id } : {}),
    ...(typeof d.session_id === "string" ? { session_id: d.session_id } : {}),
    ...(typeof d.cwd === "string" ? { cwd: d.cwd } : {}),
    ...(typeof d.duration_ms === "number" ? { duration_ms: d.duration_ms } : {}),
    ...(exit !== undefined ? { exit } : {}),
  };
}

/** Claude Code's failure text starts "Exit code N" for a command that exited non-zero. */
function exitOf(error: string | undefined): number | string {
  const m = /^Exit code (\d+)/.exec(error ?? "");
  return m ? Number(m[1]) : "error";
}

export const claudePostProtocol: PostToolProtocol = {
  agent: "Claude Code",
  parse: parseClaudePostPayload,
  answer(p, r) {
    // A failure's text cannot be replaced (2.1.328 reads no output field of PostToolUseFailure); an
    // unchanged output is not echoed back (hooks run in parallel: an identity rewrite could undo another's).
    if (p.event !== "PostToolUse" || r.kind === "unchanged") return { code: 0 };
    const out = { hookSpecificOutput: { hookEventName: "PostToolUse", updatedToolOutput: r.output } };
    return { stdout: `${JSON.stringify(out)}\n`, code: 0 };
  },
  // Without a payload there is no output shape to keep; Claude Code shows the output whatever this says.
  failure: () => ({ code: 0 }),
};
