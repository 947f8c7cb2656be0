/**
 * The environment a request's decision runs with (pure).
 *
 * A process hook inherits Claude Code's environment; an HTTP hook's request
 * carries none. Claude Code 2.1.328 interpolates `$NAME` in an http hook's
 * header values from its own environment for the names listed in
 * `allowedEnvVars` (unset → empty string; checked with the real CLI), so
 * `install claude --serve` sends, one header each, the variables that
 * decide what `downscope hook` would read: where downscope's files are
 * (HOME, XDG_*, DOWNSCOPE_MANAGED_CONFIG), the project policy override
 * (DOWNSCOPE_CONFIG), PATH (how to name downscope-exec, whether the shims
 * are there), the deadline and debug switches. Everything else comes from
 * the service's own environment, which holds no credential (the starter's
 * is stripped: src/serve/lifecycle.ts).
 *
 * CLAUDE_PROJECT_DIR is not in Claude Code's own environment (it sets it for
 * command hooks only; the header came back empty), so the project is found
 * from the payload: projectOf.
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import type { Env } from "../paths.js";

/** The session's variables a request carries, one header each. */
export const SESSION_ENV = [
  "HOME",
  "XDG_CONFIG_HOME",
  "XDG_STATE_HOME",
  "XDG_CACHE_HOME",
  "XDG_DATA_HOME",
  "PATH",
  "DOWNSCOPE_CONFIG",
  "DOWNSCOPE_MANAGED_CONFIG",
  "DOWNSCOPE_HOOK_DEADLINE_MS",
  "DOWNSCOPE_DEBUG",
] as const;

/**
 * What a hook process of another agent sends (bin/serve-client.sh): the same,
 * and CLAUDE_PROJECT_DIR, which Gemini CLI sets for its hooks; and its
 * working directory as CWD_HEADER.
 */
export const HOOK_PROCESS_ENV = [...SESSION_ENV, "CLAUDE_PROJECT_DIR"] as const;
export const CWD_HEADER = "X-Downscope-Cwd";

/** `X-Downscope-Env-XDG-CONFIG-HOME` for XDG_CONFIG_HOME (HTTP header names are case-insensitive; node lowercases them). */
export const envHeader = (name: string) => `X-Downscope-Env-${name.replaceAll("_", "-")}`;

/** A request's headers, each with every value it was sent with (node's `headersDistinct`: a repeated header is not merged). */
type Headers = Readonly<Record<string, string[] | undefined>>;

/**
 * `base` with each session variable the request names: a header that is
 * present sets the variable, or unsets it when empty (Claude Code sends an
 * unset variable as ""); a header that is absent leaves the service's value.
 * A variable sent twice is refused: it cannot be told which one the session has.
 */
export function requestEnv(base: Env, headers: Headers, names: readonly string[] = SESSION_ENV): Env {
  const env: Record<string, string | undefined> = { ...base };
  for (const name of names) {
    const values = headers[envHeader(name).toLowerCase()];
    if (values === undefined) continue;
    if (values.length !== 1) throw new RequestError(`the header ${envHeader(name)} is sent more than once`);
    const v = values[0]!;
    if (v === "") delete env[name];
    else env[name] = v;
  }
  return env;
}

export class RequestError extends Error {
  override name = "RequestError";
}

/**
 * Claude Code's name for a project directory under `<config>/projects/`: the
 * path with every character but letters and digits as `-`; a name longer
 * than 200 characters is cut there and the path's 32-bit string hash (Java's
 * hashCode), in base 36, appended — as the 2.1.328 CLI computes it.
 */
export function projectName(dir: string): string {
  const slug = projectSlug(dir);
  if (slug.length <= 200) return slug;
  let h = 0;
  for (let i = 0; i < dir.length; i++) h = ((h << 5) - h + dir.charCodeAt(i)) | 0;
  return `${slug.slice(0, 200)}-${Math.abs(h).toString(36)}`;
}

export const projectSlug = (dir: string) => dir.replace(/[^a-zA-Z0-9]/g, "-");

/**
 * The session's project (what Claude Code gives command hooks as
 * CLAUDE_PROJECT_DIR: the directory it was started in), from the payload:
 * the payload's `cwd` is that directory or one below it (Claude Code resets
 * the shell to the project when a command leaves it), and its
 * `transcript_path` lies under `projects/<name of the project>/`. So the
 * project is the ancestor-or-self of cwd with that name.
 *
 * When no ancestor has it (a payload without a transcript), the nearest
 * ancestor-or-self of cwd below the home directory that has a `.claude`
 * directory, else cwd: a project's settings live in its `.claude/`, which is
 * what the self-protection guards (the home's own `.claude/` is Claude Code's
 * user directory, not a project).
 */
export function projectOf(
  cwd: string,
  transcriptPath: string | undefined,
  home: string | undefined,
  exists: (p: string) => boolean = existsSync,
): string {
  const ancestors: string[] = [];
  for (let d = resolve(cwd); ; d = dirname(d)) {
    ancestors.push(d);
    if (dirname(d) === d) break;
  }
  const parts = typeof transcriptPath === "string" && isAbsolute(transcriptPath) ? transcriptPath.split("/") : [];
  const names = new Set(parts.flatMap((p, i) => (p === "projects" && parts[i + 1] ? [parts[i + 1]!] : [])));
  const named = ancestors.find((a) => names.has(projectName(a)));
  if (named !== undefined) return named;
  const h = home !== undefined && isAbsolute(home) ? resolve(home) : undefined;
  const below = h === undefined ? ancestors : ancestors.slice(0, Math.max(0, ancestors.indexOf(h)));
  return (
    (h !== undefined && !ancestors.includes(h) ? ancestors : below).find((a) => exists(join(a, ".claude"))) ??
    resolve(cwd)
  );
}
