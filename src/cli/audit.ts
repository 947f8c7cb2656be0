/**
 * `downscope audit [--since 1h] [--session ID] [--action deny] [--json | --summary]` and
 * `downscope audit verify`.
 */
import { parseArgs } from "node:util";
import { ConfigError, UsageError } from "../errors.js";
import { auditKeyPath, readAuditKey } from "../audit/log.js";
import type { AuditEntry } from "../audit/record.js";
import { auditSettingsOf, type AuditSettings } from "../audit/settings.js";
import { readAuditEntries, verifyAudit } from "../audit/verify.js";
import { loadPolicy } from "../policy/load.js";
import type { Command, Io } from "../io.js";

async function settingsFor(io: Io): Promise<AuditSettings> {
  try {
    // Promise.resolve: works whether loadPolicy is synchronous or asynchronous (it becomes async on main).
    return auditSettingsOf(await loadPolicy({ cwd: io.cwd, env: io.env }), io.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr(`downscope: warning: ${e.message}\ndownscope: reading the audit log at its default place\n`);
    return auditSettingsOf(undefined, io.env);
  }
}

export const audit: Command = async (argv, io) => {
  if (argv[0] === "verify") return verify(argv.slice(1), io);
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: "string" },
        session: { type: "string" },
        action: { type: "string" },
        json: { type: "boolean" },
        summary: { type: "boolean" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message}\nusage: downscope audit [--since 1h] [--session ID] [--action deny] [--json | --summary] | verify`,
    );
  }
  const since = values.since !== undefined ? Date.now() - parseDuration(values.since) : undefined;
  if (values.action !== undefined && !["allow", "deny", "review", "ask", "error"].includes(values.action))
    throw new UsageError(`--action must be allow, deny, review, ask or error (got "${values.action}")`);
  const settings = await settingsFor(io);
  const entries = readAuditEntries(settings).filter(
    (e) =>
      (since === undefined || Date.parse(e.time) >= since) &&
      (values.session === undefined || e.session === values.session) &&
      (values.action === undefined || e.action === values.action),
  );
  if (values.json) {
    for (const e of entries) io.stdout(JSON.stringify(e) + "\n");
    return 0;
  }
  if (values.summary) {
    const { summarize, formatSummary } = await import("../report/summary.js");
    const { hookServiceOf } = await import("../report/service-of.js");
    const policy = await loadPolicy({ cwd: io.cwd, env: io.env }).catch(() => undefined);
    io.stdout(formatSummary(summarize(entries, hookServiceOf(policy))));
    return 0;
  }
  if (entries.length === 0) {
    io.stderr(
      `downscope audit: no records${values.since || values.session || values.action ? " match" : ` in ${settings.path}`}\n`,
    );
    return 0;
  }
  io.stdout(table(entries));
  return 0;
};

/** `1h`, `30m`, `2d`, `45s`, `1w`. */
export function parseDuration(s: string): number {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new UsageError(`--since expects a duration like 30m, 1h, 2d (got "${s}")`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit * 1000;
}

function table(entries: AuditEntry[]): string {
  const rows = [
    ["TIME", "EVENT", "ACTION", "SERVICE", "COMMAND", "RULE", "CREDENTIAL", "EXIT"],
    ...entries.map((e) => [
      e.time.replace("T", " ").replace(/\.\d+Z$/, "Z"),
      e.event,
      e.action ?? "-",
      e.service ?? "-",
      truncate(e.argv ? e.argv.join(" ") : (e.tool ?? "-"), 60),
      truncate(e.rule ? `${e.rule}${e.layer ? ` (${e.layer})` : ""}` : "-", 40),
      e.slot ?? e.policy ?? (e.fingerprint ? e.fingerprint : "-"),
      e.exit !== undefined ? String(e.exit) : "-",
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

async function verify(argv: string[], io: Io): Promise<number> {
  if (argv.length > 0) throw new UsageError("usage: downscope audit verify");
  const settings = await settingsFor(io);
  const key = readAuditKey(io.env);
  if (key === undefined) {
    const any = verifyAudit(settings, Buffer.alloc(32)).files > 0;
    io.stdout(
      any
        ? `FAIL the audit key ${auditKeyPath(io.env)} is missing: the log cannot be verified\n`
        : `OK no audit log yet (${settings.path})\n`,
    );
    return any ? 1 : 0;
  }
  const r = verifyAudit(settings, key);
  if (r.problem) {
    io.stdout(`FAIL ${r.problem.file}:${r.problem.line}: ${r.problem.message}\n`);
    io.stderr(`downscope audit verify: the log has been tampered with or damaged; ${r.lines} lines before it verify\n`);
    return 1;
  }
  if (r.files === 0) {
    io.stdout(`OK no audit log yet (${settings.path})\n`);
    return 0;
  }
  io.stdout(
    `OK ${r.lines} line${r.lines === 1 ? "" : "s"} in ${r.files} file${r.files === 1 ? "" : "s"} verify${r.truncatedStart ? " (the oldest file continues a rotated-out file)" : ""}\n`,
  );
  return 0;
}
