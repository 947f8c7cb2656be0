/**
 * `downscope install mcp [--path FILE | --client NAME [--scope user|project]] --server NAME [--dry-run]`
 * `downscope uninstall mcp [--path FILE | --client ...] --server NAME [--dry-run]`
 *
 * Rewrites one stdio server entry of an MCP client config so it runs through
 * `downscope mcp-proxy --server NAME -- <original command> <original args>`.
 * The original file text and entry are kept in downscope's state directory;
 * uninstall writes the original text back byte for byte when the file has not
 * changed since, else puts the original entry back in place.
 *
 * Desktop apps (Claude Desktop) start servers without a shell and with a
 * minimal PATH, where `downscope` is usually not found: their entry names
 * this node and this package's bin by absolute path. The original command
 * (`npx …`) is left as it was: it already ran with that PATH.
 */
import { lineDiff } from "./unified-diff.js";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { claudeDesktopConfigPath, stateHome, type Env } from "../paths.js";
import type { Command, Io } from "../io.js";

interface Client {
  /** The project file, relative to the working directory. */
  project?: string;
  /** The user-wide file. */
  user?: (env: Env) => string;
  key: "mcpServers" | "servers";
  /** Started by a desktop app: name node and downscope by absolute path. */
  desktop?: boolean;
}

const home = (env: Env) => env.HOME ?? "";

export { claudeDesktopConfigPath as claudeDesktopConfig };

/** The config files of the clients we know, and the key their servers live under. */
export const CLIENTS: Record<string, Client> = {
  claude: { project: ".mcp.json", key: "mcpServers" },
  "claude-desktop": { user: claudeDesktopConfigPath, key: "mcpServers", desktop: true },
  cursor: { project: ".cursor/mcp.json", user: (env) => join(home(env), ".cursor", "mcp.json"), key: "mcpServers" },
  gemini: {
    project: ".gemini/settings.json",
    user: (env) => join(home(env), ".gemini", "settings.json"),
    key: "mcpServers",
  },
  vscode: { project: ".vscode/mcp.json", key: "servers" },
};

const CLIENT_NAMES = Object.keys(CLIENTS).join("|");
const USAGE =
  `usage: downscope install mcp [--path FILE | --client ${CLIENT_NAMES} [--scope user|project]] --server NAME [--dry-run]\n` +
  `       downscope uninstall mcp [--path FILE | --client ${CLIENT_NAMES} [--scope user|project]] --server NAME [--dry-run]\n` +
  "  --client   whose config: claude (.mcp.json, the default), claude-desktop (claude_desktop_config.json),\n" +
  "             cursor (.cursor/mcp.json; --scope user: ~/.cursor/mcp.json), gemini (.gemini/settings.json;\n" +
  "             --scope user: ~/.gemini/settings.json), vscode (.vscode/mcp.json)\n" +
  "  --path     any MCP client JSON file with a mcpServers or servers object\n" +
  "  --server   the entry to route through downscope; also the policy's `server:` name\n" +
  "  --dry-run  print the change as a diff and write nothing";

interface Options {
  file: string;
  server: string;
  dryRun: boolean;
  /** Name node and downscope by absolute path (desktop apps). */
  absolute: boolean;
}

