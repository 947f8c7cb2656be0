/**
 * Figures of an audit trail (pure), for `downscope audit --summary` and
 * `downscope report --html`: decisions over time, counts per service and
 * rule, the denied and reviewed commands, and the credentials handed out by
 * kind and scope (slot name, session policy or boundary id; never a value,
 * and not even a fingerprint).
 */
import type { AuditEntry } from "../audit/record.js";

export const ACTIONS = ["allow", "review", "deny", "ask", "error"] as const;
export type SummaryAction = (typeof ACTIONS)[number];
export type Counts = Record<SummaryAction, number>;

const zero = (): Counts => ({ allow: 0, review: 0, deny: 0, ask: 0, error: 0 });

export interface Summary {
  records: number;
  first?: string;
  last?: string;
  totals: Counts;
  /** Buckets of `bucket` (`hour` or `day`), oldest first, each with its counts. */
  bucket: "hour" | "day";
  timeline: { start: string; counts: Counts }[];
  services: { service: string; counts: Counts }[];
  rules: { service: string; rule: string; layer: string; counts: Counts }[];
  /** Denied and reviewed calls, newest first. */
  stopped: { time: string; action: SummaryAction; service: string; command: string; rule: string; reason: string }[];
  credentials: { service: string; kind: string; scope: string; count: number }[];
}

const commandOf = (e: AuditEntry) => (e.argv ? e.argv.join(" ") : e.tool !== undefined ? `tool ${e.tool}` : "");

/**
 * `serviceOf` names the service of a record that has none (a hook record holds
 * the whole Bash command); without it such records count as `(hook)`.
 */
export function summarize(
  entries: readonly AuditEntry[],
  serviceOf: (e: AuditEntry) => string | undefined = () => undefined,
): Summary {
  const decisions = entries.filter(
    (e): e is AuditEntry & { action: SummaryAction } =>
      e.event !== "credential" && e.action !== undefined && (ACTIONS as readonly string[]).includes(e.action),
  );
  const times = entries.map((e) => Date.parse(e.time)).filter((t) => !Number.isNaN(t));
  // A loop, not Math.min(...times): a rotated set can hold more records than a call has arguments.
  let first: number | undefined;
  let last: number | undefined;
  for (const t of times) {
    if (first === undefined || t < first) first = t;
    if (last === undefined || t > last) last = t;
  }
  const bucket: Summary["bucket"] = first !== undefined && last! - first > 2 * 86_400_000 ? "day" : "hour";
  const size = bucket === "day" ? 86_400_000 : 3_600_000;

  const totals = zero();
  const timeline = new Map<number, Counts>();
  const services = new Map<string, Counts>();
  const rules = new Map<string, { service: string; rule: string; layer: string; counts: Counts }>();
  const stopped: Summary["stopped"] = [];
  for (const e of decisions) {
    totals[e.action]++;
    const t = Date.parse(e.time);
    if (!Number.isNaN(t)) {
      const b = Math.floor(t / size) * size;
      const c = timeline.get(b) ?? zero();
      c[e.action]++;
      timeline.set(b, c);
    }
    const service = e.service ?? serviceOf(e) ?? "(hook)";
    const sc = services.get(service) ?? zero();
    sc[e.action]++;
    services.set(service, sc);
    if (e.rule !== undefined) {
      const key = `${service}\0${e.rule}\0${e.layer ?? ""}`;
      const r = rules.get(key) ?? { service, rule: e.rule, layer: e.layer ?? "", counts: zero() };
      r.counts[e.action]++;
      rules.set(key, r);
    }
    if (e.action === "deny" || e.action === "review")
      stopped.push({
        time: e.time,
        action: e.action,
        service,
        command: commandOf(e),
        rule: e.rule ?? "",
        reason: e.reason ?? "",
      });
  }
  // Fill empty buckets so the chart's time axis is even.
  const filled: Summary["timeline"] = [];
  if (timeline.size > 0) {
    const keys = [...timeline.keys()];
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    for (let b = lo, n = 0; b <= hi && n < 400; b += size, n++)
      filled.push({ start: new Date(b).toISOString(), counts: timeline.get(b) ?? zero() });
  }

  const creds = new Map<string, { service: string; kind: string; scope: string; count: number }>();
  for (const e of entries) {
    const handedOut =
      e.event === "credential" || (e.event === "exec" && e.action === "allow" && (e.slot ?? e.policy) !== undefined);
    if (!handedOut) continue;
    const service = e.service ?? "?";
    const kind =
      e.slot !== undefined ? "token slot" : e.event === "credential" ? "AWS session policy" : "scoped credential";
    const scope = e.slot ?? e.policy ?? "";
    const key = `${service}\0${kind}\0${scope}`;
    const c = creds.get(key) ?? { service, kind, scope, count: 0 };
    c.count++;
    creds.set(key, c);
  }

  const byTotal = (a: { counts: Counts }, b: { counts: Counts }) => total(b.counts) - total(a.counts);
  return {
    records: entries.length,
    ...(first !== undefined ? { first: new Date(first).toISOString(), last: new Date(last!).toISOString() } : {}),
    totals,
    bucket,
    timeline: filled,
    services: [...services.entries()].map(([service, counts]) => ({ service, counts })).sort(byTotal),
    rules: [...rules.values()].sort(byTotal),
    stopped: stopped.reverse(),
    credentials: [...creds.values()].sort((a, b) => b.count - a.count),
  };
}

export function total(c: Counts): number {
  return ACTIONS.reduce((n, a) => n + c[a], 0);
}

/** One screen for the terminal (`downscope audit --summary`). */
export function formatSummary(s: Summary, width = 100): string {
  if (s.records === 0) return "no audit records\n";
  // Logged commands are the agent's text: control characters (terminal escapes) are shown as `?`.
  const clean = (x: string) => x.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  const cut = (x: string, n: number) => {
    const c = clean(x);
    return c.length > n ? `${c.slice(0, n - 1)}…` : c;
  };
  const counts = (c: Counts) =>
    ACTIONS.filter((a) => c[a] > 0)
      .map((a) => `${c[a]} ${a}`)
      .join(", ") || "none";
  const lines = [
    `${s.records} records, ${s.first?.slice(0, 16).replace("T", " ")} to ${s.last?.slice(0, 16).replace("T", " ")} UTC`,
    `decisions: ${counts(s.totals)}`,
    "",
    "per service:",
    ...s.services.slice(0, 6).map((x) => `  ${x.service.padEnd(12)} ${counts(x.counts)}`),
    "",
    "top rules:",
    ...s.rules.slice(0, 5).map((r) => `  ${cut(`${r.service}: ${r.rule}`, 50).padEnd(50)} ${counts(r.counts)}`),
    "",
    `denied or reviewed (${s.stopped.length}, newest first):`,
    ...s.stopped
      .slice(0, 5)
      .map((x) => `  ${x.time.slice(5, 16).replace("T", " ")} ${x.action.padEnd(6)} ${cut(x.command, width - 22)}`),
    "",
    "credentials handed out:",
    ...(s.credentials.length
      ? s.credentials
          .slice(0, 4)
          .map((c) => `  ${c.service.padEnd(10)} ${cut(`${c.kind} ${c.scope}`, 50).padEnd(50)} ${c.count}×`)
      : ["  none"]),
  ];
  return lines.map((l) => cut(l, width)).join("\n") + "\n";
}
