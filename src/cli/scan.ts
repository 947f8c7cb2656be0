/**
 * `downscope scan [--path FILE]... [--json] [--fail-on high|medium|low|none]`:
 * the MCP configs of every client downscope knows, and what is risky in each
 * server entry (src/scan/). Reads only; prints no secret (a plaintext secret
 * is shown by kind, place and fingerprint).
 *
 * Exit codes, for CI: 0 nothing at or above --fail-on (default: low, i.e.
 * any finding); 1 findings at or above it; 78 a config file exists but could
 * not be read or parsed (the others are still scanned and reported); 64 usage.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { displayPath } from "../protection/protected-paths.js";
import { projectDir } from "../hook/self-gate.js";
import type { ClientId } from "../scan/clients.js";
import { SEVERITIES, type Severity } from "../scan/findings.js";
import { scan as runScan, type ScanResult } from "../scan/scan.js";
import type { Command, Io } from "../io.js";
import { SCAN_OUTPUT_VERSION, type ScanOutput } from "./scan-output.js";

const USAGE =
  "usage: downscope scan [--path FILE]... [--json] [--fail-on high|medium|low|none]\n" +
  "  --path FILE   scan only this file (any MCP client JSON, or a Codex config.toml); repeatable\n" +
  "  --json        the versioned output (schema/scan-output.schema.json) on stdout\n" +
  "  --fail-on S   exit 1 when a finding of severity S or higher is found (default low: any; env DOWNSCOPE_SCAN_FAIL_ON)\n" +
  "  exit codes: 0 clean, 1 findings, 78 a config file could not be read, 64 usage";

export const CLIENT_NAMES: Record<ClientId, string> = {
  "claude-code": "Claude Code",
  "claude-desktop": "Claude Desktop",
  cursor: "Cursor",
  vscode: "VS Code",
  windsurf: "Windsurf",
  gemini: "Gemini CLI",
  codex: "Codex",
  other: "MCP client",
};

export const scan: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        path: { type: "string", multiple: true },
        json: { type: "boolean" },
        "fail-on": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    io.stderr(`${USAGE}\n`);
    return 0;
  }
  const failOn = values["fail-on"] ?? io.env.DOWNSCOPE_SCAN_FAIL_ON ?? "low";
  if (failOn !== "none" && !(SEVERITIES as readonly string[]).includes(failOn))
    throw new UsageError(`--fail-on must be high, medium, low or none (got "${failOn}")\n${USAGE}`);
  const result = scanHere(io, values.path ?? []);
  io.stdout(values.json ? `${JSON.stringify(scanOutput(result), null, 2)}\n` : renderText(result, io));
  if (result.files.some((f) => f.error !== undefined)) return 78;
  const threshold = failOn === "none" ? -1 : SEVERITIES.indexOf(failOn as Severity);
  const failing = SEVERITIES.filter((_, i) => i <= threshold).some((s) => result.counts[s] > 0);
  return failing ? 1 : 0;
};

/** The scan of the project an agent or a person works in (also used by `report --html`). */
export function scanHere(io: Pick<Io, "env" | "cwd">, paths: readonly string[] = []): ScanResult {
  return runScan({ env: io.env, project: projectDir(io.env, io.cwd) }, paths);
}

export function scanOutput(r: ScanResult): ScanOutput {
  return {
    version: SCAN_OUTPUT_VERSION,
    project: r.project,
    files: r.files.map((f) => ({
      client: f.client,
      scope: f.scope,
      path: f.path,
      servers: f.servers,
      error: f.error ? { line: f.error.line ?? null, column: f.error.column ?? null, message: f.error.message } : null,
    })),
    servers: r.servers.map((s) => ({
      client: s.client,
      scope: s.scope,
      file: s.file,
      name: s.name,
      location: s.location,
      line: s.line ?? null,
      project: s.project ?? null,
      transport: s.transport,
      proxied: s.proxied,
      findings: s.findings.map((f) => ({
        kind: f.kind,
        severity: f.severity,
        where: f.where,
        message: f.message,
        fix: f.fix,
        secret_kind: f.secretKind ?? null,
        fingerprint: f.fingerprint ?? null,
      })),
    })),
    counts: { ...r.counts },
  };
}

function renderText(r: ScanResult, io: Pick<Io, "env">): string {
  const show = (p: string) => displayPath(p, io.env);
  const lines: string[] = [];
  const total = r.servers.reduce((n, s) => n + s.findings.length, 0);
  lines.push(
    `downscope scan: ${r.files.length} MCP config file${r.files.length === 1 ? "" : "s"}, ${r.servers.length} server${r.servers.length === 1 ? "" : "s"}; ` +
      (total === 0 ? "nothing flagged" : SEVERITIES.map((s) => `${r.counts[s]} ${s}`).join(", ")),
  );
  for (const f of r.files) {
    lines.push("", `${show(f.path)} (${CLIENT_NAMES[f.client]}, ${f.scope})`);
    if (f.error) {
      const at = f.error.line !== undefined ? `:${f.error.line}:${f.error.column ?? 1}` : "";
      lines.push(`  ${show(f.path)}${at}: ${f.error.message}`);
      continue;
    }
    const servers = r.servers.filter((s) => s.file === f.path);
    if (servers.length === 0) lines.push("  no MCP servers");
    for (const s of servers) {
      const where = `${s.location}${s.line !== undefined ? `, line ${s.line}` : ""}`;
      lines.push(`  ${s.name}  (${where})${s.findings.length === 0 ? ": nothing flagged" : ""}`);
      for (const x of s.findings) {
        const fp = x.fingerprint ? ` [${x.fingerprint}]` : "";
        lines.push(`    ${x.severity.padEnd(6)}  ${x.kind.padEnd(10)}  ${x.where}: ${x.message}${fp}`);
        lines.push(`    ${"".padEnd(6)}  ${"".padEnd(10)}  fix: ${x.fix}`);
      }
    }
  }
  if (r.files.length === 0)
    lines.push(
      "",
      "No MCP config was found (Claude Code, Claude Desktop, Cursor, VS Code, Windsurf, Gemini CLI, Codex).",
    );
  return `${lines.join("\n")}\n`;
}
