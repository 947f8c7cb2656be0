/**
 * What each call returned, next to the decision that allowed it (pure), for
 * `downscope report` (text and --html):
 *   - a downscope-exec run is one `exec` record: its decision, exit, duration
 *     and output together;
 *   - an agent's tool call is a `tool` record (what it returned, from the
 *     post-tool-use hook) and, when downscope decided it, the `hook` record
 *     with the same tool_use_id;
 *   - an MCP call through the proxy is the `mcp` decision record and the
 *     `mcp` record of its answer that follows it for the same tool.
 */
import type { AuditEntry, OutputRecord, StreamRecord } from "../audit/record.js";

export interface ResultRow {
  time: string;
  kind: "exec" | "tool" | "mcp";
  /** The command (binary first) or the tool's name. */
  call: string;
  /** The decision that allowed it, e.g. `allow: rule "pr reads" (user)`; `-` when downscope did not decide. */
  decision: string;
  exit?: number | string;
  duration_ms?: number;
  output: OutputRecord;
}

const commandOf = (e: AuditEntry) => (e.argv ? e.argv.join(" ") : (e.tool ?? ""));

function decisionOf(e: AuditEntry | undefined): string {
  if (e === undefined || e.action === undefined) return "-";
  const rule = e.rule !== undefined ? ` rule "${e.rule}"${e.layer ? ` (${e.layer})` : ""}` : "";
  const credential = e.slot !== undefined ? `, slot ${e.slot}` : e.policy !== undefined ? `, ${e.policy}` : "";
  return `${e.action}${rule}${credential}`;
}

export function resultRows(entries: readonly AuditEntry[]): ResultRow[] {
  const hookById = new Map<string, AuditEntry>();
  for (const e of entries) if (e.event === "hook" && e.tool_use_id !== undefined) hookById.set(e.tool_use_id, e);
  const rows: ResultRow[] = [];
  const lastMcpDecision = new Map<string, AuditEntry>();
  for (const e of entries) {
    if (e.event === "mcp" && e.output === undefined) {
      lastMcpDecision.set(`${e.service ?? ""}\0${e.tool ?? ""}`, e);
      continue;
    }
    if (e.output === undefined) continue;
    const base = {
      time: e.time,
      call: commandOf(e),
      ...(e.exit !== undefined ? { exit: e.exit } : {}),
      ...(e.duration_ms !== undefined ? { duration_ms: e.duration_ms } : {}),
      output: e.output,
    };
    if (e.event === "exec") rows.push({ ...base, kind: "exec", decision: decisionOf(e) });
    else if (e.event === "tool") {
      const hook = e.tool_use_id !== undefined ? hookById.get(e.tool_use_id) : undefined;
      rows.push({ ...base, kind: "tool", decision: hook ? decisionOf(hook) : "-" });
    } else if (e.event === "mcp") {
      const key = `${e.service ?? ""}\0${e.tool ?? ""}`;
      const d = lastMcpDecision.get(key);
      lastMcpDecision.delete(key);
      rows.push({ ...base, kind: "mcp", call: `${e.service ?? "?"}/${e.tool ?? "?"}`, decision: decisionOf(d) });
    }
  }
  return rows;
}

/** `12 B (sha256 3f78…)`, `terminal`, per stream. */
export function describeStream(s: StreamRecord): string {
  if (s.tty) return "terminal (not measured)";
  const size = s.bytes === undefined ? "?" : s.bytes < 10_240 ? `${s.bytes} B` : `${Math.round(s.bytes / 1024)} KiB`;
  return s.sha256 ? `${size} sha256:${s.sha256.slice(0, 12)}` : size;
}

export function describeMasked(o: OutputRecord): string {
  const parts: string[] = [];
  if (o.withheld !== undefined) parts.push("withheld (masking failed)");
  if (o.masked)
    parts.push(
      Object.entries(o.masked)
        .map(([k, n]) => `${n}× ${k}`)
        .join(", "),
    );
  if (o.reached_model_unmasked) parts.push("shown unmasked (a failed call's text)");
  return parts.join("; ") || "-";
}

/** The text table of `downscope report` (terminal-safe: control characters shown as `?`). */
export function formatResults(rows: readonly ResultRow[], width = 120): string {
  if (rows.length === 0) return "no records of what calls returned\n";
  const clean = (x: string) => x.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  const cut = (x: string, n: number) => (x.length > n ? `${x.slice(0, n - 1)}…` : x);
  const lines: string[] = [];
  for (const r of rows) {
    const when = r.time.replace("T", " ").slice(0, 19);
    const exit = r.exit !== undefined ? `exit ${String(r.exit)}` : "";
    const took = r.duration_ms !== undefined ? `${r.duration_ms} ms` : "";
    lines.push(cut(clean(`${when}  ${r.kind.padEnd(4)}  ${r.call}`), width));
    lines.push(cut(clean(`    decision: ${r.decision}`), width));
    lines.push(`    ${[exit, took].filter(Boolean).join(", ") || "-"}`);
    for (const [name, s] of Object.entries(r.output.streams))
      lines.push(cut(clean(`    ${name}: ${describeStream(s)}${s.truncated ? " (text cut)" : ""}`), width));
    const masked = describeMasked(r.output);
    if (masked !== "-") lines.push(cut(clean(`    masked: ${masked}`), width));
  }
  return `${lines.join("\n")}\n`;
}
