/**
 * Where each MCP client keeps its server configs, and how to read them into
 * one shape. Shared by `downscope scan` (every server of every client) and
 * `downscope mcp lock` (the servers that run through downscope's proxy).
 *
 * Locations and formats, each kept as a fixture in test/fixtures/scan/:
 *  - Claude Code: `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json` when
 *    set): `mcpServers` (user scope) and `projects["<dir>"].mcpServers`
 *    (local scope); the project's `.mcp.json`; the managed `managed-mcp.json`
 *    (/etc/claude-code on Linux). Seen with Claude Code 2.1.328: `claude mcp
 *    add --scope user|local|project` writes exactly these, and servers under
 *    `mcpServers` in `.claude/settings.json` are not loaded (so settings files
 *    are not read). https://docs.anthropic.com/en/docs/claude-code/mcp
 *  - Claude Desktop: claude_desktop_config.json, `mcpServers`.
 *  - Cursor: `~/.cursor/mcp.json`, `.cursor/mcp.json`, `mcpServers` (remote: `url`, `headers`).
 *  - VS Code: `.vscode/mcp.json` and the profile's `User/mcp.json`, key
 *    `servers`, JSON with comments; older user `settings.json` under `mcp.servers`.
 *    https://code.visualstudio.com/docs/copilot/reference/mcp-configuration
 *  - Windsurf: `~/.codeium/windsurf/mcp_config.json`, `mcpServers` (remote: `serverUrl`).
 *  - Gemini CLI: `~/.gemini/settings.json`, `.gemini/settings.json`,
 *    `mcpServers` (remote: `url`, `httpUrl`, `headers`).
 *  - Codex: `$CODEX_HOME/config.toml` (default `~/.codex`) and the project's
 *    `.codex/config.toml`, tables `[mcp_servers.<name>]` (`command`, `args`,
 *    `env`, `url`, `http_headers`, `bearer_token`).
 *    https://github.com/openai/codex/blob/main/docs/config.md
 */
import { join } from "node:path";
import { parseTree, printParseErrorCode, getNodeValue, type Node, type ParseError } from "jsonc-parser";
import { parse as parseToml, TomlError } from "smol-toml";
import { claudeDesktopConfigPath, type Env } from "../paths.js";

export const CLIENT_IDS = [
  "claude-code",
  "claude-desktop",
  "cursor",
  "vscode",
  "windsurf",
  "gemini",
  "codex",
  "other",
] as const;
export type ClientId = (typeof CLIENT_IDS)[number];
export type Scope = "user" | "local" | "project" | "managed" | "path";

/** One config file a client reads MCP servers from. */
export interface ConfigFile {
  client: ClientId;
  scope: Scope;
  path: string;
  format: "json" | "toml";
}

/** One server entry, in one shape whatever the client wrote. */
export interface ServerEntry {
  client: ClientId;
  scope: Scope;
  file: string;
  name: string;
  /** Where in the file, as a path of keys: `mcpServers.github`, `projects["/p"].mcpServers.db`, `mcp_servers.fs`. */
  location: string;
  /** 1-based line of the entry, when known. */
  line?: number;
  /** Claude Code local scope: the project directory the entry belongs to. */
  project?: string;
  transport: "stdio" | "remote";
  command?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  /** Other fields that can hold a secret written in plain text (Codex `bearer_token`). */
  secretFields: Record<string, string>;
}

export interface ReadConfig {
  file: ConfigFile;
  servers: ServerEntry[];
  /** The file exists but could not be read as its format: where and why. */
  error?: { line?: number; column?: number; message: string };
}

export interface Places {
  env: Env;
  /** The project directory (Claude Code's CLAUDE_PROJECT_DIR, else the working directory). */
  project: string;
  platform?: NodeJS.Platform;
  /** Prefix of system-wide files (/etc/claude-code/…): "" on a real machine, a sandbox in tests. */
  systemRoot?: string;
}

const home = (env: Env) => env.HOME ?? "";

/** Claude Code's user file: `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json` (seen with 2.1.328). */
export function claudeUserConfigPath(env: Env): string {
  const dir = env.CLAUDE_CONFIG_DIR;
  return dir !== undefined && dir !== "" ? join(dir, ".claude.json") : join(home(env), ".claude.json");
}

