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
} else if (command === "credential-process" && next !== "--help" && next !== "-h") {
  start(() => require(join(dist, "boot.cjs")).loadBundle(join(dist, "credential-process.cjs")));
} else {
  import("../dist/downscope.js").catch(cannotStart);
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
