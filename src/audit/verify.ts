/**
 * Reading the audit log back: the rotated set in order, `verify` (recompute
 * every line's `mac` and `prev`) and parsing for `downscope audit`.
 */
import { readFileSync } from "node:fs";
import { chainValue, hmac } from "./log.js";
import type { AuditEntry } from "./record.js";
import type { AuditSettings } from "./settings.js";

/** Present files of the set, oldest first: `<path>.<keep>` … `<path>.1`, `<path>`. */
export function auditFiles(settings: Pick<AuditSettings, "path" | "keep">): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (let i = settings.keep; i >= 0; i--) {
    const file = i === 0 ? settings.path : `${settings.path}.${i}`;
    try {
      out.push({ file, text: readFileSync(file, "utf8") });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return out;
}

export interface VerifyProblem {
  file: string;
  /** 1-based line number in that file. */
  line: number;
  message: string;
}

export interface VerifyResult {
  files: number;
  lines: number;
  /** The first broken or missing line; undefined when the chain is intact. */
  problem?: VerifyProblem;
  /** True when the oldest file chains to a line that rotation has dropped. */
  truncatedStart: boolean;
}

const SEALED = /^(\{.*),"mac":"([0-9a-f]{64})"\}$/;

export function verifyAudit(settings: Pick<AuditSettings, "path" | "keep">, key: Buffer): VerifyResult {
  const files = auditFiles(settings);
  const result: VerifyResult = { files: files.length, lines: 0, truncatedStart: false };
  let prevLine: string | undefined;
  for (const [fi, { file, text }] of files.entries()) {
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    else if (lines.length > 0) {
      return { ...result, problem: { file, line: lines.length, message: "incomplete last line (no newline)" } };
    }
    for (const [i, raw] of lines.entries()) {
      const where = { file, line: i + 1 };
      const m = SEALED.exec(raw);
      if (!m)
        return { ...result, problem: { ...where, message: "not a sealed audit record (no mac): inserted or damaged" } };
      const body = `${m[1]!}}`;
      if (hmac(key, body) !== m[2])
        return { ...result, problem: { ...where, message: "modified: its mac does not match its content" } };
      let prev: unknown;
      try {
        prev = (JSON.parse(body) as { prev?: unknown }).prev;
      } catch {
        return { ...result, problem: { ...where, message: "not valid JSON" } };
      }
      // The mac of the line before (or, in logs written before 0.1, the HMAC of that whole line).
      if (prev !== chainValue(prevLine ?? "", key) && prev !== hmac(key, prevLine ?? "")) {
        if (prevLine === undefined && fi === 0 && settings.keep > 0 && file === `${settings.path}.${settings.keep}`) {
          // The oldest kept file starts after a file that rotation dropped.
          result.truncatedStart = true;
        } else {
          return {
            ...result,
            problem: {
              ...where,
              message:
                prevLine === undefined
                  ? "the chain does not start here: earlier lines or files were removed"
                  : i === 0
                    ? "chain broken across rotation: the last line of the previous file was removed or replaced"
                    : `chain broken: a line before it was removed, or line ${i} was replaced`,
            },
          };
        }
      }
      prevLine = raw;
      result.lines++;
    }
  }
  return result;
}

/** Every parseable record of the set, oldest first (unparseable lines are skipped; verify reports them). */
export function readAuditEntries(settings: Pick<AuditSettings, "path" | "keep">): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const { text } of auditFiles(settings)) {
    for (const raw of text.split("\n")) {
      if (raw === "") continue;
      try {
        const e = JSON.parse(raw) as AuditEntry;
        if (typeof e.time === "string" && typeof e.event === "string") out.push(e);
      } catch {
        /* damaged line */
      }
    }
  }
  return out;
}

export interface VerifiedEntries {
  /** Records in lines that verify, oldest first (all of them when the chain is intact). */
  entries: AuditEntry[];
  /** Why later lines were left out, or why nothing could be verified; undefined when all verify. */
  problem?: string;
}

/**
 * The records a tool may build on (`suggest`, `report`): only the lines before
 * the first one `verify` rejects, since a line inserted or changed by someone
 * without the key should not shape a policy. Without the key nothing verifies:
 * the records are returned with a problem saying so.
 */
export function readVerifiedEntries(
  settings: Pick<AuditSettings, "path" | "keep">,
  key: Buffer | undefined,
): VerifiedEntries {
  const all = readAuditEntries(settings);
  if (all.length === 0) return { entries: [] };
  if (key === undefined) return { entries: all, problem: "the audit key is missing, so the log cannot be verified" };
  const r = verifyAudit(settings, key);
  if (!r.problem) return { entries: all };
  // Keep the lines of the files before the broken one and the lines before it in that file.
  const entries: AuditEntry[] = [];
  for (const { file, text } of auditFiles(settings)) {
    const lines = text.split("\n");
    const stop = file === r.problem.file ? r.problem.line - 1 : lines.length;
    for (const raw of lines.slice(0, stop)) {
      if (raw === "") continue;
      try {
        const e = JSON.parse(raw) as AuditEntry;
        if (typeof e.time === "string" && typeof e.event === "string") entries.push(e);
      } catch {
        /* damaged line */
      }
    }
    if (file === r.problem.file) break;
  }
  return {
    entries,
    problem: `the audit log fails verification at ${r.problem.file}:${r.problem.line} (${r.problem.message}); only the ${entries.length} records before it are used`,
  };
}
