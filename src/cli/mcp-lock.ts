/**
 * `downscope mcp lock [--check] [--server NAME]... [--path FILE]... [--prune] [-- <command> [args...]]`
 * `downscope mcp unlock`
 *
 * Pins the tools (name, title, description, schemas, annotations) of each MCP
 * server that runs through `downscope mcp-proxy` in the project's lockfile,
 * `.claude/downscope-mcp.lock`, committed with the project. The proxy then
 * hides and refuses a tool that is new or differs from its pin, until a
 * person locks again (docs/adr/ADR-040-mcp-tool-lock.md).
 *
 * The servers are those the MCP client configs route through the proxy
 * (src/scan/clients.ts: project and user files of every client), or one
 * named with `--server NAME -- <command>`. Each is started as the proxy
 * starts its default instance (same environment, same slot token) and asked
 * for every page of tools/list.
 *
 * Locking widens what the agent sees, so a person confirms the change at the
 * terminal (src/cli/confirm.ts), and the lockfile counts for the proxy only
 * while it matches the signed pin made then. `--check` changes nothing and
 * asks nothing: it exits 1 with a readable diff when a server drifted from
 * the lock, for CI (`downscope init --ci github` adds it).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, errorMessage, UpstreamUnavailable, UsageError } from "../errors.js";
import { sha256Hex } from "../lazy-crypto.js";
import {
  canonicalText,
  describeDrift,
  hasDrift,
  LOCK_FILE,
  LOCK_VERSION,
  lockServer,
  parseLock,
  serverDrift,
  type LockFile,
} from "../mcp/lock.js";
import { findLockFile, lockedCopy, pinLock, readLockPins, unpinLock, writeLockFile } from "../mcp/lock-state.js";
import { McpProxy } from "../mcp/proxy.js";
import type { LoadedPolicy } from "../mcp/tool-decision.js";
import type { Env } from "../paths.js";
import { loadPolicy, pathContext } from "../policy/index.js";
import { PROJECT_CONFIG } from "../policy/load.js";
import { proxiedUpstream } from "../scan/findings.js";
import { discover } from "../scan/scan.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import type { Command, Io } from "../io.js";
import { movedSecretsFor, parseProxyArgs } from "./mcp-proxy.js";
import { lineDiff } from "./unified-diff.js";

const USAGE =
  "usage: downscope mcp lock [--check] [--server NAME]... [--path FILE]... [--prune] [--timeout SECONDS] [-- <command> [args...]]\n" +
  "       downscope mcp unlock\n" +
  "  lock        list the tools of each server that runs through `downscope mcp-proxy` and pin them in\n" +
  `              ${LOCK_FILE} (asks a person at the terminal; the proxy then hides and refuses drifted tools)\n` +
  "  --check     change nothing: exit 1 with a diff when a server's tools differ from the lock (for CI)\n" +
  "  --server    only this server (repeatable); with `-- <command>`, the one server that command starts\n" +
  "  --path      read the MCP client config from this file only (repeatable)\n" +
  "  --prune     drop servers from the lock that no config here routes through the proxy\n" +
  "  --timeout   seconds a server may take to answer each request (default 60; env DOWNSCOPE_MCP_LOCK_TIMEOUT)\n" +
  "  unlock      stop locking: remove the lockfile and its pin (asks a person)\n" +
  "  exit codes: 0 locked or no drift, 1 drift (--check), 64 usage, 69 a server could not be listed, 77 not confirmed, 78 the lockfile is not valid";

interface LockOptions {
  check: boolean;
  servers: string[];
  paths: string[];
  prune: boolean;
  timeoutMs: number;
  explicit?: { file: string; args: string[] };
}

/** One server to list: how the proxy would start it. */
export interface LockTarget {
  server: string;
  file: string;
  args: string[];
  /** The proxy's own options in the client config (`--env-slot`), for moved secrets. */
  proxyOptions: string[];
  cwd: string;
  /** Variables the client entry sets, with references to the environment expanded. */
  env: Record<string, string>;
  /** Where the entry was found. */
  from: string;
}

export const mcp: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stderr(`${USAGE}\n`);
    return 0;
  }
  if (sub === "lock") return lock(dropYes(rest, io), io);
  if (sub === "unlock") return unlock(dropYes(rest, io), io);
  if (sub === "--help" || sub === "-h") {
    io.stderr(`${USAGE}\n`);
    return 0;
  }
  throw new UsageError(USAGE);
};

