/**
 * `downscope report --html` (pure): one self-contained page. No script, no
 * external request: styles are inline, the chart is inline SVG, and a
 * Content-Security-Policy of `default-src 'none'` makes the browser refuse
 * anything else. Every string from the audit trail is HTML-escaped: logged
 * commands are the agent's text, and a `<script>` in one must stay text.
 */
import type { ScanResult } from "../scan/scan.js";
import type { SuggestDiff } from "../suggest/diff.js";
import { describeMasked, describeStream, type ResultRow } from "./results.js";
import { ACTIONS, total, type Summary, type SummaryAction } from "./summary.js";

export interface ReportInput {
  summary: Summary;
  generated: string;
  period: string;
  /** Why some records were not used (verification), if any. */
  problem?: string;
  suggestion?: { diff: SuggestDiff; text: string } | { unavailable: string };
  /** `downscope scan` of the MCP configs (src/scan/), with paths shown as the reader knows them. */
  scan?: { result: ScanResult; show: (path: string) => string } | { unavailable: string };
  /** What each call returned, next to the decision that allowed it (src/report/results.ts). */
  results?: readonly ResultRow[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const COLORS: Record<SummaryAction, string> = {
  allow: "#2e7d32",
  review: "#f9a825",
  deny: "#c62828",
  ask: "#6a1b9a",
  error: "#546e7a",
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f23;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1d9}
main{padding:8px 32px 40px;max-width:1200px}section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:16px 0}
h2{font-size:17px;margin:0 0 12px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#57606a}td.n{text-align:right;font-variant-numeric:tabular-nums}code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;padding:10px;border-radius:6px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-all}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{flex:1;min-width:110px;border-radius:8px;padding:10px 14px;color:#fff}.card b{display:block;font-size:24px}
.warn{background:#fff8c5;border-color:#d4a72c}.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}.muted{color:#57606a}
`;

export function renderReport(r: ReportInput): string {
  const s = r.summary;
  const e = escapeHtml;
  const cell = (v: string) => `<td>${e(v)}</td>`;
  const num = (v: number) => `<td class="n">${v}</td>`;
  const countsCells = (c: Record<SummaryAction, number>) => ACTIONS.map((a) => num(c[a])).join("") + num(total(c));
  const countsHead = ACTIONS.map((a) => `<th>${a}</th>`).join("") + "<th>total</th>";

  const cards = ACTIONS.map(
    (a) => `<div class="card" style="background:${COLORS[a]}"><b>${s.totals[a]}</b>${a}</div>`,
  ).join("");

  const parts: string[] = [];
  parts.push(`<section id="overview"><h2>Overview</h2><div class="cards">${cards}</div>
<p class="muted">${s.records} audit records${s.first ? `, ${e(s.first)} to ${e(s.last ?? "")}` : ""}.</p></section>`);
  if (r.problem)
    parts.push(`<section class="warn" id="verification"><h2>Verification</h2><p>${e(r.problem)}</p></section>`);

  parts.push(`<section id="decisions-over-time"><h2>Decisions over time (per ${s.bucket})</h2>${chart(s)}
<p class="legend">${ACTIONS.map((a) => `<span><i style="background:${COLORS[a]}"></i>${a}</span>`).join("")}</p></section>`);

  parts.push(`<section id="counts"><h2>Counts per service and rule</h2><div class="two">
<div><table id="per-service"><tr><th>service</th>${countsHead}</tr>
${s.services.map((x) => `<tr>${cell(x.service)}${countsCells(x.counts)}</tr>`).join("\n")}</table></div>
<div><table id="per-rule"><tr><th>service</th><th>rule</th><th>layer</th>${countsHead}</tr>
${s.rules
  .slice(0, 60)
  .map((x) => `<tr>${cell(x.service)}${cell(x.rule)}${cell(x.layer)}${countsCells(x.counts)}</tr>`)
  .join("\n")}</table></div></div></section>`);

  parts.push(`<section id="denied-reviewed"><h2>Denied and reviewed commands (${s.stopped.length})</h2>
<table><tr><th>time</th><th>decision</th><th>service</th><th>command</th><th>rule</th><th>reason</th></tr>
${s.stopped
  .slice(0, 300)
  .map(
    (x) =>
      `<tr>${cell(x.time.replace("T", " ").slice(0, 19))}<td style="color:${COLORS[x.action]};font-weight:600">${x.action}</td>${cell(x.service)}<td><code>${e(x.command)}</code></td>${cell(x.rule)}${cell(x.reason)}</tr>`,
  )
  .join("\n")}</table></section>`);

  const rows = r.results ?? [];
  parts.push(`<section id="results"><h2>What each call returned (${rows.length})</h2>
<p class="muted">Exit status, duration, and each output stream's size and sha256 as delivered (secrets masked), next to the decision that allowed the call. Text is kept only with settings.record_output: masked.</p>
<table><tr><th>time</th><th>call</th><th>decision</th><th>exit</th><th>ms</th><th>output</th><th>masked</th></tr>
${
  rows
    .slice(-300)
    .reverse()
    .map(
      (x) =>
        `<tr>${cell(x.time.replace("T", " ").slice(0, 19))}<td><code>${e(x.call)}</code></td>${cell(x.decision)}${cell(x.exit !== undefined ? String(x.exit) : "-")}${cell(x.duration_ms !== undefined ? String(x.duration_ms) : "-")}<td>${Object.entries(
          x.output.streams,
        )
          .map(
            ([name, s]) =>
              `${e(name)}: ${e(describeStream(s))}${s.text !== undefined ? `<details><summary>text${s.truncated ? " (cut)" : ""}</summary><pre>${e(s.text)}</pre></details>` : ""}`,
          )
          .join("<br>")}</td>${cell(describeMasked(x.output))}</tr>`,
    )
    .join("\n") || '<tr><td colspan="7">none</td></tr>'
}</table></section>`);

  parts.push(`<section id="credentials"><h2>Credentials handed out</h2>
<p class="muted">By kind and scope: the slot or the session policy a command ran with. Values and fingerprints are not shown.</p>
<table><tr><th>service</th><th>kind</th><th>scope</th><th>times</th></tr>
${s.credentials.map((c) => `<tr>${cell(c.service)}${cell(c.kind)}${cell(c.scope)}${num(c.count)}</tr>`).join("\n") || '<tr><td colspan="4">none</td></tr>'}</table></section>`);

  if (r.scan !== undefined) parts.push(scanSection(r.scan));

  const sg = r.suggestion;
  if (sg === undefined || "unavailable" in sg) {
    parts.push(
      `<section id="suggestion"><h2>Suggested policy</h2><p>${e(sg?.unavailable ?? "not computed")}</p></section>`,
    );
  } else {
    const d = sg.diff;
    parts.push(`<section id="suggestion"><h2>Suggested policy: how it differs</h2>
<h3>Rules never used by an observed call (${d.unused.length})</h3><table><tr><th>service</th><th>action</th><th>rule</th><th>layer</th></tr>
${d.unused.map((u) => `<tr>${cell(u.service)}${cell(u.action)}${cell(u.rule)}${cell(u.layer)}</tr>`).join("\n")}</table>
<h3>Allows that could be narrowed (${d.narrowable.length})</h3><table><tr><th>service</th><th>rule</th><th>used only for</th></tr>
${d.narrowable.map((n) => `<tr>${cell(n.service)}${cell(n.rule)}<td><code>${e(n.usedFor.join(", "))}</code></td></tr>`).join("\n")}</table>
<h3>Observed calls whose decision would change (${d.changed.length})</h3><table><tr><th>command</th><th>now</th><th>suggested</th></tr>
${d.changed.map((c) => `<tr><td><code>${e(c.command)}</code></td>${cell(c.from)}${cell(c.to)}</tr>`).join("\n")}</table>
<h3>The suggestion (<code>downscope suggest --out FILE</code> writes it)</h3><pre>${e(sg.text)}</pre></section>`);
  }

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="referrer" content="no-referrer">
<title>downscope report</title><style>${CSS}</style></head>
<body><header><h1>downscope report</h1><p>${e(r.period)} · generated ${e(r.generated)}</p></header>
<main>
${parts.join("\n")}
</main></body></html>
`;
}

const SEVERITY_COLORS = { high: "#c62828", medium: "#f9a825", low: "#546e7a" } as const;

/** `downscope scan`: every flag on every MCP server found, never a secret (a fingerprint at most). */
function scanSection(scan: NonNullable<ReportInput["scan"]>): string {
  const e = escapeHtml;
  if ("unavailable" in scan)
    return `<section id="mcp-scan"><h2>MCP config scan</h2><p>${e(scan.unavailable)}</p></section>`;
  const { result, show } = scan;
  const cards = (["high", "medium", "low"] as const)
    .map((s) => `<div class="card" style="background:${SEVERITY_COLORS[s]}"><b>${result.counts[s]}</b>${s}</div>`)
    .join("");
  const rows = result.servers.flatMap((sv) =>
    sv.findings.map(
      (f) =>
        `<tr><td style="color:${SEVERITY_COLORS[f.severity]};font-weight:600">${f.severity}</td><td>${e(sv.client)}</td><td><code>${e(show(sv.file))}</code>${sv.line !== undefined ? `:${sv.line}` : ""}</td><td>${e(sv.name)}</td><td>${e(f.kind)}</td><td><code>${e(f.where)}</code></td><td>${e(f.message)}${f.fingerprint ? ` <code>${e(f.fingerprint)}</code>` : ""}<br><span class="muted">${e(f.fix)}</span></td></tr>`,
    ),
  );
  const broken = result.files
    .filter((f) => f.error !== undefined)
    .map(
      (f) =>
        `<li><code>${e(show(f.path))}${f.error?.line !== undefined ? `:${f.error.line}:${f.error.column ?? 1}` : ""}</code>: ${e(f.error?.message ?? "")}</li>`,
    )
    .join("");
  return `<section id="mcp-scan"><h2>MCP config scan</h2><div class="cards">${cards}</div>
<p class="muted">${result.files.length} config files, ${result.servers.length} servers (<code>downscope scan</code>). Secrets are shown by kind and fingerprint, never by value.</p>
${broken ? `<p>Files that could not be read:</p><ul>${broken}</ul>` : ""}
<table id="mcp-scan-findings"><tr><th>severity</th><th>client</th><th>file</th><th>server</th><th>kind</th><th>where</th><th>what, and how to fix it</th></tr>
${rows.join("\n") || '<tr><td colspan="7">nothing flagged</td></tr>'}</table></section>`;
}

/** A stacked bar chart of the timeline, inline SVG. */
function chart(s: Summary): string {
  const W = 1100;
  const H = 220;
  const pad = { l: 40, r: 10, t: 10, b: 30 };
  const n = s.timeline.length;
  if (n === 0) return "<p>no decisions</p>";
  const max = Math.max(1, ...s.timeline.map((b) => total(b.counts)));
  const bw = (W - pad.l - pad.r) / n;
  const y = (v: number) => ((H - pad.t - pad.b) * v) / max;
  const bars: string[] = [];
  s.timeline.forEach((b, i) => {
    let acc = 0;
    for (const a of ACTIONS) {
      const v = b.counts[a];
      if (v === 0) continue;
      const h = y(v);
      const top = H - pad.b - y(acc) - h;
      bars.push(
        `<rect x="${(pad.l + i * bw + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[a]}"><title>${escapeHtml(b.start)}: ${v} ${a}</title></rect>`,
      );
      acc += v;
    }
  });
  const every = Math.max(1, Math.ceil(n / 8));
  const labels = s.timeline
    .map((b, i) =>
      i % every === 0
        ? `<text x="${(pad.l + i * bw).toFixed(1)}" y="${H - 10}" font-size="11" fill="#57606a">${escapeHtml(s.bucket === "day" ? b.start.slice(5, 10) : b.start.slice(5, 13).replace("T", " ") + "h")}</text>`
        : "",
    )
    .join("");
  const axis = `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#d0d7de"/><text x="4" y="${pad.t + 10}" font-size="11" fill="#57606a">${max}</text><text x="4" y="${H - pad.b}" font-size="11" fill="#57606a">0</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="decisions over time">${axis}${bars.join("")}${labels}</svg>`;
}
