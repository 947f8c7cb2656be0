/**
 * The hook's check of Claude Code's file tools (Write, Edit, MultiEdit,
 * NotebookEdit): a write to a protected location (src/protection/) is denied,
 * whatever the policy says. Loaded on the hook's fast path for file tools
 * (its own bundle, dist/hook-files.cjs), so it stays small: no parser, no
 * policy.
 */
import { isAbsolute, join } from "node:path";
import type { Env } from "../paths.js";
import { displayPath, home, protectedHit, protectedPaths, selfDenyReason } from "../protection/protected-paths.js";
import { FILE_WRITE_TOOLS, projectDir } from "./self-gate.js";

export type FileToolAnswer = { decision: "none" } | { decision: "deny"; reason: string };

/**
 * A file tool call → deny when it would write a protected location, else no
 * opinion. Fail closed: a write tool whose path is missing or not a string is
 * denied (it cannot be checked).
 */
export function decideFileWrite(
  tool: string,
  input: Readonly<Record<string, unknown>>,
  env: Env,
  cwd: string,
): FileToolAnswer {
  const field = FILE_WRITE_TOOLS.get(tool);
  if (field === undefined) return { decision: "none" };
  const file = input[field];
  if (typeof file !== "string" || file === "")
    return { decision: "deny", reason: `downscope: ${tool} without a ${field} cannot be checked, so it is blocked` };
  const project = projectDir(env, cwd);
  const hit = protectedHit(isAbsolute(file) ? file : join(cwd, file), protectedPaths(env, project), [
    home(env),
    project,
  ]);
  if (hit === undefined) return { decision: "none" };
  return { decision: "deny", reason: selfDenyReason(`${tool} of ${displayPath(file, env)}`, hit) };
}
