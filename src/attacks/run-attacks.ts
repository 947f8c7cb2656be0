/**
 * Run the attack pack against a policy (pure). Attacks on a service the
 * policy does not configure are reported as not covered rather than blocked:
 * downscope does not see those commands at all.
 */
import type { PathContext } from "../policy/evaluate.js";
import { serviceForBinary, type Policy } from "../policy/policy.js";
import { decideCommand, decideTool, type Outcome } from "./outcome.js";
import { CLI_ATTACKS, MCP_ATTACKS, MCP_KINDS, spellings, type CliAttack, type McpAttack } from "./pack.js";

export interface AttackResult {
  /** gh, aws, …, or `mcp:<server>`. */
  target: string;
  what: string;
  how: string;
  /** The command or tool call tried. */
  tried: string;
  outcome: Outcome;
  blocked: boolean;
}

export interface AttackReport {
  results: AttackResult[];
  /** Targets the policy does not configure, with how many attacks were skipped. */
  notCovered: { target: string; attacks: number }[];
}

const isBlocked = (o: Outcome) => o.action === "deny" || o.action === "review";

export function runAttacks(
  policy: Policy,
  ctx?: PathContext,
  pack: { cli: readonly CliAttack[]; mcp: readonly McpAttack[] } = { cli: CLI_ATTACKS, mcp: MCP_ATTACKS },
): AttackReport {
  const results: AttackResult[] = [];
  const skipped = new Map<string, number>();
  const skip = (t: string) => skipped.set(t, (skipped.get(t) ?? 0) + 1);

  for (const a of pack.cli) {
    if (!policy.layers.some((l) => serviceForBinary(l.config, a.service))) {
      skip(a.service);
      continue;
    }
    for (const s of spellings(a)) {
      const outcome = decideCommand(policy, s.command, ctx);
      results.push({
        target: a.service,
        what: a.what,
        how: s.how,
        tried: s.command,
        outcome,
        blocked: isBlocked(outcome),
      });
    }
  }

  const servers = new Set<string>();
  for (const l of policy.layers)
    for (const svc of Object.values(l.config.services)) if (svc.server !== undefined) servers.add(svc.server);
  for (const a of pack.mcp) {
    const targets = [...servers].filter((s) => MCP_KINDS[a.kind].test(s));
    if (targets.length === 0) {
      skip(`mcp ${a.kind}`);
      continue;
    }
    for (const server of targets)
      for (const c of a.calls) {
        const outcome = decideTool(policy, server, c.tool, c.arguments, ctx);
        results.push({
          target: `mcp:${server}`,
          what: a.what,
          how: "tool call",
          tried: `${server}/${c.tool} ${JSON.stringify(c.arguments)}`,
          outcome,
          blocked: isBlocked(outcome),
        });
      }
  }
  return { results, notCovered: [...skipped].map(([target, attacks]) => ({ target, attacks })) };
}