function parseLockArgs(argv: readonly string[], env: Env): LockOptions {
  const sep = argv.indexOf("--");
  const own = sep === -1 ? argv : argv.slice(0, sep);
  const upstream = sep === -1 ? [] : argv.slice(sep + 1);
  const o: LockOptions = { check: false, servers: [], paths: [], prune: false, timeoutMs: 60_000 };
  let timeout = env.DOWNSCOPE_MCP_LOCK_TIMEOUT;
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    const eq = a.indexOf("=");
    const [name, inline] = a.startsWith("--") && eq !== -1 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? own[++i];
      if (v === undefined || v === "") throw new UsageError(`${name} needs a value\n${USAGE}`);
      return v;
    };
    if (name === "--check") o.check = true;
    else if (name === "--prune") o.prune = true;
    else if (name === "--server") o.servers.push(value());
    else if (name === "--path") o.paths.push(value());
    else if (name === "--timeout") timeout = value();
    else throw new UsageError(`unknown option ${a}\n${USAGE}`);
  }
  if (timeout !== undefined) {
    const s = Number(timeout);
    if (!(Number.isFinite(s) && s > 0 && s <= 3600))
      throw new UsageError(`--timeout must be a number of seconds between 1 and 3600 (got "${timeout}")`);
    o.timeoutMs = Math.round(s * 1000);
  }
  if (sep !== -1) {
    if (upstream[0] === undefined) throw new UsageError(`no command after --\n${USAGE}`);
    if (o.servers.length !== 1 || o.paths.length > 0)
      throw new UsageError(`with -- <command>, name exactly one --server (and no --path)\n${USAGE}`);
    o.explicit = { file: upstream[0], args: upstream.slice(1) };
  }
  if (o.check && o.prune) throw new UsageError(`--prune changes the lock; it does not go with --check\n${USAGE}`);
  return o;
}

/** The lockfile for work in `cwd`: the one in use, else next to the project policy, else ./.claude/. */
export function lockTarget(cwd: string, env: Env): string {
  const inUse = findLockFile(cwd, readLockPins(env));
  if (inUse !== undefined) return inUse;
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, PROJECT_CONFIG))) return join(dir, LOCK_FILE);
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(cwd), LOCK_FILE);
    dir = parent;
  }
}

/** `${VAR}`, `${VAR:-default}`, `${env:VAR}`, `$VAR` from the environment; undefined when one cannot be resolved. */
export function expandRefs(value: string, env: Env): string | undefined {
  let unresolved = false;
  const get = (name: string, fallback?: string) => {
    const v = env[name];
    if (v !== undefined && v !== "") return v;
    if (fallback !== undefined) return fallback;
    unresolved = true;
    return "";
  };
  const out = value
    .replace(/\$\{env:([A-Za-z_]\w*)\}/g, (_, n: string) => get(n))
    .replace(/\$\{([A-Za-z_]\w*)(?::-([^}]*))?\}/g, (_, n: string, d: string | undefined) => get(n, d))
    .replace(/\$\{[^}]*\}/g, () => {
      unresolved = true; // ${input:…}, ${workspaceFolder}: the client's own, unknown here
      return "";
    })
    .replace(/^\$([A-Za-z_]\w*)$/, (_, n: string) => get(n));
  return unresolved ? undefined : out;
}

/** The proxied servers the configs here name, by server name. */
function discoverTargets(io: Io, root: string, paths: readonly string[]): Map<string, LockTarget[]> {
  const out = new Map<string, LockTarget[]>();
  for (const r of discover({ env: io.env, project: root }, paths)) {
    if (r.error)
      io.stderr(
        `downscope mcp lock: skipped ${r.file.path}${r.error.line !== undefined ? `:${r.error.line}:${r.error.column ?? 1}` : ""}: ${r.error.message}\n`,
      );
    for (const e of r.servers) {
      // Claude Code's local scope belongs to one project: only this one's.
      if (e.project !== undefined && resolve(e.project) !== root) continue;
      const p = proxiedUpstream(e);
      if (!p || p.command === undefined) continue;
      let server: string;
      try {
        server = parseProxyArgs([...p.options, "--", p.command, ...p.args], {}).server;
      } catch {
        continue; // a proxy entry the proxy itself would refuse
      }
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.env)) {
        const x = expandRefs(v, io.env);
        if (x === undefined)
          io.stderr(
            `downscope mcp lock: ${server}: ${k} refers to a value only the client knows; started without it\n`,
          );
        else env[k] = x;
      }
      const list = out.get(server) ?? [];
      list.push({
        server,
        file: p.command,
        args: p.args,
        proxyOptions: p.options,
        cwd: e.cwd !== undefined ? resolve(root, e.cwd) : root,
        env,
        from: `${e.file} (${e.location})`,
      });
      out.set(server, list);
    }
  }
  return out;
}

const sameTarget = (a: LockTarget, b: LockTarget) =>
  JSON.stringify([a.file, a.args, a.proxyOptions, a.cwd, a.env]) ===
  JSON.stringify([b.file, b.args, b.proxyOptions, b.cwd, b.env]);

