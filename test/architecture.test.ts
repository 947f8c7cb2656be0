/**
 * The dependency direction of docs/architecture.md, enforced:
 *   cli → hook | exec | mcp → policy, credentials;  shell and policy are pure cores;
 *   nothing imports cli/;  protection/ is a leaf;  contain/ and hook/ import
 *   each other only for the void check;  credentials/ is reached only
 *   from exec/, mcp/ and cli/ (the composition root: credential-process,
 *   cache clear, install aws) — never from the hook, shell, policy or audit;
 *   no import cycles.
 * Runtime imports only: `import type` is erased and cannot create a cycle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative runtime imports of a file (static and dynamic), as src-relative paths. */
function imports(file: string, includeTypes: boolean): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[2] && !includeTypes) continue;
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    out.push(relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, ".ts"))));
  }
  return out;
}

const all = files(SRC).map((f) => relative(SRC, f));
const top = (p: string) => (p.includes("/") ? p.split("/")[0]! : p);

describe("architecture", () => {
  it("dependencies point inward", () => {
    const violations: string[] = [];
    for (const f of all) {
      for (const dep of imports(join(SRC, f), true)) {
        const from = top(f);
        const to = top(dep);
        if (to === "cli" && from !== "cli") violations.push(`${f} imports ${dep}: nothing imports cli/`);
        if (
          (from === "policy" || from === "shell") &&
          ["hook", "exec", "mcp", "credentials", "cli", "audit"].includes(to)
        )
          violations.push(`${f} imports ${dep}: ${from}/ is a pure core`);
        if (to === "credentials" && !["exec", "mcp", "credentials", "cli"].includes(from))
          violations.push(`${f} imports ${dep}: only exec/, mcp/ and cli/ reach credentials/`);
        if (
          from === "protection" &&
          !["protection", "agents"].includes(to) &&
          !["paths.ts", "package-root.ts", "private-store.ts"].includes(dep)
        )
          violations.push(
            `${f} imports ${dep}: protection/ is a leaf (paths.ts, package-root.ts, private-store.ts and the agents' table only)`,
          );
        if (
          (from === "hook" && to === "contain" && dep !== "contain/check.ts") ||
          (from === "contain" && to === "hook")
        )
          violations.push(`${f} imports ${dep}: contain/ and hook/ share only through protection/`);
        if ((from === "exec" && to === "contain") || (from === "policy" && to === "contain"))
          violations.push(`${f} imports ${dep}: exec/ and policy/ never reach contain/ (install-time settings)`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(all.map((f) => [f, imports(join(SRC, f), false).filter((d) => all.includes(d))]));
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "visiting") {
        cycles.push([...path.slice(path.indexOf(f)), f].join(" → "));
        return;
      }
      state.set(f, "visiting");
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, "done");
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
