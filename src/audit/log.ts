/**
 * The append-only audit log: one JSON line per record, 0600 in a 0700 dir.
 *
 * Tamper evidence: every line carries `mac`, an HMAC-SHA256 of the line
 * itself (keyed with a per-user key kept outside the log directory), and
 * `prev`, which binds it to the line before: that line's `mac` (chainValue).
 * `downscope audit verify` recomputes both, so a changed line, a removed line
 * and a forged line without the key all show. (Logs written before 0.1 used
 * the HMAC of the whole previous line as `prev`; verify accepts both.)
 *
 * Concurrency: read-last-line + append happen under a lock file created with
 * O_EXCL (stale locks of dead processes are broken), so parallel wrappers lose
 * no line and break no chain. Rotation by size renames `audit.jsonl` to
 * `audit.jsonl.1` (…`.N`) under the same lock; the first line of the new file
 * chains to the last line of the rotated one.
 *
 * appendAudit never throws: a logging failure must not change a decision. It
 * reports on stderr once per process.
 */
import { hmacSha256Hex, nodeCrypto } from "../lazy-crypto.js";
import {
  appendFileSync,
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { configHome, type Env } from "../paths.js";
import { sleepSync } from "../sleep.js";
import type { AuditRecord, OutputRecord } from "./record.js";
import { redactArgv, redactText, redactValue } from "./redact.js";
import type { AuditSettings } from "./settings.js";

export interface AppendOptions {
  env: Env;
  settings: AuditSettings;
  /** Where a logging failure is reported (default process.stderr). */
  stderr?: (text: string) => void;
  now?: () => Date;
  /** Tests: the syslog UDP port (default 514). */
  syslogPort?: number;
}

export const auditKeyPath = (env: Env) => join(configHome(env), "audit.key");

let warned = false;

export function appendAudit(record: AuditRecord, opts: AppendOptions): void {
  appendPrepared(prepareAudit(record, opts));
}

/** A record redacted and timed now, to be sealed and written later (appendPrepared). */
export interface PreparedRecord {
  record: AuditRecord;
  fields: Record<string, unknown>;
  key: Buffer;
  opts: AppendOptions;
}

/**
 * The first half of appendAudit: the work that needs no lock (the key, the
 * redaction). downscope-exec does it while the command runs, and appends
 * with the exit status once it has ended. Never throws; undefined when the
 * log is off or cannot be written.
 */
export function prepareAudit(record: AuditRecord, opts: AppendOptions): PreparedRecord | undefined {
  if (!opts.settings.enabled) return undefined;
  try {
    const fields = recordFields(record, (opts.now ?? (() => new Date()))());
    return { record, fields, key: auditKey(opts.env), opts };
  } catch (e) {
    warnOnce(e, opts);
    return undefined;
  }
}

/** The second half: seal and append, with what was known only at the end (exit status, duration). Never throws. */
export function appendPrepared(
  p: PreparedRecord | undefined,
  late: Pick<AuditRecord, "exit" | "duration_ms" | "output"> = {},
): void {
  if (p === undefined) return;
  const { pid, ...early } = p.fields;
  const fields: Record<string, unknown> = { ...early };
  if (late.exit !== undefined) fields.exit = late.exit;
  if (late.duration_ms !== undefined) fields.duration_ms = Math.round(late.duration_ms);
  if (late.output !== undefined) fields.output = outputFields(late.output);
  fields.pid = pid;
  try {
    const line = writeRecord(fields, p.key, p.opts.settings);
    if (p.opts.settings.otlpEndpoint !== undefined || p.opts.settings.syslog)
      exportLine(line, { ...p.record, ...late }, p.opts);
  } catch (e) {
    warnOnce(e, p.opts);
  }
}

function warnOnce(e: unknown, opts: AppendOptions): void {
  if (warned) return;
  warned = true;
  const msg = `downscope: warning: cannot write the audit log ${opts.settings.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`;
  (opts.stderr ?? ((t: string) => void process.stderr.write(t)))(msg);
}

/**
 * Date#toISOString, built from the UTC getters: toISOString first loads the
 * local time zone (a read of /etc/localtime, about 0.2 ms of every run).
 */
export function isoTime(d: Date): string {
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999 || Number.isNaN(y)) return d.toISOString();
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(y, 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}Z`;
}

/** Build the line for a record: redacted fields, time, pid. Pure apart from the clock. */
export function recordFields(record: AuditRecord, now: Date): Record<string, unknown> {
  const r: Record<string, unknown> = { time: isoTime(now), event: record.event };
  if (record.session !== undefined) r.session = record.session;
  if (record.tool_use_id !== undefined) r.tool_use_id = redactText(record.tool_use_id);
  if (record.cwd !== undefined) r.cwd = record.cwd;
  if (record.service !== undefined) r.service = record.service;
  if (record.argv !== undefined)
    r.argv = redactArgv(record.argv).map((w) => (w.length > 2000 ? w.slice(0, 2000) + "…" : w));
  if (record.tool !== undefined) r.tool = record.tool;
  if (record.arguments !== undefined) r.arguments = redactValue(record.arguments);
  for (const k of ["layer", "rule", "action", "slot", "policy", "fingerprint"] as const) {
    const v = record[k];
    if (v !== undefined) r[k] = redactText(v);
  }
  if (record.reason !== undefined) r.reason = redactText(record.reason);
  if (record.minted !== undefined) r.minted = redactValue(record.minted);
  if (record.exit !== undefined) r.exit = record.exit;
  if (record.duration_ms !== undefined) r.duration_ms = Math.round(record.duration_ms);
  if (record.output !== undefined) r.output = outputFields(record.output);
  r.pid = process.pid;
  return r;
}

/**
 * An output record as written: numbers and hashes as they are, kinds as
 * plain names, and captured text through the redaction too (it was masked
 * already; the redaction is the second net, and may take more).
 */
export function outputFields(o: OutputRecord): Record<string, unknown> {
  const streams: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(o.streams)) {
    const f: Record<string, unknown> = {};
    if (typeof s.bytes === "number") f.bytes = s.bytes;
    if (s.sha256 !== undefined && /^[0-9a-f]{64}$/.test(s.sha256)) f.sha256 = s.sha256;
    if (s.tty) f.tty = true;
    if (s.text !== undefined) f.text = redactText(s.text);
    if (s.truncated) f.truncated = true;
    streams[safeName(name)] = f;
  }
  const r: Record<string, unknown> = { streams };
  if (o.masked !== undefined) r.masked = Object.fromEntries(Object.entries(o.masked).map(([k, n]) => [safeName(k), n]));
  if (o.withheld !== undefined) r.withheld = redactText(o.withheld);
  if (o.reached_model_unmasked) r.reached_model_unmasked = true;
  return r;
}

/** A stream or kind name: plain characters only (a slot name is the user's; nothing else gets through). */
const safeName = (s: string) => s.replace(/[^A-Za-z0-9:_.-]/g, "?").slice(0, 64);

function writeRecord(fields: Record<string, unknown>, key: Buffer, settings: AuditSettings): string {
  mkdirSync(dirname(settings.path), { recursive: true, mode: 0o700 });
  return withLock(`${settings.path}.lock`, () => {
    // Size is checked with a generous estimate of the line (prev and mac add 150 bytes).
    const estimate = Buffer.byteLength(JSON.stringify(fields)) + 160;
    rotateIfNeeded(settings, estimate);
    const prevLine = lastLine(settings.path) ?? lastLine(`${settings.path}.1`) ?? "";
    const line = sealLine(fields, prevLine, key);
    const fd = openSync(settings.path, "a", 0o600);
    try {
      // A crash mid-write leaves a partial line; terminate it so ours stands alone.
      const size = fstatSync(fd).size;
      const prefix = size > 0 && !endsWithNewline(settings.path, size) ? "\n" : "";
      appendFileSync(fd, prefix + line + "\n");
    } finally {
      closeSync(fd);
    }
    return line;
  });
}

/** `{...fields, prev}` then `mac` over exactly those bytes. */
export function sealLine(fields: Record<string, unknown>, prevLine: string, key: Buffer): string {
  const body = JSON.stringify({ ...fields, prev: chainValue(prevLine, key) });
  return `${body.slice(0, -1)},"mac":"${hmac(key, body)}"}`;
}

const MAC_AT_END = /,"mac":"([0-9a-f]{64})"\}$/;

/**
 * What the next line's `prev` is: the `mac` of a sealed previous line (it
 * already binds that whole line, and needs no hashing); the HMAC of whatever
 * else is there (nothing at the start of the log, a line a crash cut short).
 */
export function chainValue(prevLine: string, key: Buffer): string {
  return MAC_AT_END.exec(prevLine.slice(-80))?.[1] ?? hmac(key, prevLine);
}

export function hmac(key: Buffer, text: string): string {
  return hmacSha256Hex(key, text);
}

/** The key if it exists (verify must not create one). */
export function readAuditKey(env: Env): Buffer | undefined {
  const path = auditKeyPath(env);
  try {
    return parseKey(readFileSync(path, "utf8"), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

const keyCache = new Map<string, Buffer>();

/** The per-user key, created (0600, atomically) on first use; cached per process. */
export function auditKey(env: Env): Buffer {
  const path = auditKeyPath(env);
  const cached = keyCache.get(path);
  if (cached) return cached;
  const key = loadOrCreateKey(path);
  keyCache.set(path, key);
  return key;
}

function loadOrCreateKey(path: string): Buffer {
  try {
    return parseKey(readFileSync(path, "utf8"), path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${nodeCrypto().randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, nodeCrypto().randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  try {
    linkSync(tmp, path); // fails if another process created it first: then use theirs
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  return parseKey(readFileSync(path, "utf8"), path);
}

function parseKey(text: string, path: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`the audit key ${path} is malformed`);
  return Buffer.from(hex, "hex");
}

function endsWithNewline(path: string, size: number): boolean {
  const fd = openSync(path, "r");
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** The last complete-or-partial line of a file, without its newline; undefined if absent or empty. */
export function lastLine(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    let chunk = 8 * 1024;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      let text = buf.toString("utf8");
      if (text.endsWith("\n")) text = text.slice(0, -1);
      const nl = text.lastIndexOf("\n");
      if (nl !== -1) return text.slice(nl + 1);
      if (start === 0) return text;
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

function rotateIfNeeded(settings: AuditSettings, incoming: number): void {
  let size: number;
  try {
    size = statSync(settings.path).size;
  } catch {
    return;
  }
  if (size === 0 || size + incoming <= settings.maxBytes) return;
  rmSync(`${settings.path}.${settings.keep}`, { force: true });
  for (let i = settings.keep - 1; i >= 1; i--) {
    try {
      renameSync(`${settings.path}.${i}`, `${settings.path}.${i + 1}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  renameSync(settings.path, `${settings.path}.1`);
}

