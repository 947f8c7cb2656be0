#!/usr/bin/env node
// CommonJS (bin/package.json): the hook runs before every Bash command and
// credential-process before every aws call, so each starts its own one-file
// bundle through dist/boot.cjs (CommonJS and V8's code cache, src/boot.ts).
// Every other command is the ES module CLI.
"use strict";
const { join } = require("node:path");

const [command, next] = process.argv.slice(2);
const dist = join(__dirname, "..", "dist");
if (command === "hook" && (next === undefined || next === "--agent" || next.startsWith("--agent="))) {
  try {
    require(join(dist, "boot.cjs")).loadBundle(join(dist, "hook.cjs"));
  } catch (e) {
    // An agent runs the command when a hook fails: answer deny instead, in that agent's terms.
    const reason = `downscope: the hook cannot start (${e && e.message ? e.message : e}), so the command is blocked. Reinstall downscope or run \`npm run build\` in its checkout.`;
    const args = process.argv.slice(3).join(" ");
    if (/cursor/.test(args)) {
      process.stdout.write(`${JSON.stringify({ permission: "deny", user_message: reason, agent_message: reason })}\n`);
      process.exitCode = 2;
    } else if (/gemini/.test(args)) {
      process.stdout.write(`${JSON.stringify({ decision: "deny", reason })}\n`);
    } else {
      const answer = {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "deny",
          permissionDecisionReason: reason,
        },
      };
      process.stdout.write(`${JSON.stringify(answer)}\n`);
    }
  }
} else if (command === "serve" && (next === undefined || next === "--fd")) {
  // The resident decision service (its keeper runs `serve --fd 3`): the HTTP side only.
  start(() => require(join(dist, "boot.cjs")).loadBundle(join(dist, "serve.cjs")));
} else if (command === "post-tool-use" && next !== "--help" && next !== "-h") {
  try {
    require(join(dist, "boot.cjs")).loadBundle(join(dist, "post-tool-use.cjs"));
  } catch (e) {
    withholdOutput(e);
  }
} else if (command === "credential-process" && next !== "--help" && next !== "-h") {
  start(() => require(join(dist, "boot.cjs")).loadBundle(join(dist, "credential-process.cjs")));
} else {
  import("../dist/downscope.js").catch(cannotStart);
}

/**
 * The masking hook cannot start: an agent would show the tool's output as it
 * was, so answer with every string of it replaced by a notice (the output's
 * shape kept: Claude Code drops a replacement of another shape), or, for
 * Gemini CLI, a deny. See src/cli/post-tool-use.ts.
 */
function withholdOutput(e) {
  const notice = `downscope could not check this output for secrets (the hook cannot start: ${e && e.message ? e.message : e}), so it is withheld. Tell the user.`;
  const args = process.argv.slice(3).join(" ");
  process.stderr.write(`${notice}\n`);
  if (/gemini/.test(args)) {
    process.stdout.write(`${JSON.stringify({ decision: "deny", reason: notice })}\n`);
    return;
  }
  if (/cursor/.test(args)) {
    process.stdout.write("{}\n");
    process.exitCode = 2;
    return;
  }
  let payload;
  try {
    payload = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
  } catch {
    return;
  }
  if (!payload || payload.hook_event_name !== "PostToolUse" || payload.tool_response === undefined) return;
  const keep = new Set(["type", "mode", "kind", "encoding", "mimeType", "mime_type"]);
  const hide = (v, k) =>
    typeof v === "string"
      ? keep.has(k) && v.length <= 40
        ? v
        : notice
      : Array.isArray(v)
        ? v.map((x) => hide(x, k))
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([kk, x]) => [kk, hide(x, kk)]))
          : v;
  const answer = {
    hookSpecificOutput: { hookEventName: "PostToolUse", updatedToolOutput: hide(payload.tool_response, "") },
  };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

function start(load) {
  try {
    load();
  } catch (e) {
    cannotStart(e);
  }
}

function cannotStart(e) {
  process.stderr.write(
    `downscope: cannot start (${e && e.message ? e.message : e}). Reinstall downscope or run \`npm run build\` in its checkout.\n`,
  );
  process.exit(70);
}
