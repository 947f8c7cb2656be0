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
import { dataHome, type Env } from "../paths.js";
import { loadPolicy, pathContext } from "../policy/index.js";
import { serviceBinaries, settingsOf, type Policy } from "../policy/policy.js";
import { mayInvolveService } from "../shell/prefilter.js";
import { quote } from "../shell/quote.js";
import { decideBash, decideMcp, type HookContext, type HookResult } from "./decide.js";
import type { HookPayload } from "./protocol.js";

export const SHIMS_MARKER = ".downscope-shims";

export interface AnswerOptions {
  env: Env;
  cwd: string;
  /** Told settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
  /** Given the loaded policy (the audit trail reads its settings without loading it again). */
  onPolicy?: (policy: Policy) => void;
}

export async function answerPayload(payload: HookPayload, opts: AnswerOptions): Promise<HookResult> {
  const cwd = payload.cwd && isAbsolute(payload.cwd) ? payload.cwd : opts.cwd;
  const isBash = payload.tool_name === "Bash";
  if (!isBash && !payload.tool_name.startsWith("mcp__")) return { decision: "none" };
  const policy = await loadPolicy({ cwd, env: opts.env });
  opts.onDeadline?.(settingsOf(policy).hookDeadlineMs);
  opts.onPolicy?.(policy);
  const command = payload.tool_input.command;
  if (isBash && typeof command !== "string") return { decision: "none" };
  // Fast path (proven against the full analysis in test/shell/prefilter.test.ts):
  // a plain command naming no service, shell or wrapper needs no parser.
  if (isBash && !mayInvolveService(command as string, serviceBinaries(policy))) return { decision: "none" };
  const ctx: HookContext = {
    policy,
    pathCtx: pathContext(cwd, opts.env),
    execCommand: execCommand(opts.env),
    shimsOnPath: shimsOnPath(opts.env),
    analyze: isBash ? (await import("../shell/analyze.js")).analyzeShell : notForMcp,
    approve: (binary, args) => createApproval(binary, args, opts.env),
  };
  if (!isBash) return decideMcp(payload.tool_name, payload.tool_input, ctx);
  return decideBash(command as string, ctx);
}

/** MCP tool calls are decided without the shell analysis; reaching it is a bug, and the hook then denies. */
function notForMcp(): never {
  throw new Error("shell analysis requested for an MCP tool call");
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

/**
 * Whether the shims will scope calls the hook cannot rewrite: a shims directory
 * is on PATH, or the default one exists (`downscope session-start`, installed
 * with the hook, creates it and puts it first on PATH for every Bash command of
 * the session through CLAUDE_ENV_FILE, which the hook's own environment does
 * not see). Same directory as defaultShimsDir in src/exec/shims.ts.
 */
export function shimsOnPath(env: Env): boolean {
  if (existsSync(join(dataHome(env), "shims", SHIMS_MARKER))) return true;
  return pathDirs(env).some((d) => existsSync(join(d, SHIMS_MARKER)));
}
