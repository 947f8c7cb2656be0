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
 *
 * `--move-secrets` also moves each plaintext secret of the entry's `env`
 * (src/scan/secrets.ts) into a downscope slot — the system keyring, else a
 * 0600 file — and names it in the proxy's `--env-slot VAR=SLOT`, so the
 * config holds none; the proxy gives it to this server's instances only
 * (src/mcp/moved-secrets.ts). The diff shown and the install record hold a
 * fingerprint or a placeholder, never the value; uninstall reads the values
 * back from their slots to restore the file byte for byte, then removes them.
 */
import { lineDiff } from "./unified-diff.js";
import { createHash } from "node:crypto";
import { readSlotToken } from "../credentials/token-sources.js";
import { removeStored, storeInKeyring, writeSlotFile } from "../credentials/slot-store.js";
import {
  bindingPath,
  movedSecretsDir,
  parseEnvSlot,
  slotNameFor,
  upstreamHash,
  type MovedSecretBinding,
} from "../mcp/moved-secrets.js";
import { ensurePrivateDir, readPrivateJson } from "../private-store.js";
import { namedSecret } from "../scan/secrets.js";
import { proxiedUpstream } from "../scan/findings.js";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, CredentialUnavailable, UsageError } from "../errors.js";
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
  `usage: downscope install mcp [--path FILE | --client ${CLIENT_NAMES} [--scope user|project]] --server NAME [--move-secrets] [--dry-run]\n` +
  `       downscope uninstall mcp [--path FILE | --client ${CLIENT_NAMES} [--scope user|project]] --server NAME [--dry-run]\n` +
  "  --client   whose config: claude (.mcp.json, the default), claude-desktop (claude_desktop_config.json),\n" +
  "             cursor (.cursor/mcp.json; --scope user: ~/.cursor/mcp.json), gemini (.gemini/settings.json;\n" +
  "             --scope user: ~/.gemini/settings.json), vscode (.vscode/mcp.json)\n" +
  "  --path     any MCP client JSON file with a mcpServers or servers object\n" +
  "  --server   the entry to route through downscope; also the policy's `server:` name\n" +
  "  --move-secrets  also move the plaintext secrets of its env into downscope slots (keyring, else a 0600\n" +
  "             file in ~/.config/downscope/slots): the config then holds none, the proxy gives them to this server\n" +
  "  --dry-run  print the change as a diff and write nothing";

interface Options {
  file: string;
  server: string;
  dryRun: boolean;
  /** Name node and downscope by absolute path (desktop apps). */
  absolute: boolean;
  moveSecrets: boolean;
}

function parseOptions(argv: readonly string[], io: Io): Options {
  let path: string | undefined;
  let client: string | undefined;
  let server: string | undefined;
  let scope: string | undefined;
  let dryRun = false;
  let moveSecrets = false;
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
    else if (name === "--move-secrets") moveSecrets = true;
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
  if (path !== undefined) return { file: resolve(io.cwd, path), server, dryRun, absolute: false, moveSecrets };
  const want = scope ?? (c.project !== undefined ? "project" : "user");
  const file = want === "user" ? c.user?.(io.env) : c.project !== undefined ? resolve(io.cwd, c.project) : undefined;
  if (file === undefined)
    throw new UsageError(
      `${name} has no ${want} MCP config file; ${c.project ? "drop --scope" : "use --scope user"}\n${USAGE}`,
    );
  return { file, server, dryRun, absolute: c.desktop === true, moveSecrets };
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
  /**
   * --move-secrets: the secrets moved into slots. The texts and entry above
   * then hold `"@@downscope-moved-secret:SLOT@@"` where each value was, never
   * the value; uninstall puts the value back from the slot.
   */
  moved?: { env: string; slot: string }[];
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
  if (o.moveSecrets) return moveSecrets(o, l, entry, io);
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
  // Secrets moved out by --move-secrets go back from their slots (shown as placeholders, never as values).
  const moved = record?.moved ?? [];
  const values = new Map(moved.map((m) => [m.slot, readMoved(io, m)]));
  if (o.dryRun) {
    io.stdout(
      unifiedDiff(
        l.text,
        fillMoved(next, (slot) => `[the secret kept in slot ${slot}]`),
        o.file,
      ),
    );
    return 0;
  }
  writeAtomic(
    o.file,
    fillMoved(next, (slot) => values.get(slot)!.value),
  );
  rmSync(rec, { force: true });
  for (const m of moved) {
    const v = values.get(m.slot)!;
    removeStored(io.env, v.source);
    rmSync(bindingPath(io.env, m.slot), { force: true });
  }
  io.stderr(
    `downscope: ${o.server} in ${o.file} no longer runs through downscope (${how})` +
      (moved.length > 0
        ? `; ${moved.map((m) => m.env).join(", ")} put back from downscope's slots, which are removed`
        : "") +
      "\n",
  );
  return 0;
});

// ---------------------------------------------------------------- --move-secrets

const MARK = (slot: string) => `@@downscope-moved-secret:${slot}@@`;

