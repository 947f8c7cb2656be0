/**
 * `downscope report [--since 7d] [--html FILE]`: what each call returned,
 * next to the decision that allowed it (src/report/results.ts), as text on
 * stdout; with --html, the whole audit trail as one self-contained HTML page
 * (src/report/html.ts), with that section and the `suggest` diff. Written
 * only where `--out` of suggest may write (src/out-path.ts).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { readAuditKey } from "../audit/log.js";
import { auditSettingsOf } from "../audit/settings.js";
import { readVerifiedEntries } from "../audit/verify.js";
import { ConfigError, DownscopeError, UsageError } from "../errors.js";
import { writeOutputFile } from "../out-path.js";
import { packageRoot } from "../package-root.js";
import { loadPolicy } from "../policy/load.js";
import type { Policy } from "../policy/policy.js";
import { renderReport, type ReportInput } from "../report/html.js";
import { hookServiceOf } from "../report/service-of.js";
import { summarize } from "../report/summary.js";
import { formatResults, resultRows } from "../report/results.js";
import { parseDuration } from "./audit.js";
import type { Command } from "../io.js";

const USAGE = "usage: downscope report [--since 7d] [--html FILE]";

export const report: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { since: { type: "string" }, html: { type: "string" } },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const since = values.since !== undefined ? Date.now() - parseDuration(values.since) : undefined;
  if (!values.html) {
    // Text: what each call returned (only the verified records are read).
    const policy = await loadPolicy({ cwd: io.cwd, env: io.env }).catch(() => undefined);
    const { entries, problem } = readVerifiedEntries(auditSettingsOf(policy, io.env), readAuditKey(io.env));
    const recent = since === undefined ? entries : entries.filter((e) => Date.parse(e.time) >= since);
    if (problem) io.stderr(`downscope report: ${problem}\n`);
    io.stdout(formatResults(resultRows(recent)));
    return 0;
  }
  let policy: Policy | undefined;
  let policyProblem: string | undefined;
  try {
    policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    policyProblem = `the policy cannot be loaded, so there is no suggestion: ${e.message}`;
  }
  const settings = auditSettingsOf(policy, io.env);
  const { entries, problem } = readVerifiedEntries(settings, readAuditKey(io.env));
  const recent = since === undefined ? entries : entries.filter((e) => Date.parse(e.time) >= since);
  let suggestion: ReportInput["suggestion"] = { unavailable: policyProblem ?? "" };
  if (policy !== undefined) {
    try {
      const { computeSuggestion } = await import("./suggest.js");
      const r = await computeSuggestion(io, { since: values.since });
      suggestion = { diff: r.diff, text: r.text };
    } catch (e) {
      if (!(e instanceof DownscopeError)) throw e;
      suggestion = { unavailable: `no suggestion: ${e.message}` };
    }
  }
  let scan: ReportInput["scan"];
  try {
    const { scanHere } = await import("./scan.js");
    const { displayPath } = await import("../protection/protected-paths.js");
    scan = { result: scanHere(io), show: (p) => displayPath(p, io.env) };
  } catch (e) {
    scan = { unavailable: `the MCP configs could not be scanned: ${e instanceof Error ? e.message : String(e)}` };
  }
  const html = renderReport({
    summary: summarize(recent, hookServiceOf(policy)),
    results: resultRows(recent),
    generated: new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC",
    period: values.since ? `the last ${values.since}` : "the whole audit trail",
    problem,
    suggestion,
    scan,
  });
  const written = writeOutputFile(resolve(io.cwd, values.html), html, io.env, packageRoot());
  io.stderr(`downscope report: wrote ${written} (${recent.length} records)\n`);
  return 0;
};
