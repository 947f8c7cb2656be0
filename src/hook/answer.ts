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
import { containedState } from "../contain/state.js";
import type { HookResult } from "./decide.js";
import { PATCH_TOOL, type HookPayload } from "./protocol.js";
import { AGENT_DIR_VARS, FILE_WRITE_TOOLS, mayTouchSelf, projectDir } from "./self-gate.js";

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
    const { decideFileWrite } = await import("./protected-paths.js");
    for (const f of files as string[]) {
      const a = decideFileWrite("Write", { file_path: f }, opts.env, cwd);
      if (a.decision === "deny")
        return { decision: "deny", reason: a.reason.replace(/\bWrite of /, "the patch's change to ") };
    }
    return { decision: "none" };
  }
  // File tools: only writes to downscope's own files and hook settings are looked at (no policy, no parser).
  if (FILE_WRITE_TOOLS.has(payload.tool_name)) {
    const { decideFileWrite } = await import("./protected-paths.js");
    return decideFileWrite(payload.tool_name, payload.tool_input, opts.env, cwd);
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
  opts.onDeadline?.(settingsOf(policy).hookDeadlineMs);
  opts.onPolicy?.(policy);
  if (isBash && typeof command !== "string") return { decision: "none" };
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
