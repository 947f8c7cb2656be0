/**
 * `downscope install <target>` / `downscope uninstall <target>`: each target
 * lives in its own module (install-claude.ts, install-aws.ts, install-mcp.ts)
 * and is imported only when named.
 */
import { UsageError } from "../errors.js";
import type { Command } from "./io.js";

type Target = { summary: string; load: () => Promise<{ install: Command; uninstall: Command }> };

export const INSTALL_TARGETS: Record<string, Target> = {
  claude: {
    summary: "Claude Code hooks (PreToolUse, SessionStart) in settings.json",
    load: () => import("./install-claude.js"),
  },
};

function dispatch(kind: "install" | "uninstall"): Command {
  return async (argv, io) => {
    const [target, ...rest] = argv;
    const entry = target === undefined ? undefined : INSTALL_TARGETS[target];
    if (!entry) {
      const names = Object.keys(INSTALL_TARGETS);
      throw new UsageError(
        `usage: downscope ${kind} <${names.join("|") || "target"}> [options]\n` +
          Object.entries(INSTALL_TARGETS)
            .map(([k, v]) => `  ${k.padEnd(8)} ${v.summary}`)
            .join("\n"),
      );
    }
    const mod = await entry.load();
    return mod[kind](rest, io);
  };
}

export const install = dispatch("install");
export const uninstall = dispatch("uninstall");
