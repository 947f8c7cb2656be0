/**
 * Session policies for `suggest` (pure): the current document narrowed to the
 * actions that were used, and wildcard-compressed when it would exceed the
 * 2,048-character plaintext limit of STS (src/policy/iam.ts).
 */
import { minifyPolicy, SESSION_POLICY_MAX_CHARS } from "../policy/iam.js";
import type { IamPolicy } from "../policy/schema.js";

type Statement = Record<string, unknown>;

export interface Narrowed {
  doc: IamPolicy;
  /** Per statement of `doc`: the Action patterns of the current statement it came from (undefined: no ceiling known). */
  ceilings: (string[] | undefined)[];
  /** Actions no Allow statement of the current document grants. */
  dropped: string[];
}

const list = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** IAM action matching: case-insensitive, `*` any run, `?` one character. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    "^" +
      pattern
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("") +
      "$",
    "i",
  );
  return re.test(action);
}

/**
 * Each Allow statement of `current` keeps its Resource, NotResource and
 * Condition and only the `used` actions it grants; Deny statements stay as
 * they are. Without a current document: one statement, Resource "*".
 */
export function narrowSessionPolicy(current: IamPolicy | undefined, used: readonly string[]): Narrowed {
  if (current === undefined)
    return {
      doc: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [...used], Resource: "*" }] },
      ceilings: [undefined],
      dropped: [],
    };
  const statements: Statement[] = Array.isArray(current.Statement) ? current.Statement : [current.Statement];
  const out: Statement[] = [];
  const ceilings: (string[] | undefined)[] = [];
  const granted = new Set<string>();
  for (const st of statements) {
    if (st.Effect === "Deny") {
      out.push(st);
      ceilings.push([]);
      continue;
    }
    if (st.Effect !== "Allow") continue;
    const actions =
      st.Action !== undefined
        ? used.filter((a) => list(st.Action).some((p) => actionMatches(p, a)))
        : st.NotAction !== undefined
          ? used.filter((a) => !list(st.NotAction).some((p) => actionMatches(p, a)))
          : [];
    if (actions.length === 0) continue;
    for (const a of actions) granted.add(a);
    const next: Statement = {};
    if (st.Sid !== undefined) next.Sid = st.Sid;
    next.Effect = "Allow";
    next.Action = actions;
    for (const k of ["Resource", "NotResource", "Condition"]) if (st[k] !== undefined) next[k] = st[k];
    out.push(next);
    // A NotAction statement gives no pattern to compress within.
    ceilings.push(st.Action !== undefined ? list(st.Action) : []);
  }
  return {
    doc: { Version: current.Version ?? "2012-10-17", Statement: out },
    ceilings,
    dropped: used.filter((a) => !granted.has(a)),
  };
}

export interface Packed {
  doc: IamPolicy;
  size: number;
  /** The wildcards that replaced explicit actions. */
  compressed: string[];
}

const covered = (wildcard: string, ceiling: string[] | undefined) =>
  ceiling === undefined ||
  ceiling.some(
    (p) => p === "*" || (p.endsWith("*") && wildcard.toLowerCase().startsWith(p.slice(0, -1).toLowerCase())),
  );

/**
 * Replaces groups of actions sharing a service and verb (`ec2:DescribeInstances`,
 * `ec2:DescribeVpcs` → `ec2:Describe*`) until the minified document fits,
 * read verbs first, and only where the wildcard stays inside the current
 * statement's own patterns (never wider than what was allowed before).
 */
export function compressActions(n: Narrowed): Packed {
  const statements = (Array.isArray(n.doc.Statement) ? n.doc.Statement : [n.doc.Statement]).map((s) => ({ ...s }));
  const doc: IamPolicy = { ...n.doc, Statement: statements };
  const compressed: string[] = [];
  const size = () => minifyPolicy(doc).length;
  const passes: ((verb: string, count: number) => boolean)[] = [
    (v, c) => c >= 2 && /^(Describe|Get|List)$/.test(v),
    (_v, c) => c >= 2,
    () => true,
  ];
  for (const pass of passes) {
    if (size() <= SESSION_POLICY_MAX_CHARS) break;
    statements.forEach((st, i) => {
      if (st.Effect !== "Allow" || !Array.isArray(st.Action)) return;
      const groups = new Map<string, string[]>();
      for (const a of st.Action as string[]) {
        const m = /^([a-z0-9-]+):([A-Z][a-z0-9]*)/.exec(a);
        if (!m || a.includes("*")) continue;
        const key = `${m[1]}:${m[2]}*`;
        groups.set(key, [...(groups.get(key) ?? []), a]);
      }
      let actions = st.Action as string[];
      for (const [wildcard, members] of groups) {
        const verb = wildcard.slice(wildcard.indexOf(":") + 1, -1);
        if (!pass(verb, members.length) || !covered(wildcard, n.ceilings[i])) continue;
        actions = [...actions.filter((a) => !members.includes(a)), wildcard];
        compressed.push(wildcard);
      }
      st.Action = actions.sort();
    });
  }
  return { doc, size: size(), compressed: [...new Set(compressed)].sort() };
}
