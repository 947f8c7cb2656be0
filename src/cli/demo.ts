import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { decide, type Decision } from "../policy/evaluate.js";
import { readConfigText } from "../policy/load.js";
import { splitExample } from "../policy/lint.js";
import { parseConfig } from "../policy/parse.js";
import type { Policy } from "../policy/policy.js";
import { packageRoot } from "../package-root.js";
import type { Command } from "../io.js";

/** What an agent might run in a day: reads, permitted writes, destructive ones. */
export const DEMO_COMMANDS: readonly string[] = [
  "gh pr list --limit 5",
  "gh issue view 42",
  "gh repo view octo/app --json name",
  "gh api repos/octo/app/pulls",
  "gh pr create --fill",
  "gh issue comment 42 --body 'on it'",
  "gh pr merge 12 --squash",
  "gh release create v1.2.0",
  "gh workflow run deploy.yml",
  "gh repo delete octo/app --yes",
  "gh api -X DELETE repos/octo/app",
  "gh auth token",
];

/** The minted-token decision shown after the table (policies/developer-github-app.yaml). */
export const DEMO_MINTED_COMMAND = "gh pr create -R octo/app --fill";

function starter(name: string): Policy {
  const file = join(packageRoot(), "policies", name);
  const parsed = parseConfig(readConfigText(file), file);
  if (!parsed.ok) throw new ConfigError(parsed.issues);
  return { layers: [{ name: "project", file, trusted: true, config: parsed.config, sha256: "" }], warnings: [] };
}

/** `downscope demo`: decisions of the bundled developer policy, no credentials needed. */
export const demo: Command = async (_argv, io) => {
  const policy = starter("developer.yaml");

  const rows = DEMO_COMMANDS.map((cmd) => {
    const [binary = "", ...args] = splitExample(cmd);
    return { cmd, d: decide(policy, { kind: "cli", binary, args }) };
  });
  io.stdout(`downscope demo: the starter policy policies/developer.yaml deciding what an agent might run\n\n`);
  const table = [
    ["COMMAND", "DECISION", "RULE", "CREDENTIAL"],
    ...rows.map(({ cmd, d }) => [cmd, label(d), ruleName(d), d.grant?.slot ?? "-"]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) io.stdout(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ") + "\n");

  const allowed = rows.filter((r) => r.d.action === "allow");
  const bySlot = new Map<string, number>();
  for (const r of allowed) bySlot.set(r.d.grant?.slot ?? "none", (bySlot.get(r.d.grant?.slot ?? "none") ?? 0) + 1);
  const slots = [...bySlot].map(([s, n]) => `${n} ${s}`).join(", ");
  const count = (a: string) => rows.filter((r) => r.d.action === a).length;
  io.stdout(
    `\n${rows.length} commands: ${allowed.length} allowed (${slots}), ${count("review")} sent to review, ${count("deny")} denied\n`,
  );
  io.stdout(await mintedDecision(io.cwd, io.env));
  io.stdout(`Try your own: downscope check -- gh pr merge 12   (after downscope init)\n`);
  return 0;
};

/**
 * One decision of the GitHub App variant: what would be minted for the command
 * (permissions, repositories). Decided and scoped locally; nothing is minted.
 */
async function mintedDecision(cwd: string, env: Parameters<Command>[1]["env"]): Promise<string> {
  const policy = starter("developer-github-app.yaml");
  const [binary = "", ...args] = splitExample(DEMO_MINTED_COMMAND);
  const d = decide(policy, { kind: "cli", binary, args });
  let minted = "nothing";
  if (d.action === "allow" && d.grant) {
    const { githubAppScope } = await import("../credentials/github-app-scope.js");
    const s = githubAppScope(d.grant, args, env, cwd);
    const perms = Object.entries(s.permissions)
      .map(([k, v]) => `${k}:${v}`)
      .join(",");
    minted = `a one-hour GitHub App token with ${perms} for ${s.repositories.join(",")} only`;
  }
  return (
    `\nWith credentials minted per command (policies/developer-github-app.yaml):\n` +
    `  ${DEMO_MINTED_COMMAND}  ${label(d)}  ${ruleName(d)}\n` +
    `  would mint ${minted}\n\n`
  );
}

function label(d: Decision): string {
  return d.action === "review" ? "review" : d.action;
}

function ruleName(d: Decision): string {
  if (!d.rule) return "-";
  if (d.source === "guard") return `built-in: ${d.rule.name}`;
  if (d.source === "default") return "(default)";
  return d.rule.name;
}
