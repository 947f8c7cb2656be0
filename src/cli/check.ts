import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { describeDecision, type Decision } from "../policy/evaluate.js";
import { decideWithPolicy } from "../policy/index.js";
import type { Invocation } from "../policy/invocation.js";
import { basename } from "node:path";
import type { Command } from "./io.js";

/** `downscope check [--json] -- gh pr merge 12` */
export const check: Command = async (argv, io) => {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: "boolean" }, mcp: { type: "string" }, arguments: { type: "string" } },
    allowPositionals: true,
  });
  let inv: Invocation;
  if (values.mcp !== undefined) {
    const tool = positionals[0];
    if (!tool) throw new UsageError("usage: downscope check --mcp SERVER TOOL [--arguments JSON]");
    let args: Record<string, unknown> = {};
    if (values.arguments !== undefined) {
      try {
        args = JSON.parse(values.arguments) as Record<string, unknown>;
      } catch {
        throw new UsageError("--arguments must be a JSON object");
      }
    }
    inv = { kind: "mcp", server: values.mcp, tool, arguments: args };
  } else {
    const [bin, ...args] = positionals;
    if (bin === undefined) throw new UsageError("usage: downscope check [--json] -- <binary> [args...]");
    inv = { kind: "cli", binary: basename(bin), args };
  }
  const decision = await decideWithPolicy(inv, io);
  if (values.json) io.stdout(JSON.stringify(toJson(decision), null, 2) + "\n");
  else io.stdout(formatDecision(decision));
  return 0;
};

export function toJson(d: Decision) {
  return {
    service: d.service ?? null,
    action: d.action,
    source: d.source,
    layer: d.rule?.layer ?? null,
    file: d.rule?.file ?? null,
    rule: d.rule?.name ?? null,
    ruleIndex: d.rule?.index ?? null,
    matched: d.matched ?? null,
    reason: d.reason,
    credential: d.grant ? describeGrant(d) : null,
    notes: d.notes,
  };
}

export function describeGrant(d: Decision): string | null {
  const g = d.grant;
  if (!g) return null;
  switch (g.mode) {
    case "token_slot": {
      const slot = g.slot !== undefined ? g.config.token_slots?.[g.slot] : undefined;
      if (!slot || g.slot === undefined) return "no slot (no default_slot configured)";
      const src =
        slot.env_var !== undefined
          ? `$${slot.env_var}`
          : slot.file !== undefined
            ? `file ${slot.file}`
            : `command ${slot.command?.[0] ?? ""}`;
      return `slot ${g.slot} (${src})`;
    }
    case "sts_policy":
      return `AWS session policy${g.rule?.policy || g.rule?.policy_file ? ` of rule "${g.rule.name}"` : " of the service"}`;
    case "credential_access_boundary":
      return `GCP access boundary${g.rule?.access_boundary ? ` of rule "${g.rule.name}"` : " of the service"}`;
    case "oauth_scope":
      return `GCP scopes ${(g.rule?.scopes ?? g.config.scopes ?? []).join(" ")}`;
    case "none":
      return "none (ambient credential is not used)";
  }
}

export function formatDecision(d: Decision): string {
  const lines = [`decision: ${d.action}`];
  if (d.service === undefined) {
    lines.push("service:  none (downscope does not cover this command; it runs as usual)");
  } else {
    lines.push(`service:  ${d.service}`);
    if (d.rule) {
      lines.push(`layer:    ${d.source === "guard" ? "built-in guard" : `${d.rule.layer} (${d.rule.file})`}`);
      lines.push(`rule:     ${d.rule.index >= 0 ? `#${d.rule.index + 1} ` : ""}${JSON.stringify(d.rule.name)}`);
    }
    if (d.matched) lines.push(`matched:  ${d.matched}`);
    lines.push(`reason:   ${d.reason}`);
    if (d.action === "allow")
      lines.push(`credential: ${describeGrant(d) ?? "none: no trusted layer grants one, so the wrapper will refuse"}`);
  }
  for (const n of d.notes) lines.push(`note:     ${n}`);
  lines.push(`summary:  ${describeDecision(d)}`);
  return lines.join("\n") + "\n";
}
