/**
 * The trust store: project config files the user has approved, pinned by
 * sha256 (like direnv's `allow`). A project file can be edited by the agent,
 * so only a pinned, unmodified one may grant credentials.
 *
 * Stored as JSON at $XDG_STATE_HOME/downscope/trusted.json (0600).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

interface TrustFile {
  version: 1;
  /** absolute path → sha256 of the trusted content */
  files: Record<string, string>;
}

export function readTrustStore(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return new Map();
  }
  try {
    const data = JSON.parse(text) as Partial<TrustFile>;
    if (data.version !== 1 || typeof data.files !== "object" || data.files === null) return new Map();
    return new Map(Object.entries(data.files).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    // A corrupt store trusts nothing: fail closed.
    return new Map();
  }
}

export function writeTrustStore(path: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const data: TrustFile = { version: 1, files: Object.fromEntries([...files].sort()) };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
}
