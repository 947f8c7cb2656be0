/**
 * The decision (pure). Per layer, rules are evaluated top to bottom and the
 * first match wins; then the layers are combined so that privileges can only
 * go down:
 *   1. a deny from any layer (trusted or not) wins, most general layer first;
 *   2. then the built-in guards (credential-printing subcommands, credential
 *      and endpoint flags) deny, unless the matching allow rule of a trusted
 *      layer sets `override_guards: true`;
 *   3. then a review from any layer;
 *   4. otherwise allow, with the credential of the most specific TRUSTED layer
 *      (its matching rule, or its defaults). An untrusted project file cannot
 *      grant anything; if no trusted layer configures the service, the allow
 *      carries no grant and the wrapper refuses to run it.
 * See docs/config.md, "Layers".
 */
import { valueFlagsFor } from "./cli-knowledge.js";
import { GUARDS } from "./guards.js";
import type { Invocation } from "./invocation.js";
import { cliMatchers, matches, type MatchContext } from "./match.js";
import { serviceForBinary, serviceForServer, type Layer, type LayerName, type Policy } from "./policy.js";
import type { Action, Match, Mode, Rule, Service } from "./schema.js";

export interface RuleRef {
  layer: LayerName;
  file: string;
  /** Index in the service's rules list; -1 for a default, a guard has none. */
  index: number;
  name: string;
}

/** What an allow hands out: read by the credential providers. */
export interface Grant {
  service: string;
  mode: Mode;
  /** The trusted layer whose config supplies the credential. */
  layer: LayerName;
  file: string;
  config: Service;
  /** The allow rule that matched, when one did (per-rule slot, policy, boundary, scopes). */
  rule?: Rule;
  /** token_slot: the slot name (rule's slot, else the service's default_slot). */
  slot?: string;
}

export interface Decision {
  /** The service that covers the invocation; undefined when none does. */
  service: string | undefined;
  action: Action;
  /** rule: a policy rule; default: no rule matched; guard: built-in; none: not a service. */
  source: "rule" | "default" | "guard" | "none";
  rule?: RuleRef;
  /** What in the rule hit, e.g. `command [pr merge]`. */
  matched?: string;
  /**
   * The deciding rule's pattern: its `command` path (`pr merge`), else its
   * `args_pattern` regex source, else its flags or tools; undefined for a
   * default or when the rule has none.
   */
  pattern?: string;
  reason: string;
  /** Present only for allow decisions that can be given a credential. */
  grant?: Grant;
  /** Remarks worth showing: untrusted layers, missing grants. */
  notes: string[];
}

interface LayerResult {
  layer: Layer;
  name: string;
  service: Service;
  action: Action;
  rule?: Rule;
  index: number;
  matched?: string;
}

export type PathContext = Omit<MatchContext, "valueFlags">;

const DEFAULT_CONTEXT: PathContext = { cwd: "/", home: "/", realpath: (p) => p };

