/**
 * OpenCode (opencode-ai; run for real as 1.18.33 in test/e2e/opencode.test.ts).
 *
 * Config directory: OPENCODE_CONFIG_DIR, else $XDG_CONFIG_HOME/opencode
 * (~/.config/opencode), read in the CLI's bundle (`config:
 * OPENCODE_CONFIG_DIR ?? xdg config`). It loads plugins from `plugin/` there
 * and from every `.opencode/` between the project and the home directory.
 *
 * Entries: one plugin module of downscope's own, plugin/downscope.js in the
 * config directory (src/agents/plugin-module.ts), user scope: a project's
 * .opencode/ is the agent's to edit.
 *
 * Protected: the config directory's opencode.json(c) and plugin directories
 * (a `permission` block can allow every command; a plugin can do anything),
 * and in the project opencode.json(c) and the whole .opencode/ directory.
 */
import { join } from "node:path";
import { opencodeModule } from "./plugin-module.js";
import { xdgConfigHome, type AgentFiles, type InstallSpec } from "./spec.js";

const PLUGINS = "OpenCode plugins (downscope's among them)";

export const OPENCODE: AgentFiles = {
  target: "opencode",
  agent: "OpenCode",
  configVar: { name: "OPENCODE_CONFIG_DIR", names: "dir" },
  defaultDir: (env) => join(xdgConfigHome(env), "opencode"),
  settings: { user: "plugin/downscope.js" },
  protect: {
    user: [
      { path: "plugin", what: PLUGINS },
      { path: "plugins", what: PLUGINS },
      { path: "opencode.json", what: "OpenCode's settings" },
      { path: "opencode.jsonc", what: "OpenCode's settings" },
      { path: "config.json", what: "OpenCode's settings" },
    ],
    project: [
      { path: ".opencode", what: "the project's OpenCode settings and plugins" },
      { path: "opencode.json", what: "the project's OpenCode settings" },
      { path: "opencode.jsonc", what: "the project's OpenCode settings" },
    ],
  },
};

export const OPENCODE_INSTALL: InstallSpec = {
  files: OPENCODE,
  scopes: ["user"],
  scopeNote: "a project's .opencode/ is the agent's to edit",
  summary: "an OpenCode plugin (tool.execute.before) in the config directory's plugin/",
  entries: { format: "file", content: (ctx) => opencodeModule(ctx.node, ctx.bin) },
  notes:
    "  OpenCode runs service commands rewritten to downscope-exec. Its plugins cannot ask you, so a review is denied\n" +
    "  with a message to ask you. If OpenCode cannot load the plugin it starts without it: `downscope doctor` checks it.\n" +
    "  See docs/agents.md.\n",
};
