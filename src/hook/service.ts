/**
 * The hook's answer once a service may be involved: how to name
 * downscope-exec, whether the shims cover what cannot be rewritten, the shell
 * analysis, and the decision. Loaded by answer.ts after the prefilter; the
 * hook's audit call comes from here too, so that a command naming no service
 * loads none of it (dist/hook-service.cjs).
 */
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { createApproval, openGatedApproval } from "../approval/approval.js";
import { containedState } from "../protection/contained-state.js";
import { packageRoot } from "../package-root.js";
import { dataHome, SHIMS_MARKER, type Env } from "../paths.js";
import { pathContext } from "../policy/index.js";
import type { Policy } from "../policy/policy.js";
import type { analyzeShell } from "../shell/analyze.js";
import { quote } from "../shell/quote.js";
import { analyzeSimple } from "../shell/simple.js";
import { decideBash, decideMcp, type HookContext, type HookResult } from "./decide.js";
import type { HookPayload } from "./protocol.js";
import { decideSelf } from "./self-protect.js";
import { decideEnvReads } from "./credential-reads.js";

export { auditEvent } from "../audit/event.js";

export async function answerService(
  payload: HookPayload,
  policy: Policy,
  cwd: string,
  env: Env,
  opts: { shimsFromPathOnly?: boolean; gatedApprovals?: boolean } = {},
): Promise<HookResult> {
  const isBash = payload.tool_name === "Bash";
  const pathCtx = pathContext(cwd, env);
  const contained = containedState(env);
  const exec = contained ? contained.exec : execCommand(env);
  const shims = shimsOnPath(env, opts.shimsFromPathOnly === true);
  const analyze = isBash ? await analyzer(payload.tool_input.command as string) : notForMcp;
  const ctx: HookContext = {
    policy,
    pathCtx,
    execCommand: exec,
    shimsOnPath: shims,
    analyze,
    approve: (binary, args) => createApproval(binary, args, env, Date.now(), opts.gatedApprovals === true),
    ...(contained ? { contained: true } : {}),
    ...(opts.gatedApprovals ? { openApproval: (n, b, a) => openGatedApproval(n, b, a, env) } : {}),
  };
  if (!isBash) return decideMcp(payload.tool_name, payload.tool_input, ctx);
  return decideBash(payload.tool_input.command as string, ctx);
}

/**
 * Self-protection for a Bash command the cheap gate flagged: deny, or
 * undefined to go on to the policy. A command that cannot be parsed is
 * denied here (it names downscope or a protected path and cannot be checked).
 */
export async function answerSelf(
  command: string,
  env: Env,
  cwd: string,
  project: string,
): Promise<HookResult | undefined> {
  const a = (await analyzer(command))(command);
  if (a.errors.length > 0)
    return {
      decision: "deny",
      reason: `downscope: cannot parse this command (${a.errors[0]}); write it in plain Bash syntax so it can be checked`,
    };
  return decideSelf(a, { env, cwd, project });
}

/**
 * Reads of credential stores and credential variables (default mode's guard,
 * src/hook/credential-reads.ts) for a command the cheap gate flagged.
 */
export async function answerReads(
  command: string,
  names: readonly string[],
  env: Env,
  cwd: string,
  project: string,
  settings: { protectReads: readonly string[]; allowReads: readonly string[] },
): Promise<HookResult | undefined> {
  const byEnv = decideEnvReads(command, names);
  if (byEnv !== undefined) return byEnv;
  const a = (await analyzer(command))(command);
  if (a.errors.length > 0) return undefined; // left to the decision, which denies what it cannot parse when it matters
  // The list of credential files loads only for a command that may name one (the gate in answer.ts).
  const [{ decideReads }, { readProtected }] = await Promise.all([
    import("./credential-reads.js"),
    import("./file-tools.js"),
  ]);
  return decideReads(a, { env, cwd, project, list: readProtected(env, project, settings) });
}

/**
 * The shell analysis for `command`: a plain command is read without the
 * parser (src/shell/simple.ts, proven equal to the full analysis wherever it
 * answers); anything else loads the parser (dist/shell.cjs).
 */
let lastAnalysis: { text: string; a: ReturnType<typeof analyzeShell> } | undefined;

async function analyzer(command: string): Promise<typeof analyzeShell> {
  const simple = analyzeSimple(command);
  if (simple === undefined) {
    const { analyzeShell } = await import("../shell/analyze.js");
    // The self-protection check and the decision analyse the same text: parse it once.
    return (text) => {
      if (lastAnalysis?.text !== text) lastAnalysis = { text, a: analyzeShell(text) };
      return lastAnalysis.a;
    };
  }
  return (text) => {
    // decide.ts analyses the command it was given, once; anything else is a bug, and the hook then denies.
    if (text !== command) throw new Error("shell analysis asked for another text than the hook's command");
    return simple;
  };
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
    const candidate = join(dir, "downscope-exec");
    // existsSync first: accessSync throws (and builds an error) for every directory without it.
    if (!existsSync(candidate)) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return "downscope-exec";
    } catch {
      // there, but not executable
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
 * `fromPathOnly`: only the PATH counts (agents without that SessionStart line).
 */
export function shimsOnPath(env: Env, fromPathOnly = false): boolean {
  if (!fromPathOnly && existsSync(join(dataHome(env), "shims", SHIMS_MARKER))) return true;
  return pathDirs(env).some((d) => existsSync(join(d, SHIMS_MARKER)));
}
