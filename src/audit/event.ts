/**
 * The one call every path makes to record a decision: it finds the audit
 * settings (managed/user layers of the policy, loaded if the caller has none)
 * and appends. Never throws and never changes a decision: a policy that cannot
 * be loaded falls back to the default log location.
 */
import type { Env } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import type { Policy } from "../policy/policy.js";
import { appendPrepared, prepareAudit } from "./log.js";
import type { AuditRecord } from "./record.js";
import { auditSettingsOf } from "./settings.js";

type EventOptions = { env: Env; cwd: string; policy?: Policy; stderr?: (t: string) => void };

export async function auditEvent(record: AuditRecord, opts: EventOptions): Promise<void> {
  (await prepareAuditEvent(record, opts))();
}

/**
 * auditEvent in two halves: the record is redacted and timed now; the returned
 * function appends it with what is known only at the end (downscope-exec: the
 * exit status and duration, so the redaction runs while the command does).
 */
export async function prepareAuditEvent(
  record: AuditRecord,
  opts: EventOptions,
): Promise<(late?: Pick<AuditRecord, "exit" | "duration_ms" | "output">) => void> {
  try {
    const policy = opts.policy ?? (await loadPolicy({ cwd: opts.cwd, env: opts.env }).catch(() => undefined));
    const prepared = prepareAudit(record, {
      env: opts.env,
      settings: auditSettingsOf(policy, opts.env),
      stderr: opts.stderr,
    });
    return (late) => appendPrepared(prepared, late);
  } catch {
    // prepareAudit and appendPrepared report their own failures; nothing here may change a decision.
    return () => {};
  }
}
