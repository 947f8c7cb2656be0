/**
 * The audit record of what a tool call returned (event "tool"): exit status,
 * duration, size and sha256 of the output as delivered (masked), what was
 * masked (kinds and counts), and with settings.record_output: masked the
 * masked text itself, cut at record_output_max_bytes. The decision that let
 * the call run is the `hook` record with the same tool_use_id.
 */
import { auditEvent } from "../audit/event.js";
import type { OutputRecord, StreamRecord } from "../audit/record.js";
import { auditSettingsOf } from "../audit/settings.js";
import { sha256Hex } from "../lazy-crypto.js";
import type { Env } from "../paths.js";
import type { Policy } from "../policy/policy.js";
import type { PostResult, PostToolPayload } from "./post-tool-use.js";

export async function recordToolResult(
  p: PostToolPayload,
  r: PostResult,
  o: { env: Env; cwd: string; policy: Policy | undefined; stderr: (t: string) => void },
): Promise<void> {
  const settings = auditSettingsOf(o.policy, o.env);
  const capture = settings.recordOutput === "masked" ? settings.recordOutputMaxBytes : undefined;
  const output: OutputRecord = { streams: streamsOf(p, r.output, capture) };
  if (r.kind === "masked") output.masked = r.hits;
  if (r.kind === "withheld") output.withheld = r.reason;
  // A failed call's text reached the model as it was (it cannot be replaced): the record says so.
  if (r.kind === "masked" && p.event === "PostToolUseFailure") output.reached_model_unmasked = true;
  const command = typeof p.tool_input.command === "string" ? p.tool_input.command : undefined;
  await auditEvent(
    {
      event: "tool",
      ...(p.session_id !== undefined ? { session: p.session_id } : {}),
      ...(p.tool_use_id !== undefined ? { tool_use_id: p.tool_use_id } : {}),
      cwd: o.cwd,
      tool: p.tool_name,
      ...(command !== undefined ? { argv: [command] } : {}),
      ...(p.exit !== undefined ? { exit: p.exit } : {}),
      ...(p.duration_ms !== undefined ? { duration_ms: p.duration_ms } : {}),
      output,
    },
    { env: o.env, cwd: o.cwd, ...(o.policy ? { policy: o.policy } : {}), stderr: o.stderr },
  );
}

/** Bash's two streams as two; anything else as one `result` (its text, or its JSON). */
function streamsOf(p: PostToolPayload, output: unknown, capture: number | undefined): Record<string, StreamRecord> {
  if (p.event === "PostToolUse" && isStreams(output))
    return { stdout: stream(output.stdout, capture), stderr: stream(output.stderr, capture) };
  return { result: stream(typeof output === "string" ? output : (JSON.stringify(output) ?? ""), capture) };
}

function isStreams(v: unknown): v is { stdout: string; stderr: string } {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as { stdout?: unknown }).stdout === "string" &&
    typeof (v as { stderr?: unknown }).stderr === "string"
  );
}

export function stream(text: string, capture: number | undefined): StreamRecord {
  const bytes = Buffer.from(text, "utf8");
  const s: StreamRecord = { bytes: bytes.length, sha256: sha256Hex(bytes) };
  if (capture !== undefined && bytes.length > 0) {
    if (bytes.length <= capture) s.text = text;
    else {
      // Cut at a character boundary: a UTF-8 continuation byte is 10xxxxxx.
      let end = capture;
      while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
      s.text = bytes.subarray(0, end).toString("utf8");
      s.truncated = true;
    }
  }
  return s;
}
