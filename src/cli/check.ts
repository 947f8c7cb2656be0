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
  const scope = inv.kind === "cli" ? await appScope(decision, inv.args, io) : undefined;
  if (values.json)
    io.stdout(JSON.stringify({ ...toJson(decision), ...(scope ? { github_app: scope } : {}) }, null, 2) + "\n");
  else io.stdout(formatDecision(decision) + (scope ? formatScope(scope) : ""));
  return 0;
};

type AppScope = { permissions: Record<string, string>; repositories: string[]; from: string } | { refused: string };

/** github_app: what this command would be minted (repositories: from_command resolved here, no network). */
async function appScope(
  d: Decision,
  args: readonly string[],
  io: Parameters<Command>[1],
): Promise<AppScope | undefined> {
  if (d.action !== "allow" || d.grant?.mode !== "github_app") return undefined;
  const { githubAppScope } = await import("../credentials/github-app-scope.js");
  try {
    const s = githubAppScope(d.grant, args, io.env, io.cwd);
    return { permissions: s.permissions, repositories: s.repositories, from: s.from };
  } catch (e) {
    return { refused: e instanceof Error ? e.message : String(e) };
  }
}

function formatScope(s: AppScope): string {
  if ("refused" in s) return `minted:   nothing: ${s.refused}\n`;
  const perms = Object.entries(s.permissions)
    .map(([k, v]) => `${k}:${v}`)
    .join(",");
  const from =
    s.from === "command" ? "the command's repository" : s.from === "fallback" ? "the rule's fallback" : "the rule";
  return `minted:   permissions ${perms}; repositories ${s.repositories.join(",")} (from ${from})\n`;
}

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
    case "github_app": {
      const perms = Object.entries(g.rule?.permissions ?? g.config.permissions ?? {})
        .map(([k, v]) => `${k}:${v}`)
        .join(",");
      const repos = g.rule?.repositories ?? g.config.repositories;
      const fallback =
        g.rule?.repositories !== undefined ? g.rule.fallback_repositories : g.config.fallback_repositories;
      const r =
        repos === undefined
          ? "none (refused: never the whole installation)"
          : repos === "from_command"
            ? `from_command${fallback ? ` (else ${fallback.join(",")})` : " (else denied)"}`
            : repos.join(",");
      return `GitHub App ${g.config.app_id ?? "?"} installation token minted per command: permissions ${perms || "none (refused)"}; repositories ${r}`;
    }
    case "token_request": {
      const sa = g.rule?.service_account ?? g.config.service_account ?? "none (refused)";
      const exp = g.rule?.expiration_seconds ?? g.config.expiration_seconds ?? 600;
      const aud = g.rule?.audiences ?? g.config.audiences;
      return `Kubernetes token minted per command for service account ${sa}, ${exp} s${aud ? `, audiences ${aud.join(",")}` : ""}`;
    }
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
