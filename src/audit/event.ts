/**
 * The one call every path makes to record a decision: it finds the audit
 * settings (managed/user layers of the policy, loaded if the caller has none)
 * and appends. Never throws and never changes a decision: a policy that cannot
 * be loaded falls back to the default log location.
 */
import type { Env } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import type { Policy } from "../policy/policy.js";
import { appendAudit } from "./log.js";
import type { AuditRecord } from "./record.js";
import { auditSettingsOf } from "./settings.js";

export async function auditEvent(
  record: AuditRecord,
  opts: { env: Env; cwd: string; policy?: Policy; stderr?: (t: string) => void },
): Promise<void> {
  try {
    const policy = opts.policy ?? (await loadPolicy({ cwd: opts.cwd, env: opts.env }).catch(() => undefined));
    appendAudit(record, { env: opts.env, settings: auditSettingsOf(policy, opts.env), stderr: opts.stderr });
  } catch {
    // appendAudit reports its own failures; nothing here may change a decision.
  }
}
