/**
 * Which audit settings apply (pure). The audit trail watches the agent, so an
 * agent-editable project file has no say in it: `settings.audit`,
 * `settings.record_output` and `settings.record_output_max_bytes` are read from
 * the managed and user layers only, and the managed layer wins for every key it
 * sets (an organisation can force the log on, pin its path and export it; a
 * user can add their own export when the organisation sets none).
 */
import { join } from "node:path";
import { expandHome, stateHome, type Env } from "../paths.js";
import type { Policy } from "../policy/policy.js";

export interface AuditSettings {
  enabled: boolean;
  /** The live log file; rotated files are `<path>.1` … `<path>.<keep>`. */
  path: string;
  maxBytes: number;
  /** Rotated files kept besides the live one. */
  keep: number;
  /** OTLP/HTTP base URL (…/v1/logs is appended) from a trusted layer. */
  otlpEndpoint?: string;
  /** RFC 5424 over UDP to the local syslog daemon (127.0.0.1:514). */
  syslog: boolean;
  /** settings.record_output: keep the masked output in exec, tool and mcp records too ("none": size and sha256 only). */
  recordOutput: "none" | "masked";
  /** settings.record_output_max_bytes: at most this much text per stream. */
  recordOutputMaxBytes: number;
}

export const DEFAULT_RECORD_OUTPUT_MAX_BYTES = 4096;

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const KEEP_ROTATED = 5;

export const defaultAuditPath = (env: Env) => join(stateHome(env), "audit.jsonl");

export function auditSettingsOf(policy: Policy | undefined, env: Env): AuditSettings {
  const out: AuditSettings = {
    enabled: true,
    path: defaultAuditPath(env),
    maxBytes: DEFAULT_MAX_BYTES,
    keep: KEEP_ROTATED,
    syslog: false,
    recordOutput: "none",
    recordOutputMaxBytes: DEFAULT_RECORD_OUTPUT_MAX_BYTES,
  };
  // user first, then managed overrides.
  const layers = (policy?.layers ?? []).filter((l) => l.name !== "project");
  const ordered = [...layers.filter((l) => l.name === "user"), ...layers.filter((l) => l.name === "managed")];
  for (const l of ordered) {
    const s = l.config.settings;
    if (s?.record_output !== undefined) out.recordOutput = s.record_output;
    if (s?.record_output_max_bytes !== undefined) out.recordOutputMaxBytes = s.record_output_max_bytes;
    const a = s?.audit;
    if (!a) continue;
    if (a.enabled !== undefined) out.enabled = a.enabled;
    if (a.path !== undefined) {
      const p = expandHome(a.path, env);
      if (p.startsWith("/")) out.path = p;
    }
    if (a.max_bytes !== undefined) out.maxBytes = a.max_bytes;
    if (a.otlp_endpoint !== undefined) out.otlpEndpoint = a.otlp_endpoint;
    if (a.syslog !== undefined) out.syslog = a.syslog;
  }
  return out;
}
