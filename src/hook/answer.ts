/**
 * One PreToolUse payload → one answer: loads the policy for the payload's cwd,
 * finds how to name downscope-exec, and decides. Shared by `downscope hook`
 * and the Agent SDK callback. Errors propagate; the callers' top-level catch
 * turns them into a deny.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { createApproval } from "../approval/approval.js";
import { packageRoot } from "../package-root.js";
import type { Env } from "../paths.js";
import { loadPolicy, pathContext } from "../policy/index.js";
import { settingsOf } from "../policy/policy.js";
import { quote } from "../shell/analyze.js";
import { decideBash, decideMcp, type HookContext, type HookResult } from "./decide.js";
import type { HookPayload } from "./protocol.js";

export const SHIMS_MARKER = ".downscope-shims";

export interface AnswerOptions {
  env: Env;
  cwd: string;
  /** Told settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
}

export function answerPayload(payload: HookPayload, opts: AnswerOptions): HookResult {
  const cwd = payload.cwd && isAbsolute(payload.cwd) ? payload.cwd : opts.cwd;
  const isBash = payload.tool_name === "Bash";
  if (!isBash && !payload.tool_name.startsWith("mcp__")) return { decision: "none" };
  const policy = loadPolicy({ cwd, env: opts.env });
  opts.onDeadline?.(settingsOf(policy).hookDeadlineMs);
  const ctx: HookContext = {
    policy,
    pathCtx: pathContext(cwd, opts.env),
    execCommand: execCommand(opts.env),
    shimsOnPath: shimsOnPath(opts.env),
    approve: (binary, args) => createApproval(binary, args, opts.env),
  };
  if (!isBash) return decideMcp(payload.tool_name, payload.tool_input, ctx);
  const command = payload.tool_input.command;
  if (typeof command !== "string") return { decision: "none" };
  return decideBash(command, ctx);
}

function pathDirs(env: Env): string[] {
  return (env.PATH ?? "").split(delimiter).filter((d) => d !== "" && isAbsolute(d));
}

/** `downscope-exec` when it is on PATH, else the shell-quoted absolute path of this package's bin. */
export function execCommand(env: Env): string {
  for (const dir of pathDirs(env)) {
    try {
      accessSync(join(dir, "downscope-exec"), constants.X_OK);
      return "downscope-exec";
    } catch {
      // not here
    }
  }
  return quote(join(packageRoot(), "bin", "downscope-exec.js"));
}

export function shimsOnPath(env: Env): boolean {
  return pathDirs(env).some((d) => existsSync(join(d, SHIMS_MARKER)));
}
