/**
 * The module `install opencode` and `install pi` write into the agent's
 * plugin (extension) directory: JavaScript the agent loads in its own
 * process, which hands every tool call to `downscope hook --agent <name>`
 * (src/hook/agents/plugin.ts: a payload and an answer of downscope's own) and
 * applies the answer through the agent's extension API.
 *
 * Fail closed inside the agent: the hook runs synchronously under a timeout;
 * anything other than a well-formed answer (node missing, a crash, a
 * timeout, a bad answer, an unknown decision) throws, and both agents block
 * a tool whose before-hook throws (OpenCode's tool.execute.before; pi's
 * tool_call: "errors block the tool"). What neither agent does is refuse to
 * start when the module itself cannot be loaded: it logs and goes on without
 * it. The module therefore imports nothing but node:child_process, and is a
 * protected file.
 */
import { MARK } from "./spec.js";

/** Milliseconds the module waits for the hook before blocking the call. */
export const PLUGIN_TIMEOUT_MS = 10_000;

/** The first line of every module downscope writes: uninstall removes a file only when it starts so. */
export const pluginHeader = (agent: string, target: string) =>
  `// ${MARK} the ${agent} ${target === "pi" ? "extension" : "plugin"} that \`downscope install ${target}\` wrote; \`downscope uninstall ${target}\` removes it.\n`;

/** The shared part: run the hook, return its answer or throw. */
function runner(target: string, node: string, bin: string): string {
  return `import { spawnSync } from "node:child_process";

const NODE = ${JSON.stringify(node)};
const BIN = ${JSON.stringify(bin)};
const FAILED = "downscope: the hook could not run, so the tool call is blocked. Run \`downscope doctor\`.";

// Every tool call is decided by downscope's shared hook (docs/agents.md). Any failure blocks the call.
function decide(payload) {
  const r = spawnSync(NODE, [BIN, "hook", "--agent", ${JSON.stringify(target)}], {
    input: JSON.stringify(payload),
    encoding: "utf8",
    timeout: ${PLUGIN_TIMEOUT_MS},
    killSignal: "SIGKILL",
    maxBuffer: 1 << 20,
  });
  if (r.error || r.status !== 0) throw new Error(FAILED);
  let a;
  try {
    a = JSON.parse(r.stdout);
  } catch {
    throw new Error(FAILED);
  }
  if (a === null || typeof a !== "object" || !["none", "deny", "ask", "rewrite"].includes(a.decision)) throw new Error(FAILED);
  if (a.decision !== "none" && typeof a.reason !== "string") throw new Error(FAILED);
  if ((a.decision === "rewrite" || a.decision === "ask") && (typeof a.field !== "string" || typeof a.value !== "string"))
    throw new Error(FAILED);
  return a;
}
`;
}

/**
 * OpenCode (opencode-ai): a plugin module exporting one plugin function; its
 * `tool.execute.before` may change `output.args` or throw to block
 * (https://opencode.ai/docs/plugins/; run for real in test/e2e/opencode.test.ts).
 * OpenCode's plugin API cannot ask the user: the hook turns a review into a deny.
 */
export function opencodeModule(node: string, bin: string): string {
  return `${pluginHeader("OpenCode", "opencode")}${runner("opencode", node, bin)}
export const Downscope = async ({ directory, worktree }) => ({
  "tool.execute.before": async (input, output) => {
    const a = decide({
      tool_name: input.tool,
      tool_input: output.args ?? {},
      cwd: directory,
      project_dir: worktree && worktree !== "/" ? worktree : directory,
      session_id: input.sessionID,
    });
    if (a.decision === "none") return;
    if (a.decision === "rewrite") {
      output.args[a.field] = a.value;
      return;
    }
    throw new Error(a.reason);
  },
});
`;
}

/**
 * pi (@mariozechner/pi-coding-agent): an extension whose `tool_call` handler
 * may change `event.input`, return `{block: true, reason}`, or ask the user
 * with `ctx.ui.confirm` (interactive mode only; `ctx.hasUI` is false with -p)
 * (docs/extensions.md of the package; run for real in test/e2e/pi.test.ts).
 */
export function piModule(node: string, bin: string): string {
  return `${pluginHeader("pi", "pi")}${runner("pi", node, bin)}
export default function downscope(pi) {
  pi.on("tool_call", async (event, ctx) => {
    const a = decide({ tool_name: event.toolName, tool_input: event.input ?? {}, cwd: ctx.cwd, project_dir: ctx.cwd });
    if (a.decision === "none") return undefined;
    if (a.decision === "ask") {
      // A person answers in pi's own prompt; no one can in print mode, so the call is blocked there.
      if (!ctx.hasUI) return { block: true, reason: a.reason + " (no one can approve it here: ask the user to run it themselves)" };
      const yes = await ctx.ui.confirm("downscope: approve this command?", a.reason + "\\n\\n" + a.value);
      if (!yes) return { block: true, reason: "downscope: the user declined: " + a.reason };
    }
    if (a.decision === "rewrite" || a.decision === "ask") {
      event.input[a.field] = a.value;
      return undefined;
    }
    return { block: true, reason: a.reason };
  });
}
`;
}
