/**
 * What downscope would do with a shell command or an MCP tool call, as one
 * outcome (pure): every service invocation in the command is decided and the
 * most restrictive decision wins (deny > review > ask > allow), the way the
 * hook combines them. Used by `downscope test` and the attack pack.
 */
import { decide, type Decision, type PathContext } from "../policy/evaluate.js";
import { settingsOf, type Policy } from "../policy/policy.js";
import { analyzeCommand } from "./command-invocations.js";

export type OutcomeAction = "allow" | "deny" | "review" | "ask";

export interface Outcome {
  action: OutcomeAction;
  /** False when no configured service is involved (the command runs as usual). */
  covered: boolean;
  service?: string;
  /** The deciding rule's name; `default_action of <svc>`, a guard's name, or undefined. */
  rule?: string;
  source?: Decision["source"];
  slot?: string;
  reason: string;
}

const RANK: Record<OutcomeAction, number> = { allow: 0, ask: 1, review: 2, deny: 3 };

function fromDecision(d: Decision): Outcome {
  return {
    action: d.action,
    covered: d.service !== undefined,
    service: d.service,
    rule: d.rule?.name,
    source: d.source,
    slot: d.grant?.slot,
    reason: d.reason,
  };
}

export function decideCommand(policy: Policy, command: string, ctx?: PathContext): Outcome {
  const analysis = analyzeCommand(command);
  if (analysis.invalid !== undefined)
    return { action: "deny", covered: true, reason: `cannot parse the command (${analysis.invalid})` };
  const outcomes = analysis.invocations.map((inv, i) => {
    const o = fromDecision(decide(policy, inv, ctx));
    // As in the hook: a review that cannot carry an approval is a deny.
    const why = analysis.unapprovable[i];
    return o.action === "review" && why !== undefined
      ? { ...o, action: "deny" as const, reason: `${o.reason}, but ${why}` }
      : o;
  });
  const covered = outcomes.filter((o) => o.covered);
  let worst: Outcome | undefined;
  for (const o of covered) if (worst === undefined || RANK[o.action] > RANK[worst.action]) worst = o;
  if (analysis.unresolved !== undefined && (worst === undefined || RANK[worst.action] < RANK.ask)) {
    const action = settingsOf(policy).unresolved;
    return { action, covered: true, reason: `cannot be resolved statically: ${analysis.unresolved}` };
  }
  return worst ?? { action: "allow", covered: false, reason: "no configured service in this command" };
}

export function decideTool(
  policy: Policy,
  server: string,
  tool: string,
  args: Readonly<Record<string, unknown>>,
  ctx?: PathContext,
): Outcome {
  return fromDecision(decide(policy, { kind: "mcp", server, tool, arguments: args }, ctx));
}

/** The same layers, all trusted: tests check what a policy decides once it is trusted. */
export function asTrusted(policy: Policy): Policy {
  return { ...policy, layers: policy.layers.map((l) => ({ ...l, trusted: true })) };
}
