/**
 * The hook's check of Claude Code's file tools, which run outside any sandbox:
 *   - Write, Edit, MultiEdit, NotebookEdit: a write to a protected location
 *     (src/protection/protected-paths.ts) is denied in every mode; in
 *     contained mode a write outside the project is denied too, as the
 *     sandbox denies a Bash write there (Claude Code's memory files and the
 *     paths a trusted layer lists in `settings.contained_writable` excepted):
 *     the Write tool could otherwise replace a user-owned `gh` or plant a
 *     `~/.local/bin/git` that runs outside the sandbox with a credential;
 *   - Read, Grep, Glob, NotebookRead: a read of a credential store or of
 *     downscope's secrets is denied (src/protection/credential-stores.ts,
 *     plus `settings.protect_reads`, minus a trusted `settings.allow_reads`).
 * Loaded on the hook's fast path for file tools (its own bundle,
 * dist/hook-files.cjs), so it stays small: no parser.
 */
import { isAbsolute, join, resolve } from "node:path";
import { inside, realpathOfExisting, type Env } from "../paths.js";
import { credentialReads } from "../protection/credential-stores.js";
import {
  displayPath,
  home,
  protectedHit,
  protectedPaths,
  selfDenyReason,
  type ProtectedPath,
} from "../protection/protected-paths.js";
import { FILE_WRITE_TOOLS, projectDir } from "./self-gate.js";

export type FileToolAnswer =
  | { decision: "none" }
  /** `outsideProject`: denied only because it writes outside the project when contained (a trusted `contained_writable` may allow it). */
  | { decision: "deny"; reason: string; outsideProject?: true };

/** Claude Code's tools that read files, and the input fields naming what they read. */
export const FILE_READ_TOOLS: ReadonlyMap<string, readonly string[]> = new Map([
  ["Read", ["file_path"]],
  ["NotebookRead", ["notebook_path"]],
  ["Grep", ["path"]],
  ["Glob", ["path", "pattern"]],
]);

export interface FileToolSettings {
  /** Contained mode is on. */
  contained: boolean;
  protectReads: readonly string[];
  allowReads: readonly string[];
  containedWritable: readonly string[];
}

/**
 * A file tool call → deny, or no opinion. Fail closed: a write tool whose path
 * is missing or not a string is denied (it cannot be checked).
 */
export function decideFileTool(
  tool: string,
  input: Readonly<Record<string, unknown>>,
  env: Env,
  cwd: string,
  settings: FileToolSettings,
): FileToolAnswer {
  if (FILE_READ_TOOLS.has(tool)) return decideFileRead(tool, input, env, cwd, settings);
  const field = FILE_WRITE_TOOLS.get(tool);
  if (field === undefined) return { decision: "none" };
  const file = input[field];
  if (typeof file !== "string" || file === "")
    return { decision: "deny", reason: `downscope: ${tool} without a ${field} cannot be checked, so it is blocked` };
  const project = projectDir(env, cwd);
  const target = isAbsolute(file) ? file : join(cwd, file);
  const hit = protectedHit(target, protectedPaths(env, project), [home(env), project]);
  if (hit !== undefined)
    return { decision: "deny", reason: selfDenyReason(`${tool} of ${displayPath(file, env)}`, hit) };
  if (settings.contained && !writableWhenContained(target, env, project, settings.containedWritable))
    return {
      decision: "deny",
      outsideProject: true,
      reason: `downscope: contained mode: ${tool} of ${displayPath(file, env)} is outside the project (${project}). The file tools write only inside the project, as sandboxed commands do; if the file must change, ask the user to change it.`,
    };
  return { decision: "none" };
}

/**
 * Where the file tools may write when contained: the project, Claude Code's
 * own memory (`~/.claude/CLAUDE.md`, `~/.claude/projects/<project>/memory/`),
 * and what a trusted layer lists. Judged on the path with links resolved, so a
 * link in the project to a file outside it does not count as the project.
 */
function writableWhenContained(target: string, env: Env, project: string, extra: readonly string[]): boolean {
  const real = realpathOfExisting(resolve(target));
  const h = home(env);
  const claude =
    env.CLAUDE_CONFIG_DIR && isAbsolute(env.CLAUDE_CONFIG_DIR) ? env.CLAUDE_CONFIG_DIR : join(h, ".claude");
  const roots = [
    project,
    join(claude, "CLAUDE.md"),
    ...extra.map((p) => (p === "~" || p.startsWith("~/") ? join(h, p.slice(1)) : resolve(project, p))),
  ].map((p) => realpathOfExisting(resolve(p)));
  if (roots.some((r) => inside(real, r))) return true;
  // Auto memory: ~/.claude/projects/<project key>/memory/…
  const projects = realpathOfExisting(join(claude, "projects"));
  if (inside(real, projects)) return real.slice(projects.length + 1).split("/")[1] === "memory";
  return false;
}

function decideFileRead(
  tool: string,
  input: Readonly<Record<string, unknown>>,
  env: Env,
  cwd: string,
  settings: FileToolSettings,
): FileToolAnswer {
  const project = projectDir(env, cwd);
  const list = readProtected(env, project, settings);
  for (const field of FILE_READ_TOOLS.get(tool) ?? []) {
    const raw = input[field];
    if (raw === undefined) continue;
    if (typeof raw !== "string")
      return { decision: "deny", reason: `downscope: ${tool} with a ${field} that is not a string cannot be checked` };
    // A Glob pattern reads what its fixed part names (`~/.aws/*` names ~/.aws); a pattern relative to the
    // search directory names nothing by itself.
    const named = field === "pattern" ? fixedPrefix(raw) : raw;
    if (named === undefined || named === "") continue;
    const expanded = named === "~" || named.startsWith("~/") ? join(home(env), named.slice(1)) : named;
    const target = isAbsolute(expanded) ? expanded : join(cwd, expanded);
    const hit = protectedHit(target, list, [home(env), project]);
    if (hit !== undefined)
      return {
        decision: "deny",
        reason: `downscope: ${tool} of ${displayPath(target, env)} would read ${hit.what} (${hit.path}), a credential kept from the agent. Do not work around this: if you need something from it, ask the user.`,
      };
    // Grep reads every file below the directory it names.
    if (tool === "Grep") {
      const real = realpathOfExisting(resolve(target));
      const under = list.find((p) => inside(realpathOfExisting(p.path), real) && real !== "/" && real !== project);
      if (under !== undefined && inside(real, home(env)))
        return {
          decision: "deny",
          reason: `downscope: Grep of ${displayPath(target, env)} would read ${under.what} (${under.path}) below it, a credential kept from the agent. Search a narrower directory.`,
        };
    }
  }
  return { decision: "none" };
}

/** The files the agent may not read: downscope's secrets and the credential stores, as the policy adjusts them. */
export function readProtected(
  env: Env,
  project: string,
  s: Pick<FileToolSettings, "protectReads" | "allowReads">,
): ProtectedPath[] {
  const own = protectedPaths(env, project).filter((p) => p.secret);
  const add = s.protectReads.map((p) => (p === "~" || p.startsWith("~/") || isAbsolute(p) ? p : join(project, p)));
  return [...own, ...credentialReads(env, { add, allow: s.allowReads })];
}

/** The part of a glob before its first wildcard, up to a whole path component. */
function fixedPrefix(pattern: string): string | undefined {
  const i = pattern.search(/[*?[{]/);
  if (i === -1) return pattern;
  const fixed = pattern.slice(0, i);
  const slash = fixed.lastIndexOf("/");
  return slash <= 0 ? undefined : fixed.slice(0, slash);
}
