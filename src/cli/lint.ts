import { formatIssue } from "../errors.js";
import { findProjectConfig, readConfigText } from "../policy/load.js";
import { lintConfig, type LintIssue } from "../policy/lint.js";
import { gcpLintCheck } from "../policy/lint-gcp.js";
import { githubLintCheck } from "../policy/lint-github.js";
import { parseConfig } from "../policy/parse.js";
import { managedConfigPath, userConfigPath } from "../paths.js";
import { awsPolicyFileCheck } from "../credentials/aws-policy.js";
import { packageRoot } from "../package-root.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../errors.js";
import type { Command } from "../io.js";

/** `downscope lint [file...]`: every present layer when no file is named. */
export const lint: Command = async (argv, io) => {
  const files = argv.length
    ? argv.map((f) => resolve(io.cwd, f))
    : [managedConfigPath(io.env), userConfigPath(io.env), findProjectConfig(io.cwd, io.env)].filter(
        (f): f is string => f !== undefined && existsSync(f),
      );
  if (files.length === 0) {
    io.stderr(
      "downscope lint: no policy found (looked for .claude/downscoping.yaml upward from here, the user and managed files)\n",
    );
    return 1;
  }
  let errors = 0;
  let warnings = 0;
  for (const file of files) {
    const found: LintIssue[] = [];
    try {
      const result = parseConfig(readConfigText(file), file);
      if (!result.ok) found.push(...result.issues.map((i) => ({ ...i, severity: "error" as const })));
      else
        found.push(
          ...lintConfig(result.config, file, result.doc, result.lineCounter, [
            awsPolicyFileCheck(file, packageRoot()),
            gcpLintCheck,
            githubLintCheck,
          ]),
        );
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      found.push(...e.issues.map((i) => ({ ...i, severity: "error" as const })));
    }
    for (const i of found) {
      io.stderr(`${i.severity}: ${formatIssue(i)}\n`);
      if (i.severity === "error") errors++;
      else warnings++;
    }
  }
  io.stderr(
    `${files.length} file${files.length === 1 ? "" : "s"}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`,
  );
  return errors > 0 ? 1 : 0;
};
