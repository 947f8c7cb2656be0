/**
 * One PreToolUse payload → one answer: loads the policy for the payload's cwd
 * and, when a service may be involved, decides (src/hook/service.ts). Shared by
 * `downscope hook` and the Agent SDK callback. Errors propagate; the callers'
 * top-level catch turns them into a deny.
 *
 * Split for speed: this file is all that a command naming no service needs;
 * the decision, the shell parser and the audit trail load only after the
 * prefilter (dist/hook.cjs, dist/hook-service.cjs, dist/shell.cjs).
 */
import { isAbsolute } from "node:path";
import type { Env } from "../paths.js";
import { loadPolicy } from "../policy/load.js";
import { serviceBinaries, settingsOf, type Policy } from "../policy/policy.js";
import { mayInvolveService } from "../shell/prefilter.js";
import { containmentProblem } from "../contain/check.js";
import { containedState, sessionSecrets } from "../protection/contained-state.js";
import type { HookResult } from "./decide.js";
import { PATCH_TOOL, type HookPayload } from "./protocol.js";
import {
  AGENT_DIR_VARS,
  FILE_READ_TOOL_NAMES,
  FILE_WRITE_TOOLS,
  mayReadSecrets,
  mayTouchSelf,
  projectDir,
} from "./self-gate.js";
import { CREDENTIAL_ENV, isAgentSessionVar, secretVars } from "../protection/secret-env.js";
import type { ContainedState } from "../protection/contained-state.js";

export interface AnswerOptions {
  env: Env;
  cwd: string;
  /** Told settings.hook_deadline_ms once the policy is loaded. */
  onDeadline?: (ms: number | undefined) => void;
  /** Given the loaded policy (the audit trail reads its settings without loading it again). */
  onPolicy?: (policy: Policy) => void;
  /**
   * Count the shims as covering calls the hook cannot rewrite only when a
   * directory on this environment's PATH holds them. Agents other than Claude
   * Code have no SessionStart PATH line (src/cli/session-start.ts), so the
   * default shims directory existing proves nothing for them.
   */
  shimsFromPathOnly?: boolean;
  /** Record review approvals gated and ask for the hook's own gated ones (HookContext.openApproval; Cursor). */
  gatedApprovals?: boolean;
}

export async function answerPayload(payload: HookPayload, opts: AnswerOptions): Promise<HookResult> {
  const cwd = payload.cwd && isAbsolute(payload.cwd) ? payload.cwd : opts.cwd;
  const isBash = payload.tool_name === "Bash";
  // A patch (Codex CLI's and OpenCode's apply_patch, src/hook/apply-patch.ts): every file it touches is a write.
  if (payload.tool_name === PATCH_TOOL) {
    const files = payload.tool_input.file_paths;
    if (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === "string" && f !== ""))
      return { decision: "deny", reason: "downscope: a patch that names no file cannot be checked, so it is blocked" };
    const { decideFileTool } = await import("./file-tools.js");
    const contained = containedState(opts.env) !== undefined;
    let settings: Awaited<ReturnType<typeof fileToolSettings>> = {
      protectReads: [],
      allowReads: [],
      containedWritable: [],
    };
    for (const f of files as string[]) {
      let a = decideFileTool("Write", { file_path: f }, opts.env, cwd, { contained, ...settings });
      if (a.decision === "deny" && a.outsideProject) {
        settings = await fileToolSettings(cwd, opts);
        a = decideFileTool("Write", { file_path: f }, opts.env, cwd, { contained, ...settings });
      }
      if (a.decision === "deny")
        return { decision: "deny", reason: a.reason.replace(/\bWrite of /, "the patch's change to ") };
    }
    return { decision: "none" };
  }
  // File tools: writes to protected places, writes outside the project when contained, reads of credentials.
  // A write needs the policy only for a trusted contained_writable, so it is loaded only then (the hook runs
  // before every file edit); a read needs its protect_reads and allow_reads.
  if (FILE_WRITE_TOOLS.has(payload.tool_name) || FILE_READ_TOOL_NAMES.has(payload.tool_name)) {
    const { decideFileTool } = await import("./file-tools.js");
    const contained = containedState(opts.env) !== undefined;
    const decideWith = (s: Awaited<ReturnType<typeof fileToolSettings>>) =>
      decideFileTool(payload.tool_name, payload.tool_input, opts.env, cwd, { contained, ...s });
    if (FILE_READ_TOOL_NAMES.has(payload.tool_name)) return decideWith(await fileToolSettings(cwd, opts));
    const first = decideWith({ protectReads: [], allowReads: [], containedWritable: [] });
    return first.decision === "deny" && first.outsideProject ? decideWith(await fileToolSettings(cwd, opts)) : first;
  }
  if (!isBash && !payload.tool_name.startsWith("mcp__")) return { decision: "none" };
  const command = payload.tool_input.command;
  const contained = isBash ? containedState(opts.env) : undefined;
  if (contained) {
    const problem = containmentProblem(contained, projectDir(opts.env, cwd));
    if (problem !== undefined)
      return {
        decision: "deny",
        reason: `downscope: contained mode is void here: ${problem}. Every command is blocked until the user fixes it; tell the user.`,
      };
  }
  // Self-protection first, whatever the policy says or whether it loads (src/hook/self-protect.ts).
  if (isBash && typeof command === "string" && mayTouchSelf(command, selfGateExtra(opts.env))) {
    const { answerSelf } = await import("./service.js");
    const self = await answerSelf(command, opts.env, cwd, projectDir(opts.env, cwd));
    if (self !== undefined) return self;
  }
  const policy = await loadPolicy({ cwd, env: opts.env });
  const settings = settingsOf(policy);
  opts.onDeadline?.(settings.hookDeadlineMs);
  opts.onPolicy?.(policy);
  if (isBash && typeof command !== "string") return { decision: "none" };
  if (isBash) {
    // Credentials: variables the sandbox does not keep out (contained), then the plain reads of credential
    // stores and variables (every mode), before the fast path lets a command naming no service through.
    const names = secretVars(opts.env);
    if (contained) {
      const unkept = names.filter((n) => !keptOut(contained).has(n) && !isAgentSessionVar(n));
      // And those session-start recognised by their value (a slot's token under an innocent name).
      for (const n of sessionSecrets(opts.env, payload.session_id))
        if (opts.env[n] !== undefined && !unkept.includes(n)) unkept.push(n);
      if (unkept.length > 0) return unkeptDeny(unkept);
    }
    const reads = await readsAnswer(command as string, names, cwd, opts.env, settings);
    if (reads !== undefined) return reads;
  }
  // Fast path (proven against the full analysis in test/shell/prefilter.test.ts):
  // a plain command naming no service, shell or wrapper needs no parser.
  if (isBash && !mayInvolveService(command as string, serviceBinaries(policy))) return { decision: "none" };
  const { answerService } = await import("./service.js");
  return answerService(payload, policy, cwd, opts.env, {
    shimsFromPathOnly: opts.shimsFromPathOnly === true,
    gatedApprovals: opts.gatedApprovals === true,
  });
}