function parseOptions(argv: readonly string[], io: Io): Options {
  let path: string | undefined;
  let client: string | undefined;
  let server: string | undefined;
  let scope: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const [name, inline] = a.startsWith("--") && eq !== -1 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${name} needs a value\n${USAGE}`);
      return v;
    };
    if (name === "--help" || name === "-h") throw new HelpRequested(USAGE);
    if (name === "--path") path = value();
    else if (name === "--client") client = value();
    else if (name === "--server") server = value();
    else if (name === "--scope") scope = value();
    else if (name === "--dry-run") dryRun = true;
    else throw new UsageError(`unknown option ${a}\n${USAGE}`);
  }
  if (server === undefined) throw new UsageError(`--server NAME is required\n${USAGE}`);
  if (path !== undefined && client !== undefined) throw new UsageError(`give --path or --client, not both\n${USAGE}`);
  if (path !== undefined && scope !== undefined)
    throw new UsageError(`--scope goes with --client, not --path\n${USAGE}`);
  if (scope !== undefined && scope !== "user" && scope !== "project")
    throw new UsageError(`--scope must be user or project (got "${scope}")\n${USAGE}`);
  const name = client ?? "claude";
  const c = CLIENTS[name];
  if (c === undefined)
    throw new UsageError(`unknown client "${name}"; known: ${Object.keys(CLIENTS).join(", ")}\n${USAGE}`);
  if (path !== undefined) return { file: resolve(io.cwd, path), server, dryRun, absolute: false };
  const want = scope ?? (c.project !== undefined ? "project" : "user");
  const file = want === "user" ? c.user?.(io.env) : c.project !== undefined ? resolve(io.cwd, c.project) : undefined;
  if (file === undefined)
    throw new UsageError(
      `${name} has no ${want} MCP config file; ${c.project ? "drop --scope" : "use --scope user"}\n${USAGE}`,
    );
  return { file, server, dryRun, absolute: c.desktop === true };
}

class HelpRequested extends Error {}

type Json = Record<string, unknown>;
interface Loaded {
  text: string;
  root: Json;
  servers: Json;
  key: string;
}

function load(file: string): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === "ENOENT"
        ? `${file} does not exist: add the server to your MCP client first, or name the file with --path`
        : `cannot read ${file} (${code ?? "error"})`,
    );
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? Number(pos[1]) : undefined;
    const before = at === undefined ? "" : text.slice(0, at);
    throw new ConfigError([
      {
        file,
        ...(at !== undefined ? { line: before.split("\n").length, column: at - before.lastIndexOf("\n") } : {}),
        path: "",
        message: `not valid JSON (${msg.replace(/ in JSON at position.*$/, "")}); comments are not supported here: remove them or edit the entry by hand`,
      },
    ]);
  }
  if (typeof root !== "object" || root === null || Array.isArray(root))
    throw new ConfigError([{ file, path: "", message: "expected a JSON object" }]);
  const obj = root as Json;
  const key = ["mcpServers", "servers"].find((k) => typeof obj[k] === "object" && obj[k] !== null);
  if (key === undefined)
    throw new ConfigError([
      { file, path: "", message: "no `mcpServers` (or `servers`) object: is this an MCP client config?" },
    ]);
  return { text, root: obj, servers: obj[key] as Json, key };
}

function entryOf(l: Loaded, o: Options): Json {
  const e = l.servers[o.server];
  if (typeof e !== "object" || e === null || Array.isArray(e)) {
    const names = Object.keys(l.servers);
    throw new UsageError(
      `${o.file} has no server "${o.server}" under ${l.key}; it has: ${names.join(", ") || "(none)"}`,
    );
  }
  return e as Json;
}

function isProxied(e: Json): boolean {
  if (typeof e.command !== "string" || !Array.isArray(e.args)) return false;
  if (/^downscope(\.js|\.cmd)?$/.test(basename(e.command))) return e.args[0] === "mcp-proxy";
  // node <…/bin/downscope.js> mcp-proxy … (a desktop app's entry)
  return typeof e.args[0] === "string" && basename(e.args[0]) === "downscope.js" && e.args[1] === "mcp-proxy";
}

/** Indentation of the original file (first indented line), so the rewrite looks the same. */
function indentOf(text: string): string | number {
  const m = /\n([ \t]+)\S/.exec(text);
  return m ? m[1]! : 2;
}

/**
 * The file with only the value at `key.server` replaced: every other byte
 * stays as it was. Falls back to re-serialising the whole document if the
 * value cannot be located (duplicate keys and the like).
 */
function replaceEntry(l: Loaded, server: string, entry: Json): string {
  const span = valueSpan(l.text, [l.key, server]);
  if (!span) {
    l.servers[server] = entry;
    return JSON.stringify(l.root, null, indentOf(l.text)) + (l.text.endsWith("\n") ? "\n" : "");
  }
  const [start, end] = span;
  const original = l.text.slice(start, end);
  let replacement: string;
  if (!original.includes("\n")) {
    replacement = JSON.stringify(entry, null, 1).replace(/\n\s*/g, " ");
  } else {
    const lineStart = l.text.lastIndexOf("\n", start - 1) + 1;
    const base = /^[ \t]*/.exec(l.text.slice(lineStart))![0];
    replacement = JSON.stringify(entry, null, indentOf(l.text)).replace(/\n/g, `\n${base}`);
  }
  return l.text.slice(0, start) + replacement + l.text.slice(end);
}

/** Start and end offsets of the value at a path of object keys in JSON text (last duplicate wins, as in JSON.parse). */
export function valueSpan(text: string, path: readonly string[]): [number, number] | undefined {
  const STR = /"(?:[^"\\]|\\.)*"/y;
  const LIT = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const match = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new Error("bad JSON");
    i += m[0].length;
    return m[0];
  };
  const skipValue = (): void => {
    ws();
    const c = text[i];
    if (c === '"') return void match(STR);
    if (c !== "{" && c !== "[") return void match(LIT);
    let depth = 0;
    do {
      const d = text[i];
      if (d === '"') {
        match(STR);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") depth--;
      i++;
    } while (depth > 0 && i < text.length);
  };
  const walk = (rest: readonly string[]): [number, number] | undefined => {
    ws();
    if (rest.length === 0) {
      const start = i;
      skipValue();
      return [start, i];
    }
    if (text[i] !== "{") return undefined;
    i++;
    let found: [number, number] | undefined;
    for (;;) {
      ws();
      if (text[i] === "}") return found;
      const key = JSON.parse(match(STR)) as string;
      ws();
      if (text[i] !== ":") return undefined;
      i++;
      if (key === rest[0]) {
        const save = i;
        const inner = walk(rest.slice(1));
        if (inner) found = inner;
        i = save;
      }
      skipValue();
      ws();
      if (text[i] === ",") i++;
      else if (text[i] === "}") return found;
      else return undefined;
    }
  };
  try {
    return walk(path);
  } catch {
    return undefined;
  }
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** Where install keeps the original of one (file, server). */
function recordPath(io: Io, o: Options): string {
  return join(stateHome(io.env), "mcp-install", `${sha256(`${o.file}\0${o.server}`).slice(0, 24)}.json`);
}

interface InstallRecord {
  file: string;
  server: string;
  /** The whole file before install. */
  originalText: string;
  /** The entry before install. */
  originalEntry: Json;
  /** The entry's exact text before install, put back verbatim by uninstall. */
  originalEntryText?: string;
  /** sha256 of the text install wrote. */
  writtenSha256: string;
}

function writeAtomic(file: string, text: string): void {
  let mode = 0o644;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    // new file
  }
  const tmp = join(dirname(file), `.${basename(file)}.downscope-${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** `--help` prints the usage on stderr and exits 0. */
function withHelp(cmd: Command): Command {
  return async (argv, io) => {
    try {
      return await cmd(argv, io);
    } catch (e) {
      if (!(e instanceof HelpRequested)) throw e;
      io.stderr(`${e.message}\n`);
      return 0;
    }
  };
}

export const install: Command = withHelp(async (argv, io) => {
  const o = parseOptions(argv, io);
  const l = load(o.file);
  const entry = entryOf(l, o);
  if (isProxied(entry)) {
    io.stderr(`downscope: ${o.server} in ${o.file} already runs through downscope mcp-proxy; nothing to do\n`);
    return 0;
  }
  if (typeof entry.command !== "string" || ("type" in entry && entry.type !== "stdio") || "url" in entry) {
    throw new UsageError(
      `${o.server} in ${o.file} is not a stdio server (it has ${"url" in entry ? "a url" : "no command"}): only stdio servers can run through downscope mcp-proxy`,
    );
  }
  const original = structuredClone(entry);
  const args = Array.isArray(entry.args) ? (entry.args as unknown[]) : [];
  const proxyArgs = ["mcp-proxy", "--server", o.server, "--", original.command, ...args];
  const proxied: Json = o.absolute
    ? { ...entry, command: process.execPath, args: [join(packageRoot(), "bin", "downscope.js"), ...proxyArgs] }
    : { ...entry, command: "downscope", args: proxyArgs };
  const span = valueSpan(l.text, [l.key, o.server]);
  const next = replaceEntry(l, o.server, proxied);
  if (o.dryRun) {
    io.stdout(unifiedDiff(l.text, next, o.file));
    return 0;
  }
  const record: InstallRecord = {
    file: o.file,
    server: o.server,
    originalText: l.text,
    originalEntry: original,
    ...(span ? { originalEntryText: l.text.slice(span[0], span[1]) } : {}),
    writtenSha256: sha256(next),
  };
  const rec = recordPath(io, o);
  mkdirSync(dirname(rec), { recursive: true, mode: 0o700 });
  writeFileSync(rec, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  writeAtomic(o.file, next);
  io.stderr(
    `downscope: ${o.server} in ${o.file} now runs through \`downscope mcp-proxy --server ${o.server}\`.\n` +
      `  backup of the original: ${rec}\n` +
      `  rules: add a service with \`server: ${o.server}\` to .claude/downscoping.yaml (see docs/mcp.md)\n` +
      `  undo: downscope uninstall mcp --path ${o.file} --server ${o.server}\n`,
  );
  return 0;
});

export const uninstall: Command = withHelp(async (argv, io) => {
  const o = parseOptions(argv, io);
  const l = load(o.file);
  const entry = entryOf(l, o);
  const rec = recordPath(io, o);
  let record: InstallRecord | undefined;
  try {
    record = JSON.parse(readFileSync(rec, "utf8")) as InstallRecord;
  } catch {
    record = undefined;
  }
  if (!isProxied(entry)) {
    io.stderr(`downscope: ${o.server} in ${o.file} does not run through downscope; nothing to do\n`);
    if (!o.dryRun && record) rmSync(rec, { force: true });
    return 0;
  }
  let next: string;
  let how: string;
  const span = valueSpan(l.text, [l.key, o.server]);
  if (record && sha256(l.text) === record.writtenSha256) {
    next = record.originalText;
    how = "restored the file exactly as it was before install";
  } else if (record?.originalEntryText !== undefined && span) {
    next = l.text.slice(0, span[0]) + record.originalEntryText + l.text.slice(span[1]);
    how = "restored the entry exactly as it was before install";
  } else {
    const restored = record ? record.originalEntry : fromProxyArgs(entry, o);
    next = replaceEntry(l, o.server, restored);
    how = record
      ? "the file changed since install: restored the original entry, the rest as it is now"
      : "no install record: restored the command from the proxy's command line";
  }
  if (o.dryRun) {
    io.stdout(unifiedDiff(l.text, next, o.file));
    return 0;
  }
  writeAtomic(o.file, next);
  rmSync(rec, { force: true });
  io.stderr(`downscope: ${o.server} in ${o.file} no longer runs through downscope (${how})\n`);
  return 0;
});

function fromProxyArgs(entry: Json, o: Options): Json {
  const args = entry.args as unknown[];
  const sep = args.indexOf("--");
  const [command, ...rest] = sep === -1 ? [] : args.slice(sep + 1);
  if (typeof command !== "string")
    throw new UsageError(`${o.server} in ${o.file}: cannot find the original command after "--" in its args`);
  return { ...entry, command, args: rest };
}

/** The dry-run diff of an MCP client file. */
export function unifiedDiff(a: string, b: string, file: string): string {
  return lineDiff(a, b, file, `${file} (downscope)`);
}