/** `text` with each moved secret's placeholder (a JSON string) replaced by the JSON string of `value(slot)`. */
function fillMoved(text: string, value: (slot: string) => string): string {
  return text.replace(/"@@downscope-moved-secret:([A-Za-z0-9_.-]+)@@"/g, (_, slot: string) =>
    JSON.stringify(value(slot)),
  );
}

/** A moved secret's value and where it is kept, from its binding record; refuses (changing nothing) if it cannot be read. */
function readMoved(io: Io, m: { env: string; slot: string }) {
  const b = readPrivateJson<MovedSecretBinding>(bindingPath(io.env, m.slot));
  if (b === undefined)
    throw new CredentialUnavailable(
      `cannot put ${m.env} back: the record of slot "${m.slot}" (${bindingPath(io.env, m.slot)}) is gone; nothing was changed. Restore the entry by hand`,
    );
  const { value } = readSlotToken(m.slot, b.source, io.env, io.cwd);
  return { value, source: b.source };
}

interface Secret {
  env: string;
  value: string;
  slot: string;
  /** Where its JSON string literal is in the file. */
  span: [number, number];
}

/**
 * The entry's command line changed since its secrets were moved (a new
 * package version): bind its slots to the command it has now, after the
 * person confirmed it (install's diff step shows what changes). Undefined
 * when no slot of the entry is bound to another command.
 */
function rebind(o: Options, args: readonly string[], io: Io): number | undefined {
  const p = proxiedUpstream({
    command: "downscope",
    args: ["mcp-proxy", ...args.slice(args.indexOf("mcp-proxy") + 1)],
  });
  if (p?.command === undefined) return undefined;
  const upstream = { file: p.command, args: p.args };
  const stale: { name: string; slot: string; b: MovedSecretBinding }[] = [];
  for (let i = 0; i < p.options.length; i++) {
    const a = p.options[i]!;
    const spec =
      a === "--env-slot" ? p.options[++i] : a.startsWith("--env-slot=") ? a.slice("--env-slot=".length) : undefined;
    const parsed = spec === undefined ? undefined : parseEnvSlot(spec);
    if (parsed === undefined) continue;
    const b = readPrivateJson<MovedSecretBinding>(bindingPath(io.env, parsed.slot));
    if (b?.server === o.server && b.env === parsed.name && b.upstream_sha256 !== upstreamHash(upstream))
      stale.push({ ...parsed, b });
  }
  if (stale.length === 0) return undefined;
  const now = [upstream.file, ...upstream.args].join(" ");
  if (o.dryRun) {
    for (const x of stale)
      io.stdout(
        `# ${x.name} (slot ${x.slot}) was given to ${x.b.upstream ? `\`${x.b.upstream.join(" ")}\`` : "another command"}; it will be given to \`${now}\`\n`,
      );
    return 0;
  }
  for (const x of stale)
    writeBinding(io, { ...x.b, upstream_sha256: upstreamHash(upstream), upstream: [upstream.file, ...upstream.args] });
  io.stderr(`downscope: ${stale.map((x) => x.name).join(", ")} of ${o.server} now go to \`${now}\`\n`);
  return 0;
}

