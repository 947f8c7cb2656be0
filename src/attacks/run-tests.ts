/**
 * `tests:` cases against a policy (pure): each case names a command (or an
 * MCP tool call) and the expected outcome, optionally the slot and rule.
 */
import type { PathContext } from "../policy/evaluate.js";
import type { Policy } from "../policy/policy.js";
import type { TestCase } from "../policy/schema.js";
import { decideCommand, decideTool, type Outcome } from "./outcome.js";

export interface CaseResult {
  case: TestCase;
  /** Where the case was written (file). */
  file: string;
  label: string;
  got: Outcome;
  ok: boolean;
  /** What differed, when not ok. */
  miss?: string;
}

export function runTestCase(policy: Policy, t: TestCase, file: string, ctx?: PathContext): CaseResult {
  const label = t.command ?? `${t.server ?? "?"}/${t.tool ?? "?"} ${JSON.stringify(t.arguments ?? {})}`;
  const got =
    t.command !== undefined
      ? decideCommand(policy, t.command, ctx)
      : t.server === undefined
        ? ({ action: "deny", covered: false, reason: "an MCP case needs `server`" } as Outcome)
        : decideTool(policy, t.server, t.tool ?? "", t.arguments ?? {}, ctx);
  const misses: string[] = [];
  if (t.command === undefined && t.server === undefined) misses.push("an MCP case needs `server`");
  if (got.action !== t.expect) misses.push(`expected ${t.expect}, got ${got.action}`);
  if (t.slot !== undefined && got.slot !== t.slot) misses.push(`expected slot ${t.slot}, got ${got.slot ?? "none"}`);
  if (t.rule !== undefined && got.rule !== t.rule)
    misses.push(`expected rule "${t.rule}", got "${got.rule ?? "none"}"`);
  return misses.length
    ? { case: t, file, label, got, ok: false, miss: misses.join("; ") }
    : { case: t, file, label, got, ok: true };
}
