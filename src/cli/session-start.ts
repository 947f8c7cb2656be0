/**
 * `downscope session-start`: the Claude Code SessionStart hook
 * (https://docs.claude.com/en/docs/claude-code/hooks#sessionstart). Installs or
 * refreshes the shims and appends `export PATH="<shims>:$PATH"` to the file
 * named by CLAUDE_ENV_FILE, which Claude Code sources before each Bash command.
 *
 * Contained mode, also: every variable of Claude Code's environment that holds
 * a credential — by name or shape, or because its value is a slot's token —
 * is unset in the agent's shell, and the ones the sandbox does not keep out
 * (sandbox.credentials.envVars, written at install) are recorded for this
 * session, so that the PreToolUse hook blocks every command while they are
 * set (src/hook/answer.ts): an `unset` leaves the value in the shell's own
 * /proc/<pid>/environ.
 *
 * SessionStart cannot block a session, so this never fails: on any error it
 * says so on stderr, writes nothing and exits 0. The PreToolUse hook still
 * decides every command it sees.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { errorMessage } from "../errors.js";
import { expandHome } from "../paths.js";
import type { Policy } from "../policy/policy.js";
import { loadPolicy } from "../policy/load.js";
import { containedState, writeSessionSecrets, type ContainedState } from "../protection/contained-state.js";
import { CREDENTIAL_ENV, isAgentSessionVar, secretVars } from "../protection/secret-env.js";
import type { Command, Io } from "../io.js";
import { readServeConfig } from "../serve/config.js";
import { pathExportLine } from "./env.js";
import { ensureShims } from "./shims.js";

/** The slots' source variables, and the values of their sources this process can read (to recognise them under other names). */
function slotSources(policy: Policy, io: Io): { vars: string[]; values: Set<string> } {
  const vars: string[] = [];
  const values = new Set<string>();
  for (const l of policy.layers)
    for (const s of Object.values(l.config.services))
      for (const t of Object.values(s.token_slots ?? {})) {
        if (t.env_var !== undefined) {
          vars.push(t.env_var);
          const v = io.env[t.env_var]?.trim();
          if (v) values.add(v);
        }
        if (t.file !== undefined)
          try {
            const v = readFileSync(expandHome(t.file, io.env), "utf8").trim();
            if (v) values.add(v);
          } catch {
            /* a missing source is doctor's to report */
          }
      }
  return { vars, values };
}

/**
 * With `install claude --serve`, the decision service must run before the
 * session's first tool call: started here unless it runs (idempotent; the
 * port is the lock when several sessions start at once), and checked to be
 * downscope's own (src/serve/lifecycle.ts). A SessionStart hook cannot stop
 * the session, so a problem is told to the user (systemMessage) and the
 * http hook blocks every call until it is fixed (fail closed).
 */
async function ensureDecisionService(io: Io): Promise<void> {
  if (readServeConfig(io.env) === undefined) return;
  let message: string;
  try {
    const { ensureService } = await import("../serve/lifecycle.js");
    const s = await ensureService(io.env);
    if (s.state === "ours") return;
    const { describe } = await import("./serve.js");
    message = `downscope: the decision service is ${describe(s)}. Until it runs, Claude Code blocks every tool call.`;
  } catch (e) {
    message = `downscope: the decision service cannot be started (${errorMessage(e)}). Until it runs, Claude Code blocks every tool call; \`downscope serve --ensure\` says why.`;
  }
  io.stderr(`${message}\n`);
  io.stdout(`${JSON.stringify({ systemMessage: message })}\n`);
}

/**
 * The variables to unset, and those the sandbox does not keep out. Claude
 * Code's own session variables are left alone (src/protection/secret-env.ts).
 */
export function sessionSecrets(
  env: Io["env"],
  state: ContainedState,
  slots: { vars: readonly string[]; values: ReadonlySet<string> },
): { unset: string[]; unkept: string[] } {
  const found = secretVars(env, slots.values);
  const unset = [...new Set([...CREDENTIAL_ENV, ...slots.vars, ...found])].sort();
  const kept = new Set(state.keptOut ?? CREDENTIAL_ENV);
  return { unset, unkept: found.filter((n) => !kept.has(n) && !isAgentSessionVar(n)) };
}

export const sessionStart: Command = async (_argv, io) => {
  try {
    const text = await io.stdin();
    const payload = text.trim() === "" ? {} : (JSON.parse(text) as { session_id?: unknown });
    await ensureDecisionService(io);
    const target = io.env.CLAUDE_ENV_FILE;
    if (target === undefined || target === "") {
      io.stderr("downscope session-start: CLAUDE_ENV_FILE is not set; the shims are not put on PATH\n");
      return 0;
    }
    const report = await ensureShims(io);
    let line = pathExportLine(report.dir);
    const state = containedState(io.env);
    if (state) {
      const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
      const { unset, unkept } = sessionSecrets(io.env, state, slotSources(policy, io));
      line += `\nunset ${unset.join(" ")}`;
      if (typeof payload.session_id === "string" && payload.session_id !== "")
        writeSessionSecrets(io.env, payload.session_id, unkept);
    }
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {
      current = "";
    }
    if (!current.includes(line)) appendFileSync(target, (current === "" || current.endsWith("\n") ? "" : "\n") + line);
    return 0;
  } catch (e) {
    io.stderr(`downscope session-start: ${errorMessage(e)}; the shims are not put on PATH this session\n`);
    return 0;
  }
};
