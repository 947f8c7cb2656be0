/**
 * One audit record: what was asked, what was decided, what credential went
 * out (by fingerprint only) and how it ended. Written as one JSON line by
 * log.ts; `time`, `pid`, `prev` and `mac` are added there.
 */
export type AuditEvent = "hook" | "exec" | "credential" | "mcp" | "tool";

export interface AuditRecord {
  event: AuditEvent;
  /** Claude Code session id, when the caller knows it. */
  session?: string;
  /**
   * The agent's id of the tool call: a `hook` record (the decision) and the
   * `tool` record of the same call (what it returned) share it.
   */
  tool_use_id?: string;
  cwd?: string;
  service?: string;
  /** The command as run, binary first. Redacted before it is written. */
  argv?: readonly string[];
  /** MCP: tool name and arguments (arguments redacted before writing). */
  tool?: string;
  arguments?: unknown;
  /** Config layer and rule that decided (`built-in` for guards). */
  layer?: string;
  rule?: string;
  action?: "allow" | "deny" | "review" | "ask" | "error";
  reason?: string;
  /** token_slot: slot name; sts/boundary: the policy's id (rule name or file). */
  slot?: string;
  policy?: string;
  /** `fingerprint()` of the credential handed out; never the credential. */
  fingerprint?: string;
  /**
   * What was minted for the command (github_app: permissions, repositories;
   * token_request: service account, audiences), its expiry and fingerprint.
   * Never the token.
   */
  minted?: MintedRecord;
  /** The child's exit code, or the signal name. */
  exit?: number | string;
  duration_ms?: number;
  /** What the command or tool returned (exec, tool, mcp records). */
  output?: OutputRecord;
}

/**
 * What a call returned, measured as it was delivered (after masking): never
 * a secret downscope knows, and never more text than settings.record_output
 * allows.
 */
export interface OutputRecord {
  /**
   * Per stream: downscope-exec's `stdout` and `stderr`; a tool's `result`
   * (Bash: `stdout` and `stderr`); an MCP call's `result`.
   */
  streams: Record<string, StreamRecord>;
  /** What was masked, by kind: counts only. */
  masked?: Record<string, number>;
  /** The output was replaced by a notice because masking failed: why. */
  withheld?: string;
  /**
   * The agent showed the output as it was although it held a secret (Claude
   * Code cannot replace a failed call's text); what is recorded is masked.
   */
  reached_model_unmasked?: true;
}

export interface StreamRecord {
  /** Bytes delivered (UTF-8 for text); absent when not measured (`tty`). */
  bytes?: number;
  /** sha256 of those bytes, hex. */
  sha256?: string;
  /**
   * Not measured: the stream was a terminal, which downscope-exec hands to the
   * command as it is (prompts, colours and line editing keep working).
   */
  tty?: true;
  /** settings.record_output: masked — the masked text, at most record_output_max_bytes. */
  text?: string;
  /** `text` is the first part only. */
  truncated?: true;
}

/** A record as read back from the log. */
export interface AuditEntry extends Omit<AuditRecord, "argv"> {
  time: string;
  pid?: number;
  argv?: string[];
  prev: string;
  mac: string;
}

export interface MintedRecord {
  kind: "github_app" | "token_request";
  permissions?: Record<string, string>;
  repositories?: string[];
  service_account?: string;
  audiences?: string[];
  expires_at: string;
  fingerprint: string;
  /** false: served from the cache (minted by an earlier command). */
  minted: boolean;
}
