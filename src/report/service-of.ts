/**
 * The service a hook record is about: its Bash command analysed as the hook
 * analyses it, each call decided under the policy; the first covered one
 * names it (`gh` for `cd app && gh pr merge 12`).
 */
import { analyzeCommand } from "../attacks/command-invocations.js";
import type { AuditEntry } from "../audit/record.js";
import { decide } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";

export function hookServiceOf(policy: Policy | undefined): (e: AuditEntry) => string | undefined {
  if (policy === undefined) return () => undefined;
  return (e) => {
    if (e.event !== "hook" || e.argv?.length !== 1) return undefined;
    const a = analyzeCommand(e.argv[0]!);
    for (const inv of a.invocations) {
      const s = decide(policy, inv).service;
      if (s !== undefined) return s;
    }
    return undefined;
  };
}