export function decide(policy: Policy, inv: Invocation, pathCtx: PathContext = DEFAULT_CONTEXT): Decision {
  const found: { layer: Layer; name: string; service: Service }[] = [];
  for (const layer of policy.layers) {
    const hit =
      inv.kind === "cli" ? serviceForBinary(layer.config, inv.binary) : serviceForServer(layer.config, inv.server);
    if (hit) found.push({ layer, name: hit[0], service: hit[1] });
  }
  if (found.length === 0) {
    return { service: undefined, action: "allow", source: "none", reason: "no service covers this command", notes: [] };
  }
  const serviceName = found[found.length - 1]!.name;
  const binary = inv.kind === "cli" ? inv.binary : "";
  const extraFlags = found.filter((f) => f.layer.trusted).flatMap((f) => f.service.value_flags ?? []);
  const ctx: MatchContext = { ...pathCtx, valueFlags: valueFlagsFor(binary, extraFlags) };
  const notes = found
    .filter((f) => !f.layer.trusted)
    .map(
      (f) =>
        `${f.layer.name} config ${f.layer.file} is not trusted (${f.layer.untrustedReason ?? "not trusted"}): its rules can only restrict. Only the user can let it grant credentials, by reviewing it and running \`downscope trust\` in their own terminal: ask them; do not run it yourself`,
    );

  const results: LayerResult[] = found.map((f) => evaluateLayer(f.layer, f.name, f.service, inv, ctx));
  const ref = (r: LayerResult): RuleRef => ({
    layer: r.layer.name,
    file: r.layer.file,
    index: r.rule ? r.index : -1,
    name: r.rule ? r.rule.name : `default_action of ${r.name}`,
  });
  const base = { service: serviceName, notes };

  const deny = results.find((r) => r.action === "deny");
  if (deny) {
    return {
      ...base,
      action: "deny",
      source: deny.rule ? "rule" : "default",
      rule: ref(deny),
      matched: deny.matched,
      ...patternOf(deny.rule?.match),
      reason:
        deny.rule?.reason ?? (deny.rule ? "not permitted for AI use" : "no rule allows this and the default is deny"),
    };
  }

  // A guard yields only to a trusted allow rule that says so: a broad rule
  // like `command: ["*", "get-*"]` must not re-open `aws sts get-session-token`.
  const guardOverride = results.some(
    (r) => r.rule?.override_guards === true && r.action === "allow" && r.layer.trusted,
  );
  if (inv.kind === "cli" && !guardOverride) {
    const guards = GUARDS[binary] ?? [];
    const compiledGuards = cliMatchers(guards);
    for (let i = 0; i < guards.length; i++) {
      const g = guards[i]!;
      const m = compiledGuards[i]!(inv.args, ctx);
      if (m !== undefined) {
        return {
          ...base,
          action: "deny",
          source: "guard",
          rule: { layer: "managed", file: "(built-in)", index: -1, name: g.name },
          matched: m,
          ...patternOf(g.match),
          reason: `${g.reason}; a trusted policy may re-allow it with an allow rule that sets override_guards: true`,
        };
      }
    }
  }

  const review = results.find((r) => r.action === "review");
  if (review) {
    return {
      ...base,
      action: "review",
      source: review.rule ? "rule" : "default",
      rule: ref(review),
      matched: review.matched,
      ...patternOf(review.rule?.match),
      reason: review.rule?.reason ?? "a human must approve this command",
    };
  }

  const trusted = results.filter((r) => r.layer.trusted);
  const granting = [...trusted].reverse().find((r) => r.rule) ?? trusted[trusted.length - 1];
  const decider = granting ?? results[results.length - 1]!;
  const decision: Decision = {
    ...base,
    action: "allow",
    source: decider.rule ? "rule" : "default",
    rule: ref(decider),
    matched: decider.matched,
    ...patternOf(decider.rule?.match),
    reason: decider.rule?.reason ?? (decider.rule ? "allowed by rule" : "no rule matched; default allow"),
  };
  if (granting) {
    const mode = granting.service.downscope_mode;
    decision.grant = {
      service: granting.name,
      mode,
      layer: granting.layer.name,
      file: granting.layer.file,
      config: granting.service,
      ...(granting.rule ? { rule: granting.rule } : {}),
      ...(mode === "token_slot" ? { slot: granting.rule?.slot ?? granting.service.default_slot } : {}),
    };
  } else {
    notes.push(`no trusted layer configures a credential for ${serviceName}; it cannot run until one does`);
  }
  return decision;
}

function patternOf(m: Match | undefined): { pattern?: string } {
  if (m === undefined) return {};
  const p = m.command?.join(" ") ?? m.args_pattern ?? m.flags?.join(" ") ?? m.tools?.join(" ") ?? undefined;
  return p === undefined ? {} : { pattern: p };
}

function evaluateLayer(layer: Layer, name: string, service: Service, inv: Invocation, ctx: MatchContext): LayerResult {
  if (inv.kind === "cli") {
    const compiled = cliMatchers(service.rules);
    for (let i = 0; i < compiled.length; i++) {
      const m = compiled[i]!(inv.args, ctx);
      if (m !== undefined) {
        const rule = service.rules[i]!;
        return { layer, name, service, action: rule.action, rule, index: i, matched: m };
      }
    }
    return { layer, name, service, action: service.default_action, index: -1 };
  }
  for (let i = 0; i < service.rules.length; i++) {
    const rule = service.rules[i]!;
    const m = matches(rule.match, rule.action, inv, ctx);
    if (m !== undefined) return { layer, name, service, action: rule.action, rule, index: i, matched: m };
  }
  return { layer, name, service, action: service.default_action, index: -1 };
}

/** One line describing a decision, as block messages and `check` print it. */
export function describeDecision(d: Decision): string {
  if (d.service === undefined) return "not a configured service";
  const where = d.rule
    ? `rule "${d.rule.name}" (${d.service}, ${d.rule.layer === "managed" && d.source === "guard" ? "built-in guard" : `${d.rule.layer} config`})`
    : d.service;
  const verb = d.action === "deny" ? "denied by" : d.action === "review" ? "review required by" : "allowed by";
  return `${verb} ${where}: ${d.reason}`;
}