function vscodeUserDir(env: Env, platform: NodeJS.Platform): string {
  if (platform === "darwin") return join(home(env), "Library", "Application Support", "Code", "User");
  if (platform === "win32") return join(env.APPDATA ?? join(home(env), "AppData", "Roaming"), "Code", "User");
  return join(env.XDG_CONFIG_HOME || join(home(env), ".config"), "Code", "User");
}

/**
 * Claude Code's managed settings directory (https://docs.anthropic.com/en/docs/claude-code/settings);
 * DOWNSCOPE_CLAUDE_MANAGED_DIR exists for tests and packagers, like DOWNSCOPE_MANAGED_CONFIG.
 */
function claudeManagedDir(env: Env, platform: NodeJS.Platform, root: string): string {
  if (env.DOWNSCOPE_CLAUDE_MANAGED_DIR) return env.DOWNSCOPE_CLAUDE_MANAGED_DIR;
  if (platform === "darwin") return join(root || "/", "Library", "Application Support", "ClaudeCode");
  if (platform === "win32") return "C:\\Program Files\\ClaudeCode";
  return join(root || "/", "etc", "claude-code");
}

/** Every config file downscope knows, for one project and user (whether or not it exists). */
export function knownConfigFiles(p: Places): ConfigFile[] {
  const platform = p.platform ?? process.platform;
  const env = p.env;
  const h = home(env);
  const codexHome = env.CODEX_HOME && env.CODEX_HOME !== "" ? env.CODEX_HOME : join(h, ".codex");
  const f = (client: ClientId, scope: Scope, path: string, format: "json" | "toml" = "json"): ConfigFile => ({
    client,
    scope,
    path,
    format,
  });
  return [
    f("claude-code", "user", claudeUserConfigPath(env)),
    f("claude-code", "project", join(p.project, ".mcp.json")),
    f("claude-code", "managed", join(claudeManagedDir(env, platform, p.systemRoot ?? ""), "managed-mcp.json")),
    f("claude-desktop", "user", claudeDesktopConfigPath(env, platform)),
    f("cursor", "user", join(h, ".cursor", "mcp.json")),
    f("cursor", "project", join(p.project, ".cursor", "mcp.json")),
    f("vscode", "user", join(vscodeUserDir(env, platform), "mcp.json")),
    f("vscode", "user", join(vscodeUserDir(env, platform), "settings.json")),
    f("vscode", "project", join(p.project, ".vscode", "mcp.json")),
    f("windsurf", "user", join(h, ".codeium", "windsurf", "mcp_config.json")),
    f("gemini", "user", join(h, ".gemini", "settings.json")),
    f("gemini", "project", join(p.project, ".gemini", "settings.json")),
    f("codex", "user", join(codexHome, "config.toml"), "toml"),
    f("codex", "project", join(p.project, ".codex", "config.toml"), "toml"),
  ];
}

/** A file named with --path: TOML by its name, JSON otherwise; the client is guessed from the name. */
export function fileForPath(path: string): ConfigFile {
  const client: ClientId = /\.claude\.json$|\.mcp\.json$|managed-mcp\.json$/.test(path)
    ? "claude-code"
    : /claude_desktop_config\.json$/.test(path)
      ? "claude-desktop"
      : /\.cursor\//.test(path)
        ? "cursor"
        : /\.vscode\/|\/Code\/User\//.test(path)
          ? "vscode"
          : /windsurf/.test(path)
            ? "windsurf"
            : /\.gemini\//.test(path)
              ? "gemini"
              : /\.toml$/.test(path)
                ? "codex"
                : "other";
  return { client, scope: "path", path, format: /\.toml$/.test(path) ? "toml" : "json" };
}

/** Reads one config file's text into server entries (pure). */
export function readConfigText(file: ConfigFile, text: string): ReadConfig {
  return file.format === "toml" ? readToml(file, text) : readJson(file, text);
}

// ---------------------------------------------------------------- JSON (and JSON with comments)

function lineOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

function child(node: Node | undefined, key: string): Node | undefined {
  if (node?.type !== "object") return undefined;
  let found: Node | undefined;
  for (const prop of node.children ?? []) if (prop.children?.[0]?.value === key) found = prop.children[1];
  return found; // the last duplicate wins, as in JSON.parse
}

