/**
 * What to do with one `tools/call`, and which tools to hide from `tools/list`
 * (pure: the policy engine decides, this turns the decision into a plan).
 */
import { decide, describeDecision, type Decision, type Policy } from "../policy/index.js";
import type { PathContext } from "../policy/evaluate.js";
import { globMatch } from "../policy/match.js";
import { serviceForServer } from "../policy/policy.js";
import type { Match } from "../policy/schema.js";
import { planForGrant, type InstancePlan } from "./slots.js";

/** The policy as the proxy loaded it at startup: a config error denies every call. */
export type LoadedPolicy = { ok: true; policy: Policy } | { ok: false; error: string };

export type CallPlan =
  | { kind: "forward"; instance: InstancePlan; decision: Decision }
  | { kind: "deny"; text: string; decision?: Decision }
  | { kind: "review"; text: string; decision: Decision };

export function planToolCall(
  loaded: LoadedPolicy,
  server: string,
  tool: string,
  args: Readonly<Record<string, unknown>>,
  pathCtx: PathContext,
): CallPlan {
  if (!loaded.ok) {
    return { kind: "deny", text: `downscope: denied: the policy could not be loaded:\n${loaded.error}` };
  }
  const decision = decide(loaded.policy, { kind: "mcp", server, tool, arguments: args }, pathCtx);
  if (decision.service === undefined) {
    return {
      kind: "deny",
      decision,
      text: `downscope: denied: no service in the policy has \`server: ${server}\`; add one to .claude/downscoping.yaml or the user config (see docs/mcp.md)`,
    };
  }
  switch (decision.action) {
    case "deny":
      return { kind: "deny", decision, text: `downscope: ${describeDecision(decision)}` };
    case "review":
      return { kind: "review", decision, text: `downscope: ${describeDecision(decision)}` };
    case "allow":
      if (!decision.grant) {
        return {
          kind: "deny",
          decision,
          text: `downscope: denied: ${describeDecision(decision)}, but ${decision.notes.join("; ") || "no trusted layer grants a credential"}`,
        };
      }
      try {
        return { kind: "forward", decision, instance: planForGrant(decision.grant, args) };
      } catch (e) {
        return { kind: "deny", decision, text: `downscope: denied: ${e instanceof Error ? e.message : String(e)}` };
      }
  }
}

/** Whether any layer that configures the server asks to hide denied tools (a restriction: any layer may). */
export function hidesDeniedTools(loaded: LoadedPolicy, server: string): boolean {
  if (!loaded.ok) return false;
  return loaded.policy.layers.some((l) => serviceForServer(l.config, server)?.[1].hide_denied_tools === true);
}

function dependsOnArguments(m: Match): boolean {
  return m.arguments !== undefined || m.allowed_paths !== undefined || m.denied_paths !== undefined;
}

/**
 * Is this tool denied whatever its arguments? Decided with empty arguments;
 * the deny counts only if, in the layer that denies, no earlier allow or
 * review rule that could catch this tool depends on arguments or paths (such
 * a rule might match real arguments first and let the call through).
 */
export function alwaysDenied(policy: Policy, server: string, tool: string, pathCtx: PathContext): boolean {
  const d = decide(policy, { kind: "mcp", server, tool, arguments: {} }, pathCtx);
  if (d.action !== "deny" || d.service === undefined || d.source === "guard") return false;
  const layer = policy.layers.find((l) => l.name === d.rule?.layer && l.file === d.rule.file);
  const svc = layer && serviceForServer(layer.config, server)?.[1];
  if (!svc || !d.rule) return false;
  const upTo = d.rule.index === -1 ? svc.rules.length : d.rule.index;
  const deciding = d.rule.index === -1 ? undefined : svc.rules[d.rule.index];
  if (deciding && dependsOnArguments(deciding.match)) return false;
  // Earlier rules that depend on arguments could match first; only a non-deny one could let the call through.
  return svc.rules
    .slice(0, upTo)
    .filter((r) => r.action !== "deny")
    .every(
      (r) =>
        !dependsOnArguments(r.match) || (r.match.tools !== undefined && !r.match.tools.some((t) => globMatch(t, tool))),
    );
}
