/**
 * The MCP tool lock (pure): what a person pinned of each proxied server's
 * tools, and how a server's current tools compare with it. The lockfile,
 * `.claude/downscope-mcp.lock`, is committed with the project; its I/O and
 * its trust (a signed pin of its sha256) are in lock-state.ts.
 *
 * A tool's identity is everything of its definition the client hands the
 * model or uses to decide how to run it: name, title, description, input and
 * output schema, annotations (a flipped `readOnlyHint` can make a client run
 * a destructive tool without asking). `_meta` and `icons` are left out: they
 * are not instructions and may change with no meaning. Tool definitions:
 * https://modelcontextprotocol.io/specification/2025-06-18/server/tools
 *
 * The file is canonical JSON (keys sorted at every depth, two-space indent,
 * a final newline), so the same tools always give the same bytes and a
 * changed description shows as a readable line in a diff.
 */
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { isObj } from "./jsonrpc.js";

export const LOCK_VERSION = 1;
/** Where the lockfile lives, relative to the project root: next to the policy. */
export const LOCK_FILE = ".claude/downscope-mcp.lock";

/** The fields of a tool definition that make up its identity (besides its name). */
export const IDENTITY_FIELDS = ["title", "description", "inputSchema", "outputSchema", "annotations"] as const;
type IdentityField = (typeof IDENTITY_FIELDS)[number];

/** A pinned tool: its identity fields as the server declared them (absent fields are absent). */
export type LockedTool = Partial<Record<IdentityField, unknown>>;

export interface LockFile {
  version: typeof LOCK_VERSION;
  /** Server name (the proxy's `--server NAME`) → tool name → pinned identity. */
  servers: Record<string, { tools: Record<string, LockedTool> }>;
}

/** What a tool is, compared with the lock. */
export type ToolVerdict =
  | { status: "pinned" }
  | { status: "new" }
  | { status: "changed"; fields: IdentityField[] }
  | { status: "unusable"; why: string };

/** A tool's identity from a tools/list entry. */
export function identityOf(tool: Readonly<Record<string, unknown>>): LockedTool {
  const out: LockedTool = {};
  for (const f of IDENTITY_FIELDS) if (tool[f] !== undefined) out[f] = tool[f];
  return out;
}

/** `v` with object keys sorted at every depth (arrays keep their order). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObj(v)) return v;
  // No prototype: a key named `__proto__` (a tool may be called that) stays a key.
  const out = Object.create(null) as Record<string, unknown>;
  for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canonical(v[k]);
  return out;
}

export function canonicalText(v: unknown): string {
  return JSON.stringify(canonical(v), null, 2) + "\n";
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** A tool as the server lists it now, against its pin (undefined: the server is not in the lock, or the tool is not). */
export function verdictOf(current: Readonly<Record<string, unknown>>, pinned: LockedTool | undefined): ToolVerdict {
  if (pinned === undefined) return { status: "new" };
  const now = identityOf(current);
  const fields = IDENTITY_FIELDS.filter((f) => !same(now[f], pinned[f]));
  return fields.length === 0 ? { status: "pinned" } : { status: "changed", fields };
}

/** The lock entry of one server from its tools/list entries (later duplicates of a name win, as a client's map would). */
export function lockServer(tools: readonly Readonly<Record<string, unknown>>[]): { tools: Record<string, LockedTool> } {
  const out: Record<string, LockedTool> = Object.create(null) as Record<string, LockedTool>;
  for (const t of tools) if (typeof t.name === "string") out[t.name] = identityOf(t);
  return { tools: out };
}

export type ParsedLock = { ok: true; lock: LockFile } | { ok: false; line?: number; column?: number; message: string };

/**
 * Reads lockfile text. Strict: anything but the shape `mcp lock` writes is
 * refused with where and why, because a lock that cannot be read must not
 * be half-used.
 */
