/**
 * One audit record: what was asked, what was decided, what credential went
 * out (by fingerprint only) and how it ended. Written as one JSON line by
 * log.ts; `time`, `pid`, `prev` and `mac` are added there.
 */
export type AuditEvent = "hook" | "exec" | "credential" | "mcp";

export interface AuditRecord {
  event: AuditEvent;
  /** Claude Code session id, when the caller knows it. */
  session?: string;
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
