/**
 * Pure stage of config loading: text → validated Config, or issues with
 * file, line, column and path. No I/O here; see load.ts for the file side.
 */
import { isMap, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import type { ConfigIssue } from "../errors.js";
import { ConfigSchema, type Config } from "./schema.js";

export type ParseResult =
  { ok: true; config: Config; doc: Document; lineCounter: LineCounter } | { ok: false; issues: ConfigIssue[] };

export function parseConfig(text: string, file: string): ParseResult {
  if (text.trim() === "") {
    return fail(file, "", "the file is empty; it needs at least `version: 1` and a `services:` map", 1, 1);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: "", message: `invalid YAML: ${firstLine(e.message)}` };
      }),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return fail(file, "", "expected a mapping at the top level (`version: 1`, `services: ...`)", 1, 1);
  }
  const result = ConfigSchema.safeParse(data, { reportInput: true });
  if (result.success) {
    const issues = checkRegexes(result.data, doc, lineCounter, file);
    if (issues.length > 0) return { ok: false, issues };
    return { ok: true, config: result.data, doc, lineCounter };
  }
  return { ok: false, issues: result.error.issues.map((i) => toIssue(i, doc, lineCounter, file)) };
}

function fail(file: string, path: string, message: string, line?: number, column?: number): ParseResult {
  return { ok: false, issues: [{ file, path, message, line, column }] };
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** Positions for a document path; falls back to the nearest existing parent. */
export function positionOf(
  doc: Document,
  lc: LineCounter,
  path: readonly PropertyKey[],
  key = false,
): { line: number; column: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const p = path.slice(0, n) as (string | number)[];
    if (key && n === path.length && n > 0) {
      const parent = doc.getIn(p.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => String((it.key as { value?: unknown })?.value) === String(p[n - 1]));
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return toPos(lc, range[0]);
      }
      continue;
    }
    const node = p.length === 0 ? doc.contents : doc.getIn(p, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return toPos(lc, range[0]);
  }
  return undefined;
}

function toPos(lc: LineCounter, offset: number) {
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function toIssue(i: z.core.$ZodIssue, doc: Document, lc: LineCounter, file: string): ConfigIssue {
  if (i.code === "unrecognized_keys") {
    const key = i.keys[0] ?? "";
    const known = knownKeysAt(i.path);
    const guess = didYouMean(key, known);
    const pos = positionOf(doc, lc, [...i.path, key], true);
    const keys = i.keys.map((k) => `"${k}"`).join(", ");
    return {
      file,
      ...pos,
      path: formatPath(i.path),
      message:
        `unknown key ${keys}` +
        (guess ? `; did you mean "${guess}"?` : known.length ? `; expected one of: ${known.join(", ")}` : ""),
    };
  }
  const pos = positionOf(doc, lc, i.path);
  return { file, ...pos, path: formatPath(i.path), message: describeIssue(i) };
}

function describeIssue(i: z.core.$ZodIssue): string {
  if (i.code === "invalid_value")
    return i.input === undefined
      ? `required (${i.values.map(String).join(" | ")})`
      : `expected ${i.values.map(String).join(" | ")}`;
  if (i.code === "invalid_type")
    return i.input === undefined ? `required (${i.expected})` : `expected ${i.expected}, got ${typeName(i.input)}`;
  return i.message;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Keys that the schema accepts at a given path, for did-you-mean. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const shape = (s: unknown): string[] => {
    // zod 4: objects expose .shape; effects wrap them in .def.innerType / .in
    let cur = s as { shape?: Record<string, unknown>; def?: Record<string, unknown>; unwrap?: () => unknown };
    for (let depth = 0; depth < 10 && cur; depth++) {
      if (cur.shape) return Object.keys(cur.shape);
      const def = cur.def ?? {};
      cur = (def.innerType ?? def.in ?? def.schema ?? def.element ?? def.valueType) as typeof cur;
    }
    return [];
  };
  let schema: unknown = ConfigSchema;
  for (const p of path) {
    let cur = schema as { shape?: Record<string, unknown>; def?: Record<string, unknown> };
    for (
      let depth = 0;
      depth < 10 && cur && !cur.shape && cur.def?.type !== "record" && cur.def?.type !== "array";
      depth++
    ) {
      cur = (cur.def?.innerType ?? cur.def?.in ?? cur.def?.schema) as typeof cur;
    }
    if (!cur) return [];
    if (cur.shape) schema = cur.shape[String(p)];
    else if (cur.def?.type === "record") schema = cur.def.valueType;
    else if (cur.def?.type === "array") schema = cur.def.element;
  }
  return shape(schema);
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Regexes are compiled at load time so a bad one is a config error, not a runtime surprise. */
function checkRegexes(config: Config, doc: Document, lc: LineCounter, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (pattern: string, path: (string | number)[]) => {
    try {
      new RegExp(pattern);
    } catch (e) {
      issues.push({
        file,
        ...positionOf(doc, lc, path),
        path: formatPath(path),
        message: `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`,
      });
    }
  };
  for (const [name, svc] of Object.entries(config.services)) {
    svc.rules.forEach((r, i) => {
      if (r.match.args_pattern !== undefined)
        check(r.match.args_pattern, ["services", name, "rules", i, "match", "args_pattern"]);
      for (const [arg, re] of Object.entries(r.match.arguments ?? {}))
        check(re, ["services", name, "rules", i, "match", "arguments", arg]);
    });
  }
  return issues;
}
