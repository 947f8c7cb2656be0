/**
 * `downscope test [--file F] [--policy P] [--attacks] [--json]`
 *
 * Runs the `tests:` cases of the policy (every present layer, or the one file
 * named by --policy), or those of a separate file (--file), and with
 * --attacks the built-in attack pack. Cases are decided as if every layer
 * were trusted: a test checks what the policy decides, trust is a property of
 * this machine. Exit 1 on any miss or any attack that got through.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { runAttacks, type AttackReport } from "../attacks/run-attacks.js";
import { runTestCase, type CaseResult } from "../attacks/run-tests.js";
import { asTrusted } from "../attacks/outcome.js";
import { pathContext } from "../policy/index.js";
import { loadPolicy, readConfigText } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import type { Policy } from "../policy/policy.js";
import type { Config } from "../policy/schema.js";
import type { Command } from "../io.js";

function readConfig(file: string): Config {
  const parsed = parseConfig(readConfigText(file), file);
  if (!parsed.ok) throw new ConfigError(parsed.issues);
  return parsed.config;
}

/** A single policy file as the only layer. */
export function policyFromFile(file: string): Policy {
  return { layers: [{ name: "project", file, trusted: true, config: readConfig(file), sha256: "" }], warnings: [] };
}

export const test: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        file: { type: "string" },
        policy: { type: "string" },
        attacks: { type: "boolean" },
        json: { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: downscope test [--file F] [--policy P] [--attacks] [--json]`);
  }
  const loaded =
    values.policy !== undefined
      ? policyFromFile(resolve(io.cwd, values.policy))
      : await loadPolicy({ cwd: io.cwd, env: io.env });
  if (loaded.layers.length === 0)
    throw new UsageError(
      "no policy found (.claude/downscoping.yaml upward from here, user or managed); run `downscope init`",
    );
  for (const l of loaded.layers)
    if (!l.trusted)
      io.stderr(
        `note: ${l.file} is not trusted here; its tests are run as if it were (${l.untrustedReason ?? "untrusted"})\n`,
      );
  const policy = asTrusted(loaded);
  const ctx = pathContext(io.cwd, io.env);

  if (values.attacks) {
    const report = runAttacks(policy, ctx);
    if (values.json) io.stdout(JSON.stringify(report, null, 2) + "\n");
    else io.stdout(formatAttacks(report));
    return report.results.every((r) => r.blocked) && report.results.length > 0 ? 0 : 1;
  }

  const sources: { file: string; config: Config }[] =
    values.file !== undefined
      ? [{ file: resolve(io.cwd, values.file), config: readConfig(resolve(io.cwd, values.file)) }]
      : loaded.layers.map((l) => ({ file: l.file, config: l.config }));
  const results: CaseResult[] = sources.flatMap((s) =>
    (s.config.tests ?? []).map((t) => runTestCase(policy, t, s.file, ctx)),
  );
  if (results.length === 0) {
    io.stderr(
      `downscope test: no test cases found in ${sources.map((s) => s.file).join(", ")}; add a \`tests:\` list (see docs/policies.md)\n`,
    );
    return 1;
  }
  if (values.json) io.stdout(JSON.stringify(results, null, 2) + "\n");
  else io.stdout(formatCases(results));
  return results.every((r) => r.ok) ? 0 : 1;
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

export function formatCases(results: CaseResult[]): string {
  const rows = [
    ["RESULT", "CASE", "EXPECT", "GOT", "RULE"],
    ...results.map((r) => [
      r.ok ? "pass" : "FAIL",
      r.label,
      r.case.expect + (r.case.slot ? ` (${r.case.slot})` : ""),
      r.got.action + (r.got.slot ? ` (${r.got.slot})` : ""),
      (r.got.rule ?? "-") + (r.miss ? `  <- ${r.miss}` : ""),
    ]),
  ];
  const failed = results.filter((r) => !r.ok).length;
  return (
    table(rows) + `\n${results.length - failed}/${results.length} tests passed${failed ? `; ${failed} failed` : ""}\n`
  );
}

export function formatAttacks(report: AttackReport): string {
  const { results, notCovered } = report;
  const leaks = results.filter((r) => !r.blocked);
  const attacks = new Set(results.map((r) => `${r.target}\0${r.what}`)).size;
  let out = `attack pack: ${results.length - leaks.length}/${results.length} blocked (${attacks} attacks in their spellings)\n`;
  if (leaks.length > 0) {
    // One row per attack: which spellings got through and what was decided for the first of them.
    const byAttack = new Map<string, typeof leaks>();
    for (const r of leaks)
      byAttack.set(`${r.target}\0${r.what}`, [...(byAttack.get(`${r.target}\0${r.what}`) ?? []), r]);
    const total = (t: string, w: string) => results.filter((r) => r.target === t && r.what === w).length;
    out += `\ngot through (${leaks.length} of ${results.length}, ${byAttack.size} attacks):\n`;
    out += table([
      ["TARGET", "ATTACK", "SPELLINGS", "DECISION", "EXAMPLE"],
      ...[...byAttack.values()].map((rs) => {
        const r = rs[0]!;
        const hows = [...new Set(rs.map((x) => x.how))];
        return [
          r.target,
          r.what,
          `${rs.length}/${total(r.target, r.what)}${rs.length === total(r.target, r.what) ? " (all)" : `: ${hows.join(", ")}`}`,
          `${r.outcome.action}${r.outcome.rule ? ` (${r.outcome.rule})` : ""}`,
          r.tried,
        ];
      }),
    ]);
  }
  if (notCovered.length > 0) {
    out += `\nnot covered (your policy does not configure these, so downscope does not see them): ${notCovered
      .map((n) => `${n.target} (${n.attacks} attack${n.attacks === 1 ? "" : "s"})`)
      .join(", ")}\n`;
  }
  if (results.length === 0) out += "\nno attack applies: configure at least one service\n";
  return out;
}