/**
 * The policy's file-tool settings. A policy that does not load leaves the
 * built-in protections only: the agent must still be able to edit a broken
 * project policy back into shape with the file tools.
 */
async function fileToolSettings(cwd: string, opts: AnswerOptions) {
  try {
    const policy = await loadPolicy({ cwd, env: opts.env });
    opts.onPolicy?.(policy);
    const s = settingsOf(policy);
    return { protectReads: s.protectReads, allowReads: s.allowReads, containedWritable: s.containedWritable };
  } catch {
    return { protectReads: [], allowReads: [], containedWritable: [] };
  }
}

/** The variables contained mode's install kept out of every sandboxed process. */
function keptOut(state: ContainedState): ReadonlySet<string> {
  return new Set([...(state.keptOut ?? CREDENTIAL_ENV)]);
}

function unkeptDeny(names: readonly string[]): HookResult {
  return {
    decision: "deny",
    reason: `downscope: contained mode: ${names.join(", ")} ${names.length === 1 ? "holds" : "hold"} a credential and ${names.length === 1 ? "is" : "are"} not kept out of the sandbox, so any sandboxed process could read ${names.length === 1 ? "it" : "them"} from /proc/<pid>/environ. Every command is blocked until the user unexports ${names.length === 1 ? "it" : "them"} before starting Claude Code, or runs \`downscope install claude --contain\` again from that shell (which keeps every credential variable it finds out of the sandbox). Tell the user.`,
  };
}

/** Reads of credential stores and credential variables by a Bash command (src/hook/credential-reads.ts). */
async function readsAnswer(
  command: string,
  names: readonly string[],
  cwd: string,
  env: Env,
  settings: ReturnType<typeof settingsOf>,
): Promise<HookResult | undefined> {
  const envGate = names.length > 0 && mayDumpEnv(command, names);
  const fileGate = mayReadSecrets(command, settings.protectReads);
  if (!envGate && !fileGate) return undefined;
  const { answerReads } = await import("./service.js");
  return answerReads(command, names, env, cwd, projectDir(env, cwd), settings);
}

/** Substring tests for decideEnvReads: a variable's name, a dump command, an environ file. */
function mayDumpEnv(command: string, names: readonly string[]): boolean {
  if (names.some((n) => command.includes(n))) return true;
  return /(^|[\s;&|(`])(env|printenv|set|export|declare|typeset)(\s|$|[;&|)`])|environ/.test(command);
}

/**
 * The home directory's absolute spelling also names protected paths
 * (`/home/me/.config/…`), and so does an agent's config directory moved
 * elsewhere by its variable (CODEX_HOME=/opt/codex).
 */
function selfGateExtra(env: Env): string[] {
  const out = env.HOME ? [env.HOME] : [];
  for (const v of AGENT_DIR_VARS) {
    const d = env[v];
    if (d !== undefined && isAbsolute(d) && d !== "/") out.push(d);
  }
  return out;
}
