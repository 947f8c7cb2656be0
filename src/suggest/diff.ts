/**
 * A suggestion against the current policy (pure): the rules no observed call
 * used, the allows that could be narrowed to what was used, and the observed
 * calls whose decision would change. `suggest --diff` prints it; `report
 * --html` shows it.
 */
import { decideCommand, decideTool, type Outcome } from "../attacks/outcome.js";
import type { Policy } from "../policy/policy.js";
import type { Config } from "../policy/schema.js";
import { commandPath, type Observed } from "./suggest.js";

export interface SuggestDiff {
  unused: { service: string; layer: string; file: string; rule: string; action: string }[];
  narrowable: { service: string; layer: string; rule: string; usedFor: string[] }[];
  changed: { service: string; command: string; from: string; to: string }[];
}

const show = (o: Outcome) =>
  `${o.action}${o.action === "allow" && o.slot ? ` (${o.slot})` : ""}${o.rule ? ` [${o.rule}]` : ""}`;

export function diffSuggestion(current: Policy, suggested: Config, observed: readonly Observed[]): SuggestDiff {
  const used = new Set<string>();
  const uses = new Map<string, { service: string; layer: string; rule: string; paths: Set<string> }>();
  for (const o of observed) {
    const r = o.current.rule;
    if (!r) continue;
    used.add(`${r.file}\0${o.service}\0${r.index}`);
    if (o.current.action === "allow" && o.current.source !== "guard") {
      const key = `${r.file}\0${o.service}\0${r.index}`;
      const u = uses.get(key) ?? { service: o.service, layer: r.layer, rule: r.name, paths: new Set<string>() };
      const path = o.inv.kind === "cli" ? commandPath(o.inv.binary, o.inv.args)?.join(" ") : o.inv.tool;
      u.paths.add(path ?? o.command);
      uses.set(key, u);
    }
  }
  const unused: SuggestDiff["unused"] = [];
  for (const l of current.layers)
    for (const [name, svc] of Object.entries(l.config.services)) {
      if (!observed.some((o) => o.service === name)) continue;
      svc.rules.forEach((r, i) => {
        if (!used.has(`${l.file}\0${name}\0${i}`))
          unused.push({ service: name, layer: l.name, file: l.file, rule: r.name, action: r.action });
      });
    }
  const narrowable = [...uses.values()].map((u) => ({
    service: u.service,
    layer: u.layer,
    rule: u.rule,
    usedFor: [...u.paths].sort(),
  }));
  const next: Policy = {
    layers: [{ name: "project", file: "(suggestion)", trusted: true, config: suggested, sha256: "" }],
    warnings: [],
  };
  const changed: SuggestDiff["changed"] = [];
  for (const o of observed) {
    const decideIn = (p: Policy) =>
      o.inv.kind === "cli" ? decideCommand(p, o.command) : decideTool(p, o.inv.server, o.inv.tool, {});
    const a = decideIn(current);
    const b = decideIn(next);
    if (a.action !== b.action || (a.action === "allow" && a.slot !== b.slot))
      changed.push({ service: o.service, command: o.command, from: show(a), to: show(b) });
  }
  return { unused, narrowable, changed };
}

export function formatDiff(d: SuggestDiff): string {
  const out: string[] = [];
  out.push(`rules never used by an observed call (${d.unused.length}):`);
  for (const u of d.unused) out.push(`  ${u.service}: ${u.action} rule "${u.rule}" (${u.layer} ${u.file})`);
  out.push(`allows that could be narrowed to what was used (${d.narrowable.length}):`);
  for (const n of d.narrowable)
    out.push(`  ${n.service}: "${n.rule}" (${n.layer}) was used only for: ${n.usedFor.join(", ")}`);
  out.push(`observed calls whose decision would change (${d.changed.length}):`);
  for (const c of d.changed) out.push(`  ${c.command}: ${c.from} → ${c.to}`);
  return out.join("\n") + "\n";
}
