/**
 * `downscope session-start`: the Claude Code SessionStart hook
 * (https://docs.claude.com/en/docs/claude-code/hooks#sessionstart). Installs or
 * refreshes the shims and appends `export PATH="<shims>:$PATH"` to the file
 * named by CLAUDE_ENV_FILE, which Claude Code sources before each Bash command.
 *
 * SessionStart cannot block a session, so this never fails: on any error it
 * says so on stderr, writes nothing and exits 0. The PreToolUse hook still
 * decides every command it sees.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { errorMessage } from "../errors.js";
import { pathExportLine } from "./env.js";
import type { Command } from "./io.js";
import { ensureShims } from "./shims.js";
import { containedState } from "../contain/state.js";
import { loadPolicy } from "../policy/load.js";
import type { Io } from "./io.js";

async function slotVars(io: Io): Promise<string[]> {
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  return policy.layers.flatMap((l) =>
    Object.values(l.config.services).flatMap((s) =>
      Object.values(s.token_slots ?? {}).flatMap((t) => (t.env_var !== undefined ? [t.env_var] : [])),
    ),
  );
}
import { CREDENTIAL_ENV } from "../contain/settings.js";
import { readServeConfig } from "../serve/config.js";

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
 * Contained mode: the credential variables are unset in the agent's shell too.
 * The sandbox's credentials.envVars deny is what removes them for real (an
 * `unset` here leaves the value in the shell's own /proc/<pid>/environ); this
 * line covers a sandbox that lacks the setting, and the shell's own children.
 */
function unsetLine(io: Io, slots: readonly string[]): string {
  const names = new Set<string>([...CREDENTIAL_ENV, ...slots]);
  for (const k of Object.keys(io.env)) if (/^(GITHUB_TOKEN|GH_TOKEN)_/.test(k)) names.add(k);
  return `unset ${[...names].sort().join(" ")}`;
}

export const sessionStart: Command = async (_argv, io) => {
  try {
    // The payload (session_id, source, ...) is read so the pipe is drained; nothing in it changes what we do.
    const text = await io.stdin();
    if (text.trim() !== "") JSON.parse(text);
    await ensureDecisionService(io);
    const target = io.env.CLAUDE_ENV_FILE;
    if (target === undefined || target === "") {
      io.stderr("downscope session-start: CLAUDE_ENV_FILE is not set; the shims are not put on PATH\n");
      return 0;
    }
    const report = await ensureShims(io);
    const line = pathExportLine(report.dir) + (containedState(io.env) ? `\n${unsetLine(io, await slotVars(io))}` : "");
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
