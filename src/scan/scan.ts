/**
 * `downscope scan`: find the MCP configs of every client downscope knows
 * (clients.ts), read each server entry and flag it (findings.ts). Reads
 * files, writes nothing, prints no secret. The only I/O of scan/.
 */
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import {
  fileForPath,
  knownConfigFiles,
  readConfigText,
  type ClientId,
  type ConfigFile,
  type Places,
  type ReadConfig,
  type Scope,
  type ServerEntry,
} from "./clients.js";
import { findingsOf, proxiedUpstream, SEVERITIES, type Finding, type Severity } from "./findings.js";

/** Larger files are not read (a `~/.claude.json` with a long history is a few MB). */
const MAX_BYTES = 64 * 1024 * 1024;

export interface ScannedFile {
  client: ClientId;
  scope: Scope;
  path: string;
  servers: number;
  error?: { line?: number; column?: number; message: string };
}

export interface ScannedServer {
  client: ClientId;
  scope: Scope;
  file: string;
  name: string;
  location: string;
  line?: number;
  project?: string;
  transport: "stdio" | "remote";
  proxied: boolean;
  findings: Finding[];
}

export interface ScanResult {
  project: string;
  files: ScannedFile[];
  servers: ScannedServer[];
  counts: Record<Severity, number>;
}

/** Reads one config file; undefined when it does not exist (and was not named). */
export function readConfigFile(file: ConfigFile, named = false): ReadConfig | undefined {
  let text: string;
  try {
    const st = statSync(file.path);
    if (!st.isFile()) return { file, servers: [], error: { message: "not a regular file" } };
    if (st.size > MAX_BYTES)
      return { file, servers: [], error: { message: `larger than ${MAX_BYTES} bytes; not read` } };
    text = readFileSync(file.path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !named) return undefined;
    return {
      file,
      servers: [],
      error: { message: code === "ENOENT" ? "file not found" : `cannot read it (${code ?? "error"})` },
    };
  }
  return readConfigText(file, text);
}

/** Every config found: the known locations, or only the files named with --path. */
export function discover(places: Places, paths: readonly string[] = []): ReadConfig[] {
  if (paths.length > 0)
    return paths.map((p) => readConfigFile(fileForPath(resolve(places.project, p)), true)!).filter(Boolean);
  const out: ReadConfig[] = [];
  for (const f of knownConfigFiles(places)) {
    const r = readConfigFile(f);
    if (r) out.push(r);
  }
  return out;
}

export function scan(places: Places, paths: readonly string[] = []): ScanResult {
  const read = discover(places, paths);
  const servers: ScannedServer[] = read.flatMap((r) => r.servers.map((e) => scanned(e, places)));
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const s of servers) for (const f of s.findings) counts[f.severity]++;
  return {
    project: places.project,
    files: read.map((r) => ({
      client: r.file.client,
      scope: r.file.scope,
      path: r.file.path,
      servers: r.servers.length,
      ...(r.error ? { error: r.error } : {}),
    })),
    servers,
    counts,
  };
}

function scanned(e: ServerEntry, places: Places): ScannedServer {
  return {
    client: e.client,
    scope: e.scope,
    file: e.file,
    name: e.name,
    location: e.location,
    ...(e.line !== undefined ? { line: e.line } : {}),
    ...(e.project !== undefined ? { project: e.project } : {}),
    transport: e.transport,
    proxied: proxiedUpstream(e) !== undefined,
    findings: findingsOf(e, places.env),
  };
}
