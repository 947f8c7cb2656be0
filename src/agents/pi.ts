/**
 * pi (@mariozechner/pi-coding-agent; run for real as 0.73.1 in test/e2e/pi.test.ts).
 *
 * Config directory: PI_CODING_AGENT_DIR, else ~/.pi/agent (the package's
 * config.js: `${APP_NAME}_CODING_AGENT_DIR`). Extensions load from
 * extensions/ there and from a project's .pi/extensions/.
 *
 * Entries: one extension module of downscope's own, extensions/downscope.js
 * (src/agents/plugin-module.ts), user scope: a project's .pi/ is the agent's
 * to edit.
 *
 * Protected: extensions/, settings.json (it lists extra extensions and
 * packages), and a project's .pi/.
 */
import { join } from "node:path";
import { piModule } from "./plugin-module.js";
import { homeOf, type AgentFiles, type InstallSpec } from "./spec.js";

export const PI: AgentFiles = {
  target: "pi",
  agent: "pi",
  configVar: { name: "PI_CODING_AGENT_DIR", names: "dir" },
  defaultDir: (env) => join(homeOf(env), ".pi", "agent"),
  settings: { user: "extensions/downscope.js" },
  protect: {
    user: [
      { path: "extensions", what: "pi extensions (downscope's among them)" },
      { path: "settings.json", what: "pi's settings" },
    ],
    project: [{ path: ".pi", what: "the project's pi settings and extensions" }],
  },
};

export const PI_INSTALL: InstallSpec = {
  files: PI,
  scopes: ["user"],
  scopeNote: "a project's .pi/ is the agent's to edit",
  summary: "a pi extension (tool_call) in the agent directory's extensions/",
  entries: { format: "file", content: (ctx) => piModule(ctx.node, ctx.bin) },
  notes:
    "  pi runs service commands rewritten to downscope-exec; a review asks you in pi's own prompt (blocked with -p, where\n" +
    "  no one can answer). If pi cannot load the extension it starts without it: `downscope doctor` checks it.\n" +
    "  See docs/agents.md.\n",
};