/** Starts one server as the proxy's default instance would and lists every tool. */
export async function listServerTools(
  t: LockTarget,
  io: Io,
  loaded: LoadedPolicy,
  timeoutMs: number,
): Promise<Record<string, unknown>[]> {
  const env = { ...io.env, ...t.env };
  const proxy = new McpProxy({
    server: t.server,
    upstream: { file: t.file, args: t.args },
    cwd: t.cwd,
    env,
    loaded,
    pathCtx: pathContext(t.cwd, env),
    write: () => undefined,
    log: (text) => io.stderr(text),
    initializeTimeoutMs: timeoutMs,
    movedSecrets: movedSecretsFor(t.proxyOptions, t.server, { file: t.file, args: t.args }, env, t.cwd),
  });
  return proxy.listToolsOnce();
}

async function lock(argv: string[], io: Io): Promise<number> {
  const o = parseLockArgs(argv, io.env);
  const file = lockTarget(io.cwd, io.env);
  const root = dirname(dirname(file));
  const currentText = readIfExists(file);
  let current: LockFile | undefined;
  if (currentText !== undefined) {
    const parsed = parseLock(currentText);
    if (parsed.ok) current = parsed.lock;
    else if (o.check)
      throw new ConfigError([
        {
          file,
          ...(parsed.line !== undefined ? { line: parsed.line, column: parsed.column } : {}),
          path: "",
          message: parsed.message,
        },
      ]);
    else io.stderr(`downscope mcp lock: ${file} is not valid (${parsed.message}); it will be written anew\n`);
  }
  if (o.check && currentText === undefined) {
    io.stderr(`downscope mcp lock --check: no MCP lock at ${file}; nothing to check\n`);
    return 0;
  }

  // Which servers, started how.
  const targets = new Map<string, LockTarget>();
  if (o.explicit) {
    targets.set(o.servers[0]!, {
      server: o.servers[0]!,
      file: o.explicit.file,
      args: o.explicit.args,
      proxyOptions: [],
      cwd: root,
      env: {},
      from: "the command line",
    });
  } else {
    const found = discoverTargets(io, root, o.paths);
    for (const [server, list] of found) {
      if (o.servers.length > 0 && !o.servers.includes(server)) continue;
      const distinct = list.filter((t, i) => list.findIndex((u) => sameTarget(t, u)) === i);
      if (distinct.length > 1)
        throw new UsageError(
          `server "${server}" is started with different commands in ${distinct.map((t) => t.from).join(" and ")}; lock one with --path FILE`,
        );
      targets.set(server, distinct[0]!);
    }
    for (const s of o.servers)
      if (!targets.has(s))
        throw new UsageError(
          `no MCP config here runs "${s}" through \`downscope mcp-proxy\`; route it with \`downscope install mcp --server ${s}\`, or name its command: downscope mcp lock --server ${s} -- <command> [args...]`,
        );
    if (o.check && current)
      for (const s of Object.keys(current.servers))
        if (!targets.has(s) && (o.servers.length === 0 || o.servers.includes(s)))
          io.stderr(
            `downscope mcp lock --check: ${s} is in the lock but no config here runs it through the proxy; not checked\n`,
          );
  }
  if (targets.size === 0 && !o.prune) {
    io.stderr(
      `downscope mcp lock: no MCP server here runs through \`downscope mcp-proxy\` (route one with \`downscope install mcp --server NAME\`); nothing to ${o.check ? "check" : "lock"}\n`,
    );
    return 0;
  }

  // List every server's tools as the proxy would see them.
  let loaded: LoadedPolicy;
  try {
    loaded = { ok: true, policy: await loadPolicy({ cwd: root, env: io.env }) };
  } catch (e) {
    loaded = { ok: false, error: errorMessage(e) };
    io.stderr(
      `downscope mcp lock: the policy cannot be loaded, so servers start with no slot token:\n${loaded.error}\n`,
    );
  }
  const listed: LockFile["servers"] = {};
  const failed: string[] = [];
  for (const t of targets.values()) {
    try {
      listed[t.server] = lockServer(await listServerTools(t, io, loaded, o.timeoutMs));
    } catch (e) {
      failed.push(`${t.server}: ${errorMessage(e)}`);
    }
  }
  if (failed.length > 0)
    throw new UpstreamUnavailable(
      `could not list the tools of ${failed.length === 1 ? "a server" : "some servers"}${o.check ? "" : "; nothing was written"}:\n  ${failed.join("\n  ")}`,
    );

  if (o.check) return check(io, file, current!, currentText!, listed);

  const kept = Object.fromEntries(
    Object.entries(current?.servers ?? {}).filter(([s]) => !(o.prune && !targets.has(s))),
  );
  const next: LockFile = { version: LOCK_VERSION, servers: { ...kept, ...listed } };
  const nextText = canonicalText(next);
  const pinned = readLockPins(io.env).get(file);
  const before = lockedCopy(io.env, file);
  if (before === nextText && currentText === nextText) {
    io.stderr(`downscope: ${file} is locked and every server matches it; nothing to do\n`);
    return 0;
  }
  await confirmByPerson(io, {
    command: "downscope mcp lock",
    details: lockDetails(file, before, currentText, nextText, pinned),
  });
  writeLockFile(file, nextText);
  const hash = pinLock(io.env, file, nextText);
  const tools = Object.values(next.servers).reduce((n, s) => n + Object.keys(s.tools).length, 0);
  io.stderr(
    `downscope: locked ${tools} tool${tools === 1 ? "" : "s"} of ${Object.keys(next.servers).length} server${Object.keys(next.servers).length === 1 ? "" : "s"} in ${file} (sha256 ${hash.slice(0, 12)}…).\n` +
      "  The proxy now hides and refuses any tool that differs from it. Commit the file; in CI, `downscope mcp lock --check` fails on drift.\n" +
      "  Reconnect the MCP servers (or restart the client) so the agent sees the tools as locked.\n",
  );
  return 0;
}

