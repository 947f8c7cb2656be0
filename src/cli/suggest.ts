/**
 * `downscope suggest [--since 7d] [--service NAME] [--out FILE] [--diff]`:
 * a proposed policy from the audit trail (src/suggest/). It prints the YAML
 * (or, with --diff, how it differs from the current policy); only `--out`
 * writes a file, and never into downscope's own directories or an agent's
 * settings (src/out-path.ts). The suggestion is checked before it is shown:
 * it must parse, lint without errors and pass its own `tests:`.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { runTestCase } from "../attacks/run-tests.js";
import { readAuditKey } from "../audit/log.js";
import { auditSettingsOf } from "../audit/settings.js";
import { readVerifiedEntries } from "../audit/verify.js";
import { resolveSessionPolicy } from "../credentials/aws-policy.js";
import { ConfigError, UsageError } from "../errors.js";
import { writeOutputFile } from "../out-path.js";
import { packageRoot } from "../package-root.js";
import { lintConfig } from "../policy/lint.js";
import { loadPolicy } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import type { Policy } from "../policy/policy.js";
import type { IamPolicy } from "../policy/schema.js";
import { awsActionResolver } from "../suggest/aws-actions.js";
import { diffSuggestion, formatDiff, type SuggestDiff } from "../suggest/diff.js";
import { renderSuggestion } from "../suggest/render.js";
import { buildSuggestion, observe, type Suggestion } from "../suggest/suggest.js";
import { parseDuration } from "./audit.js";
import type { Command, Io } from "../io.js";
import { lineDiff } from "./unified-diff.js";

const USAGE = "usage: downscope suggest [--since 7d] [--service NAME] [--out FILE] [--diff]";

export interface SuggestResult {
  suggestion: Suggestion;
  text: string;
  diff: SuggestDiff;
  policy: Policy;
  /** Why some records were not used (verification), if any. */
  problem?: string;
  records: number;
}

/** The whole computation, shared with `report`. Throws UsageError when there is nothing to go on. */
export async function computeSuggestion(io: Io, opts: { since?: string; service?: string }): Promise<SuggestResult> {
  const since = opts.since !== undefined ? Date.now() - parseDuration(opts.since) : undefined;
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  if (policy.layers.length === 0)
    throw new UsageError("no policy found to start from; run `downscope init`, work with it a while, then suggest");
  const settings = auditSettingsOf(policy, io.env);
  const { entries, problem } = readVerifiedEntries(settings, readAuditKey(io.env));
  const observed = observe(entries, policy, { since, service: opts.service });
  if (observed.length === 0)
    throw new UsageError(
      `no service calls in the audit trail${opts.since ? ` of the last ${opts.since}` : ""}${opts.service ? ` for ${opts.service}` : ""} (${settings.path})`,
    );
  const resolver = awsActionResolver(io.env);
  const currentPolicy = (name: string): IamPolicy | undefined => {
    for (const l of [...policy.layers].reverse()) {
      const service = l.config.services[name];
      if (!service || !l.trusted) continue;
      // A session policy that cannot be read fails the suggestion: it is the ceiling of the new one.
      const sp = resolveSessionPolicy({
        service,
        configFile: l.file,
        packageRoot: packageRoot(),
        servicePath: `services.${name}`,
      });
      return sp.policy !== undefined ? (JSON.parse(sp.policy) as IamPolicy) : undefined;
    }
    return undefined;
  };
  const header = [
    `Suggested by \`downscope suggest${opts.since ? ` --since ${opts.since}` : ""}${opts.service ? ` --service ${opts.service}` : ""}\` on ${new Date().toISOString().slice(0, 10)} from ${since === undefined ? entries.length : entries.filter((e) => Date.parse(e.time) >= since).length} audit record(s): ${observed.length} distinct service call(s).`,
    "Review it before adopting it: it allows what was used, keeps every deny and review, and asks a human for the rest.",
    "Then: downscope lint FILE && downscope test --policy FILE && downscope test --attacks --policy FILE && downscope trust FILE",
    ...(problem ? [`WARNING: ${problem}`] : []),
  ];
  const suggestion = buildSuggestion(
    policy,
    observed,
    { actions: (s, c) => resolver.actions(s, c), modelsDir: resolver.dir, currentPolicy },
    header,
  );
  const text = renderSuggestion(suggestion);
  selfCheck(text);
  return {
    suggestion,
    text,
    diff: diffSuggestion(policy, suggestion.config, observed),
    policy,
    problem,
    records: entries.length,
  };
}

/** The suggestion must parse, lint without errors and pass its own tests; otherwise it is a bug, and nothing is shown. */
function selfCheck(text: string): void {
  const file = "(suggestion)";
  const parsed = parseConfig(text, file);
  if (!parsed.ok) throw new Error(`the suggestion does not parse: ${parsed.issues.map((i) => i.message).join("; ")}`);
  const errors = lintConfig(parsed.config, file, parsed.doc, parsed.lineCounter).filter((i) => i.severity === "error");
  if (errors.length) throw new Error(`the suggestion does not lint: ${errors.map((i) => i.message).join("; ")}`);
  const policy: Policy = {
    layers: [{ name: "project", file, trusted: true, config: parsed.config, sha256: "" }],
    warnings: [],
  };
  const failed = (parsed.config.tests ?? []).map((t) => runTestCase(policy, t, file)).filter((r) => !r.ok);
  if (failed.length)
    throw new Error(`the suggestion fails its own tests: ${failed.map((f) => `${f.label}: ${f.miss}`).join("; ")}`);
}

export const suggest: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: "string" },
        service: { type: "string" },
        out: { type: "string" },
        diff: { type: "boolean" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.out === "") throw new UsageError(`--out needs a file name\n${USAGE}`);
  const r = await computeSuggestion(io, { since: values.since, service: values.service });
  if (r.problem) io.stderr(`downscope suggest: warning: ${r.problem}\n`);
  if (values.diff) {
    io.stdout(formatDiff(r.diff));
    const project = r.policy.layers.find((l) => l.name === "project");
    if (project && existsSync(project.file)) {
      let before = "";
      try {
        before = readFileSync(project.file, "utf8");
      } catch (e) {
        throw new ConfigError([{ file: project.file, path: "", message: (e as Error).message }]);
      }
      io.stdout(lineDiff(before, r.text, project.file, "suggestion"));
    }
  }
  if (values.out !== undefined) {
    const written = writeOutputFile(resolve(io.cwd, values.out), r.text, io.env, packageRoot());
    io.stderr(
      `downscope suggest: wrote ${written}; review it, then: downscope lint ${values.out} && downscope test --policy ${values.out} && downscope trust ${values.out}\n`,
    );
  } else if (!values.diff) io.stdout(r.text);
  return 0;
};