function writeBinding(io: Io, binding: MovedSecretBinding): void {
  ensurePrivateDir(movedSecretsDir(io.env));
  const path = bindingPath(io.env, binding.slot);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(binding, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}

/** `text` with each secret's JSON string literal replaced by `with(secret)` (spans from the end, so offsets hold). */
function replaceSecrets(text: string, secrets: readonly Secret[], by: (x: Secret) => string): string {
  let out = text;
  for (const x of [...secrets].sort((a, b) => b.span[0] - a.span[0]))
    out = out.slice(0, x.span[0]) + by(x) + out.slice(x.span[1]);
  return out;
}

const secretFingerprint = (value: string) => `sha256:${sha256(value).slice(0, 12)}`;

/**
 * `install mcp --move-secrets`: the plaintext secrets of the entry's env go
 * into slots, the entry runs through the proxy with `--env-slot VAR=SLOT` for
 * each, and its env keeps the rest.
 */
async function moveSecrets(o: Options, l: Loaded, entry: Json, io: Io): Promise<number> {
  const proxied = isProxied(entry);
  if (!proxied && (typeof entry.command !== "string" || ("type" in entry && entry.type !== "stdio") || "url" in entry))
    throw new UsageError(
      `${o.server} in ${o.file} is not a stdio server: only a stdio server's environment can be given to it by downscope mcp-proxy`,
    );
  const env =
    typeof entry.env === "object" && entry.env !== null && !Array.isArray(entry.env) ? (entry.env as Json) : {};
  const secrets: Secret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== "string" || namedSecret(name, value) === undefined) continue;
    if (/[\r\n\0]/.test(value) || value !== value.trim())
      throw new UsageError(
        `${o.server} in ${o.file}: ${name} has line breaks or surrounding spaces, which a slot cannot keep exactly; move it by hand`,
      );
    const span = valueSpan(l.text, [l.key, o.server, "env", name]);
    if (span === undefined)
      throw new UsageError(
        `${o.server} in ${o.file}: cannot find where ${name} is written (duplicate keys?); move it by hand`,
      );
    if (l.text.slice(span[0], span[1]) !== JSON.stringify(value))
      io.stderr(
        `downscope: ${o.server}: ${name} is written with JSON escapes; uninstall will put it back unescaped (same value, other bytes)\n`,
      );
    secrets.push({ env: name, value, slot: slotNameFor(o.server, name), span });
  }
  const args = Array.isArray(entry.args) ? entry.args.filter((a): a is string => typeof a === "string") : [];
  args.forEach((a, i) => {
    if (namedSecret("arg", a) !== undefined)
      io.stderr(
        `downscope: ${o.server}: args[${i}] looks like a secret too; downscope moves only env values (make the server read it from a variable)\n`,
      );
  });
  if (secrets.length === 0 && proxied) {
    const rebound = rebind(o, args, io);
    if (rebound !== undefined) return rebound;
  }
  if (secrets.length === 0) {
    io.stderr(
      `downscope: ${o.server} in ${o.file} has no plaintext secret in its env; nothing to move` +
        (proxied ? "\n" : ` (to route it through the proxy: downscope install mcp --server ${o.server})\n`),
    );
    return 0;
  }

  // The new entry: through the proxy, each moved variable named by --env-slot, the rest of env kept.
  const flags = secrets.flatMap((x) => ["--env-slot", `${x.env}=${x.slot}`]);
  const kept = Object.fromEntries(Object.entries(env).filter(([k]) => !secrets.some((x) => x.env === k)));
  const next: Json = { ...entry, env: kept };
  if (Object.keys(kept).length === 0) delete next.env;
  let upstream: { file: string; args: string[] };
  if (proxied) {
    const sep = args.indexOf("--");
    const p = proxiedUpstream({ command: entry.command as string, args });
    if (p?.command === undefined || sep === -1)
      throw new UsageError(`${o.server} in ${o.file}: its proxy command has no upstream command after --`);
    upstream = { file: p.command, args: p.args };
    next.args = [...args.slice(0, sep), ...flags, ...args.slice(sep)];
  } else {
    upstream = { file: entry.command as string, args };
    const proxyArgs = ["mcp-proxy", "--server", o.server, ...flags, "--", upstream.file, ...upstream.args];
    next.command = o.absolute ? process.execPath : "downscope";
    next.args = o.absolute ? [join(packageRoot(), "bin", "downscope.js"), ...proxyArgs] : proxyArgs;
  }
  const nextText = replaceEntry(l, o.server, next);
  if (o.dryRun) {
    const masked = replaceSecrets(l.text, secrets, (x) => JSON.stringify(`[secret ${secretFingerprint(x.value)}]`));
    io.stdout(unifiedDiff(masked, nextText, o.file));
    for (const x of secrets)
      io.stdout(
        `# ${x.env} (${secretFingerprint(x.value)}) moves to downscope slot ${x.slot}, given to ${o.server} only\n`,
      );
    return 0;
  }

  // Store first: if that fails, the config is untouched.
  const stored: string[] = [];
  for (const x of secrets) {
    const source = storeInKeyring(io.env, x.slot, x.value) ?? { file: writeSlotFile(io.env, x.slot, x.value) };
    writeBinding(io, {
      version: 1,
      slot: x.slot,
      server: o.server,
      env: x.env,
      upstream_sha256: upstreamHash(upstream),
      upstream: [upstream.file, ...upstream.args],
      source,
    });
    stored.push(
      `${x.env} → ${"keyring" in source ? `the keyring (service ${source.keyring.service}, account ${source.keyring.account})` : source.file}`,
    );
  }
  // The record keeps the original with a placeholder where each value was: no secret in it.
  const template = replaceSecrets(l.text, secrets, (x) => JSON.stringify(MARK(x.slot)));
  const span = valueSpan(template, [l.key, o.server]);
  const originalEntry = structuredClone(entry);
  const originalEnv = originalEntry.env as Json;
  for (const x of secrets) originalEnv[x.env] = MARK(x.slot);
  const record: InstallRecord = {
    file: o.file,
    server: o.server,
    originalText: template,
    originalEntry,
    ...(span ? { originalEntryText: template.slice(span[0], span[1]) } : {}),
    writtenSha256: sha256(nextText),
    moved: secrets.map((x) => ({ env: x.env, slot: x.slot })),
  };
  const rec = recordPath(io, o);
  mkdirSync(dirname(rec), { recursive: true, mode: 0o700 });
  writeFileSync(rec, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  writeAtomic(o.file, nextText);
  io.stderr(
    `downscope: moved ${secrets.length} secret${secrets.length === 1 ? "" : "s"} of ${o.server} out of ${o.file}, which holds none now:\n` +
      stored.map((x) => `  ${x}\n`).join("") +
      `  ${o.server} runs through \`downscope mcp-proxy --server ${o.server}\`, which gives them to this server's command only.\n` +
      `  rules: add a service with \`server: ${o.server}\` to .claude/downscoping.yaml or your user config (see docs/mcp.md)\n` +
      `  undo (puts the secrets back): downscope uninstall mcp --path ${o.file} --server ${o.server}\n`,
  );
  return 0;
}

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