/** What the person confirms: the change since they last locked, or all of it the first time. */
function lockDetails(
  file: string,
  before: string | undefined,
  currentText: string | undefined,
  nextText: string,
  pinned: string | undefined,
): string {
  const next = JSON.parse(nextText) as LockFile;
  if (before !== undefined) {
    const prev = JSON.parse(before) as LockFile;
    const summary = Object.keys({ ...prev.servers, ...next.servers })
      .sort()
      .map((s) => [s, serverDrift(prev.servers[s], next.servers[s] ?? { tools: {} })] as const)
      .filter(([, d]) => hasDrift(d))
      .map(([s, d]) => describeDrift(s, d))
      .join("\n");
    const edited =
      currentText !== undefined && currentText !== before
        ? `\n(${file} was changed by someone else since; this replaces it.)\n`
        : "";
    return `Changes to the MCP lock since you last locked it:\n${summary || "(no tool changed)"}\n${edited}\n${lineDiff(before, nextText, `${file} (locked)`, `${file} (now)`)}`;
  }
  const why =
    pinned !== undefined
      ? "The copy of what you locked before is gone, so"
      : currentText !== undefined
        ? `${file} was not locked by you on this machine (committed by someone else, or written by hand), so`
        : "This is the first lock here, so";
  return `${why} here is every tool that will be shown to the agent. Read each description: a tool's description is instructions to the model.\n\n${nextText}`;
}

function check(io: Io, file: string, current: LockFile, currentText: string, listed: LockFile["servers"]): number {
  let drift = false;
  const pin = readLockPins(io.env).get(file);
  if (pin !== undefined && sha256Hex(currentText) !== pin) {
    drift = true;
    io.stdout(
      `${file} has changed since you locked it on this machine: the proxy hides every tool until you run \`downscope mcp lock\`.\n`,
    );
  }
  for (const [server, now] of Object.entries(listed)) {
    const d = serverDrift(current.servers[server], now);
    if (!hasDrift(d)) {
      io.stderr(`downscope mcp lock --check: ${server}: ${Object.keys(now.tools).length} tools match the lock\n`);
      continue;
    }
    drift = true;
    io.stdout(`${describeDrift(server, d)}\n`);
    io.stdout(
      lineDiff(
        canonicalText(current.servers[server] ?? { tools: {} }),
        canonicalText(now),
        `${server} (locked)`,
        `${server} (now)`,
      ),
    );
  }
  if (drift)
    io.stderr(
      "downscope mcp lock --check: the tools differ from the lock. Review the change; if it is expected, run `downscope mcp lock` and commit the lockfile.\n",
    );
  return drift ? 1 : 0;
}

async function unlock(argv: string[], io: Io): Promise<number> {
  if (argv.length > 0) throw new UsageError(USAGE);
  const file = findLockFile(io.cwd, readLockPins(io.env));
  if (file === undefined) {
    io.stderr("downscope mcp unlock: there is no MCP lock here; nothing to do\n");
    return 0;
  }
  await confirmByPerson(io, {
    command: "downscope mcp unlock",
    details: `This removes ${file} and its pin: the proxy then shows every tool of every server as the server lists it, including tools whose descriptions change later.`,
  });
  unpinLock(io.env, file);
  rmSync(file, { force: true });
  io.stderr(`downscope: removed the MCP lock ${file}; tools are no longer pinned\n`);
  return 0;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ConfigError([
      { file, path: "", message: `cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"})` },
    ]);
  }
}
