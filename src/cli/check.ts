import { parseArgs } from "node:util";
import { ConfigError, DownscopeError, UsageError, errorMessage, formatIssue } from "../errors.js";
import { describeDecision, type Decision } from "../policy/evaluate.js";
import { decideWithPolicy } from "../policy/index.js";
import type { Invocation } from "../policy/invocation.js";
import { basename } from "node:path";
import type { CheckOutput } from "./check-output.js";
import type { Command } from "../io.js";

/** `downscope check [--json] -- gh pr merge 12` */
export const check: Command = async (argv, io) => {
  // --json is known before the arguments are parsed, so that a usage error is JSON too.
  const end = argv.indexOf("--");
  const json = (end === -1 ? argv : argv.slice(0, end)).includes("--json");
  if (!json) {
    const { decision, args } = await decideFor(argv, io);
    const scope = await appScope(decision, args, io);
    io.stdout(formatDecision(decision) + (scope ? formatScope(scope) : ""));
    return 0;
  }
  let decision: Decision;
  let scope: AppScope | undefined;
  try {
    const d = await decideFor(argv, io);
    decision = d.decision;
    scope = await appScope(decision, d.args, io);
  } catch (e) {
    // A consumer must be able to tell "denied" from "crashed": a deny with the error, and a non-zero exit.
    const out = errorJson(e);
    io.stdout(JSON.stringify(out, null, 2) + "\n");
    io.stderr(`downscope: ${out.error!.message}\n`);
    return e instanceof DownscopeError ? e.exitCode : 70;
  }
  io.stdout(JSON.stringify({ ...toJson(decision), ...(scope ? { github_app: scope } : {}) }, null, 2) + "\n");
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

async function decideFor(
  argv: string[],
  io: Parameters<Command>[1],
): Promise<{ decision: Decision; args: readonly string[] }> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: "boolean" }, mcp: { type: "string" }, arguments: { type: "string" } },
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}; usage: downscope check [--json] -- <binary> [args...]`);
  }
  const { values, positionals } = parsed;
  let inv: Invocation;
  if (values.mcp !== undefined) {
    const tool = positionals[0];
    if (!tool) throw new UsageError("usage: downscope check --mcp SERVER TOOL [--arguments JSON]");
    let args: Record<string, unknown> = {};
    if (values.arguments !== undefined) {
      let parsedArgs: unknown;
      try {
        parsedArgs = JSON.parse(values.arguments);
      } catch {
        throw new UsageError("--arguments must be a JSON object");
      }
      if (typeof parsedArgs !== "object" || parsedArgs === null || Array.isArray(parsedArgs))
        throw new UsageError("--arguments must be a JSON object");
      args = parsedArgs as Record<string, unknown>;
    }
    inv = { kind: "mcp", server: values.mcp, tool, arguments: args };
  } else {
    const [bin, ...args] = positionals;
    if (bin === undefined) throw new UsageError("usage: downscope check [--json] -- <binary> [args...]");
    inv = { kind: "cli", binary: basename(bin), args };
  }
  return { decision: await decideWithPolicy(inv, io), args: inv.kind === "cli" ? inv.args : [] };
}

/** The versioned `check --json` output (src/cli/check-output.ts, schema/check-output.schema.json). */
export function toJson(d: Decision): CheckOutput {
  const kind = d.grant?.mode;
  return {
    version: 1,
    action: d.action,
    service: d.service ?? null,
    layer: d.source === "guard" ? "built-in" : (d.rule?.layer ?? null),
    rule: d.rule?.name ?? null,
    pattern: d.pattern ?? null,
    slot: d.grant?.slot ?? null,
    credential: kind !== undefined ? { kind, scope: describeGrant(d) ?? "" } : null,
    reason: d.reason,
    source: d.source,
    file: d.rule?.file ?? null,
    ruleIndex: d.rule?.index ?? null,
    matched: d.matched ?? null,
    notes: d.notes,
    error: null,
  };
}

/** The output for a check that could not decide: a deny carrying the error. */
export function errorJson(e: unknown): CheckOutput {
  const issues =
    e instanceof ConfigError
      ? e.issues.map((i) => ({
          file: i.file || null,
          line: i.line ?? null,
          column: i.line !== undefined ? (i.column ?? 1) : null,
          path: i.path,
          message: i.message,
        }))
      : [];
  const kind = e instanceof ConfigError ? "config" : e instanceof UsageError ? "usage" : "internal";
  const message =
    e instanceof ConfigError
      ? e.issues.map(formatIssue).join("\n")
      : e instanceof DownscopeError
        ? e.message
        : `internal error: ${errorMessage(e)}`;
  const first = issues[0];
  return {
    version: 1,
    action: "deny",
    service: null,
    layer: null,
    rule: null,
    pattern: null,
    slot: null,
    credential: null,
    reason:
      kind === "config"
        ? "the policy could not be loaded, so every service command is denied until it is fixed"
        : kind === "usage"
          ? "the command to check could not be read"
          : "downscope failed while deciding; service commands are denied",
    source: "error",
    file: first?.file ?? null,
    ruleIndex: null,
    matched: null,
    notes: [],
    error: {
      kind,
      message,
      file: first?.file ?? null,
      line: first?.line ?? null,
      column: first?.column ?? null,
      issues,
    },
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