export function parseLock(text: string): ParsedLock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // JSON.parse's messages differ between Node versions and may not say where: ask a parser that does.
    const errors: ParseError[] = [];
    parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false });
    const at = errors[0]?.offset;
    const before = at === undefined ? "" : text.slice(0, at);
    const why = errors[0] ? printParseErrorCode(errors[0].error) : e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      ...(at !== undefined ? { line: before.split("\n").length, column: at - before.lastIndexOf("\n") } : {}),
      message: `not valid JSON (${why}); the lockfile is written by \`downscope mcp lock\`, do not edit it by hand`,
    };
  }
  if (!isObj(data)) return { ok: false, message: "expected a JSON object with `version` and `servers`" };
  if (data.version !== LOCK_VERSION)
    return {
      ok: false,
      message: `version: expected ${LOCK_VERSION} (got ${JSON.stringify(data.version)}); a newer downscope wrote it, or it was edited`,
    };
  const extra = Object.keys(data).filter((k) => k !== "version" && k !== "servers");
  if (extra.length > 0) return { ok: false, message: `unknown key ${extra.map((k) => `\`${k}\``).join(", ")}` };
  if (!isObj(data.servers)) return { ok: false, message: "servers: expected an object (server name → { tools })" };
  for (const [server, entry] of Object.entries(data.servers)) {
    if (!isObj(entry) || !isObj(entry.tools) || Object.keys(entry).some((k) => k !== "tools"))
      return { ok: false, message: `servers.${server}: expected { "tools": { … } }` };
    for (const [tool, def] of Object.entries(entry.tools)) {
      if (!isObj(def)) return { ok: false, message: `servers.${server}.tools.${tool}: expected an object` };
      const unknown = Object.keys(def).filter((k) => !(IDENTITY_FIELDS as readonly string[]).includes(k));
      if (unknown.length > 0)
        return {
          ok: false,
          message: `servers.${server}.tools.${tool}: unknown field ${unknown.map((k) => `\`${k}\``).join(", ")}`,
        };
    }
  }
  return { ok: true, lock: data as unknown as LockFile };
}

/** Human words for a verdict, for the model and the logs. */
export function describeVerdict(v: ToolVerdict): string {
  switch (v.status) {
    case "pinned":
      return "matches the lock";
    case "new":
      return "is new: it is not in the lock";
    case "changed":
      return `differs from the lock (${v.fields.map((f) => FIELD_WORDS[f]).join(", ")} changed)`;
    case "unusable":
      return `cannot be checked: ${v.why}`;
  }
}

const FIELD_WORDS: Record<IdentityField, string> = {
  title: "title",
  description: "description",
  inputSchema: "input schema",
  outputSchema: "output schema",
  annotations: "annotations",
};

/** One server's drift, tool by tool, between a lock entry and what the server lists now. */
export interface ServerDrift {
  added: string[];
  removed: string[];
  changed: { tool: string; fields: IdentityField[] }[];
}

export function serverDrift(
  pinned: { tools: Record<string, LockedTool> } | undefined,
  now: { tools: Record<string, LockedTool> },
): ServerDrift {
  const before = pinned?.tools ?? {};
  const added = Object.keys(now.tools).filter((t) => !Object.hasOwn(before, t));
  const removed = Object.keys(before).filter((t) => !Object.hasOwn(now.tools, t));
  const changed = Object.keys(now.tools)
    .filter((t) => Object.hasOwn(before, t))
    .map((t) => ({ tool: t, fields: IDENTITY_FIELDS.filter((f) => !same(now.tools[t]![f], before[t]![f])) }))
    .filter((c) => c.fields.length > 0);
  return {
    added: added.sort(),
    removed: removed.sort(),
    changed: changed.sort((a, b) => a.tool.localeCompare(b.tool)),
  };
}

export const hasDrift = (d: ServerDrift) => d.added.length + d.removed.length + d.changed.length > 0;

export function describeDrift(server: string, d: ServerDrift): string {
  const lines = [`${server}:`];
  for (const t of d.added) lines.push(`  + ${t}: new tool`);
  for (const t of d.removed) lines.push(`  - ${t}: no longer listed`);
  for (const c of d.changed) lines.push(`  ~ ${c.tool}: ${c.fields.map((f) => FIELD_WORDS[f]).join(", ")} changed`);
  return lines.join("\n");
}
