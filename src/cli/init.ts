/**
 * `downscope init [--template readonly|developer|developer-github-app|strict] [--services gh,aws,…]
 *  [--ci github] [--force]`: write .claude/downscoping.yaml from a starter
 * policy (keeping its comments), trust it, and say what to do next.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { isMap, isSeq, parseDocument } from "yaml";
import { ConfigError, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { LOCK_FILE } from "../mcp/lock.js";
import { PROJECT_CONFIG } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import type { Config } from "../policy/schema.js";
import type { Command } from "../io.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import { pinTrust } from "./trust.js";

export const TEMPLATES = ["readonly", "developer", "developer-github-app", "strict"] as const;
export const CI_WORKFLOW = ".github/workflows/downscope.yml";

const USAGE =
  "usage: downscope init [--template readonly|developer|developer-github-app|strict] [--services gh,aws,gcloud,kubectl,filesystem,email,postgres] [--ci github] [--force]";

export const init: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: dropYes(argv, io),
      options: {
        template: { type: "string", default: "developer" },
        services: { type: "string" },
        ci: { type: "string" },
        force: { type: "boolean" },
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const template = values.template;
  if (!(TEMPLATES as readonly string[]).includes(template))
    throw new UsageError(`unknown template "${template}"; choose one of ${TEMPLATES.join(", ")}`);
  if (values.ci !== undefined && values.ci !== "github")
    throw new UsageError(`--ci supports only "github" (got "${values.ci}")`);

  const source = join(packageRoot(), "policies", `${template}.yaml`);
  const text = selectServices(readFileSync(source, "utf8"), source, values.services);
  const target = join(io.cwd, PROJECT_CONFIG);
  const workflow = join(io.cwd, CI_WORKFLOW);
  for (const f of [target, ...(values.ci ? [workflow] : [])])
    if (existsSync(f) && !values.force) throw new UsageError(`${f} already exists; use --force to overwrite it`);

  const parsed = parseConfig(text, target);
  if (!parsed.ok) throw new ConfigError(parsed.issues); // a bug in the template: say so, write nothing
  await confirmByPerson(io, {
    command: "downscope init",
    details: `downscope init writes ${target}${values.ci ? ` and ${workflow}` : ""} and trusts the policy, so its rules may grant credentials:\n\n${text}`,
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  pinTrust(target, io.env, text);
  io.stderr(`downscope: wrote ${target} from the ${template} template and trusted it\n`);
  if (values.ci) {
    mkdirSync(dirname(workflow), { recursive: true });
    writeFileSync(workflow, ciWorkflow());
    io.stderr(`downscope: wrote ${workflow} (lint, test, test --attacks and mcp lock --check on every push)\n`);
  }
  io.stderr(nextSteps(parsed.config));
  return 0;
};

/** Keep only the named services (and the tests that use them); comments survive. */
export function selectServices(text: string, file: string, services: string | undefined): string {
  if (services === undefined) return text;
  const wanted = services
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const doc = parseDocument(text);
  const svcMap = doc.get("services", true);
  if (!isMap(svcMap)) throw new ConfigError([{ file, path: "services", message: "template has no services map" }]);
  const names = svcMap.items.map((p) => String((p.key as { value?: unknown }).value ?? p.key));
  const unknown = wanted.filter((w) => !names.includes(w));
  if (unknown.length)
    throw new UsageError(`unknown service ${unknown.join(", ")} in --services; this template has ${names.join(", ")}`);
  const removed = names.filter((n) => !wanted.includes(n));
  const removedServers = new Set<string>();
  const removedBinaries = new Set<string>();
  for (const n of removed) {
    const server = doc.getIn(["services", n, "server"]);
    if (typeof server === "string") removedServers.add(server);
    else {
      const binary = doc.getIn(["services", n, "binary"]);
      removedBinaries.add(typeof binary === "string" ? binary : n);
    }
    doc.deleteIn(["services", n]);
  }
  const tests = doc.get("tests", true);
  if (isSeq(tests)) {
    tests.items = tests.items.filter((item) => {
      const t = (item as { toJSON(): unknown }).toJSON() as { command?: string; server?: string };
      if (t.server !== undefined) return !removedServers.has(t.server);
      const words = (t.command ?? "").split(/[\s'"]+/);
      return !words.some((w) => removedBinaries.has(w));
    });
  }
  return doc.toString({ lineWidth: 0 });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version?: string };
  return pkg.version ?? "latest";
}

export function ciWorkflow(): string {
  const v = packageVersion();
  return `# Written by \`downscope init --ci github\`: checks the downscope policy on every push.
name: downscope policy
on: [push, pull_request]
permissions:
  contents: read
jobs:
  policy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm install --global downscope@${v}
      - name: lint
        run: downscope lint ${PROJECT_CONFIG}
      - name: policy tests
        run: downscope test --policy ${PROJECT_CONFIG}
      - name: attack pack
        run: downscope test --attacks --policy ${PROJECT_CONFIG}
      # Fails when a locked MCP server's tools (names, descriptions, schemas) drifted from ${LOCK_FILE}.
      - name: MCP tool lock
        if: hashFiles('${LOCK_FILE}') != ''
        run: downscope mcp lock --check
`;
}

function nextSteps(config: Config): string {
  const vars = new Set<string>();
  for (const svc of Object.values(config.services))
    for (const slot of Object.values(svc.token_slots ?? {})) if (slot.env_var) vars.add(slot.env_var);
  const lines = [
    "",
    "next steps:",
    `  1. give downscope its source credentials (never the agent): ${[...vars].join(", ") || "see the token_slots in the file"}`,
    "     in the environment downscope runs in, or switch a slot to `file:` or `command:` (e.g. a password manager)",
    "  2. downscope install claude      # the PreToolUse hook and the shims",
    "  3. downscope doctor              # checks the hook, shims, binaries, credential sources and trust",
    "  4. downscope test --attacks      # proves what the policy blocks",
    "  Edit .claude/downscoping.yaml to taste, then `downscope lint`, `downscope test` and `downscope trust` again.",
    "",
  ];
  return lines.join("\n");
}
