// Bundled entry of `downscope hook` (bin/downscope.js starts it through
// dist/boot.cjs): one CommonJS file holding only what the hook needs, since it
// runs before every Bash command.
import { denyOutput } from "../hook/protocol.js";
import { failureReason, hook } from "./hook.js";
import { processIo } from "../io.js";

const io = processIo({ sync: true });
hook(process.argv.slice(3), io).then(
  (code) => process.exit(code),
  // hook() answers every error itself; this is the net under the net (a hook that exits 1 lets the command run).
  (e: unknown) => {
    const reason = failureReason(e, io);
    const agent = process.argv.slice(3).join(" ");
    if (agent.includes("cursor")) {
      io.stdout(`${JSON.stringify({ permission: "deny", user_message: reason, agent_message: reason })}\n`);
      process.exit(2);
    }
    if (agent.includes("gemini") || /opencode|\bpi\b/.test(agent))
      io.stdout(`${JSON.stringify({ decision: "deny", reason })}\n`);
    else if (agent.includes("copilot"))
      io.stdout(`${JSON.stringify({ permissionDecision: "deny", permissionDecisionReason: reason })}\n`);
    else {
      // Claude Code's answer, which Codex CLI reads too; Codex also blocks on exit 2 with the reason on stderr.
      io.stdout(`${JSON.stringify(denyOutput(reason))}\n`);
      if (agent.includes("codex")) {
        io.stderr(`${reason}\n`);
        process.exit(2);
      }
    }
    process.exit(0);
  },
);