function readJson(file: ConfigFile, text: string): ReadConfig {
  const errors: ParseError[] = [];
  // Comments and trailing commas are read: VS Code's files allow them, and a scan is not a validator.
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || root === undefined) {
    const e = errors[0];
    return {
      file,
      servers: [],
      error: e
        ? { ...lineOf(text, e.offset), message: `not valid JSON (${printParseErrorCode(e.error)})` }
        : { message: "empty file" },
    };
  }
  if (root.type !== "object") return { file, servers: [], error: { message: "expected a JSON object" } };
  const out: ServerEntry[] = [];
  const collect = (serversNode: Node | undefined, prefix: string, extra: Partial<ServerEntry> = {}) => {
    if (serversNode?.type !== "object") return;
    for (const prop of serversNode.children ?? []) {
      const name: unknown = prop.children?.[0]?.value;
      const value = prop.children?.[1];
      if (typeof name !== "string" || value?.type !== "object") continue;
      const raw = getNodeValue(value) as Record<string, unknown>;
      out.push({
        ...entryFrom(file, name, `${prefix}.${keyText(name)}`, raw),
        line: lineOf(text, prop.offset).line,
        ...extra,
      });
    }
  };
  if (file.client === "vscode") {
    collect(child(root, "servers"), "servers");
    collect(child(child(root, "mcp"), "servers"), "mcp.servers");
  } else {
    collect(child(root, "mcpServers"), "mcpServers");
    if (file.client === "other" || file.scope === "path") collect(child(root, "servers"), "servers");
  }
  // Claude Code's user file: each project's local-scope servers.
  if (file.client === "claude-code") {
    const projects = child(root, "projects");
    if (projects?.type === "object")
      for (const prop of projects.children ?? []) {
        const dir: unknown = prop.children?.[0]?.value;
        if (typeof dir !== "string") continue;
        collect(child(prop.children?.[1], "mcpServers"), `projects[${JSON.stringify(dir)}].mcpServers`, {
          project: dir,
          scope: file.scope === "path" ? "path" : "local",
        });
      }
  }
  return { file, servers: out };
}

const keyText = (k: string) => (/^[A-Za-z_][\w-]*$/.test(k) ? k : JSON.stringify(k));

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === "object" && v !== null && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

function entryFrom(file: ConfigFile, name: string, location: string, raw: Record<string, unknown>): ServerEntry {
  const url = [raw.url, raw.httpUrl, raw.serverUrl].find((u): u is string => typeof u === "string");
  const command = typeof raw.command === "string" ? raw.command : undefined;
  const secretFields: Record<string, string> = {};
  if (typeof raw.bearer_token === "string") secretFields.bearer_token = raw.bearer_token;
  return {
    client: file.client,
    scope: file.scope,
    file: file.path,
    name,
    location,
    transport: command === undefined && url !== undefined ? "remote" : "stdio",
    ...(command !== undefined ? { command } : {}),
    args: strings(raw.args),
    env: stringMap(raw.env),
    ...(typeof raw.cwd === "string" ? { cwd: raw.cwd } : {}),
    ...(url !== undefined ? { url } : {}),
    headers: { ...stringMap(raw.headers), ...stringMap(raw.http_headers) },
    secretFields,
  };
}

// ---------------------------------------------------------------- TOML (Codex)

function readToml(file: ConfigFile, text: string): ReadConfig {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError)
      return {
        file,
        servers: [],
        error: { line: e.line, column: e.column, message: `not valid TOML (${e.message.split("\n")[0]})` },
      };
    return { file, servers: [], error: { message: `not valid TOML (${e instanceof Error ? e.message : String(e)})` } };
  }
  const servers = data.mcp_servers;
  if (typeof servers !== "object" || servers === null || Array.isArray(servers)) return { file, servers: [] };
  const lines = text.split("\n");
  const out: ServerEntry[] = [];
  for (const [name, raw] of Object.entries(servers as Record<string, unknown>)) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) continue;
    const header = new RegExp(
      `^\\s*\\[\\s*mcp_servers\\s*\\.\\s*(${escape(name)}|"${escape(name)}"|'${escape(name)}')\\s*\\]`,
    );
    const at = lines.findIndex((l) => header.test(l));
    out.push({
      ...entryFrom(file, name, `mcp_servers.${keyText(name)}`, raw as Record<string, unknown>),
      ...(at !== -1 ? { line: at + 1 } : {}),
    });
  }
  return { file, servers: out };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