const LOCK_WAIT_MS = 10_000;
const STALE_MS = 30_000;

/** Run `fn` holding an O_EXCL lock file; waits for others, breaks locks of dead holders. */
export function withLock<T>(lockPath: string, fn: () => T): T {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let delay = 1;
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx", 0o600);
      try {
        writeFileSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (isStale(lockPath)) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${lockPath}`);
    sleepSync(delay);
    delay = Math.min(delay * 2, 20);
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      /* already gone: broken as stale by someone else */
    }
  }
}

function isStale(lockPath: string): boolean {
  try {
    const st = statSync(lockPath);
    if (Date.now() - st.mtimeMs > STALE_MS) return true;
    const pid = Number(readFileSync(lockPath, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - st.mtimeMs > 1000; // being written
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    return false; // vanished: retry the open
  }
}

// Export: fire-and-forget, never awaited by the decision. See export.ts.
const pending = new Set<Promise<void>>();

function exportLine(line: string, record: AuditRecord, opts: AppendOptions): void {
  const p = import("./export.js")
    .then((m) => m.exportRecord(line, record, opts.settings, { syslogPort: opts.syslogPort }))
    .catch(() => undefined)
    .finally(() => pending.delete(p));
  pending.add(p);
}

/** Wait for in-flight exports (each has its own short timeout). For tests and long-lived processes. */
export async function flushAuditExports(): Promise<void> {
  await Promise.all([...pending]);
}
