/**
 * `downscope install <target>` / `downscope uninstall <target>`: each target
 * lives in its own module (install-claude.ts, install-cursor.ts,
 * install-gemini.ts, install-aws.ts, install-mcp.ts)
 * and is imported only when named.
 *
 * Installing and uninstalling change what the agent may do, so a person
 * confirms at the terminal after seeing the target's own `--dry-run` diff
 * (src/cli/confirm.ts); `--dry-run` itself asks nothing and changes nothing.
 */
import { UsageError } from "../errors.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import type { Command, Io } from "../io.js";

type Target = { summary: string; load: () => Promise<{ install: Command; uninstall: Command }> };

export const INSTALL_TARGETS: Record<string, Target> = {
  claude: {
    summary: "Claude Code hooks (PreToolUse, SessionStart) in settings.json",
    load: () => import("./install-claude.js"),
  },
  cursor: {
    summary: "Cursor hooks (beforeShellExecution, beforeMCPExecution, preToolUse) in hooks.json",
    load: () => import("./install-cursor.js"),
  },
  gemini: {
    summary: "Gemini CLI BeforeTool hook in settings.json",
    load: () => import("./install-gemini.js"),
  },
  mcp: {
    summary:
      "route an MCP server (Claude Code, Claude Desktop, Cursor, Gemini CLI, VS Code) through downscope mcp-proxy",
    load: () => import("./install-mcp.js"),
  },
  aws: {
    summary: "a profile in ~/.aws/config whose credential_process is downscope",
    load: () => import("./install-aws.js"),
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
    const args = dropYes(rest, io);
    if (!args.includes("--dry-run")) {
      let shown = "";
      const preview: Io = { ...io, stdout: (t) => void (shown += t), stderr: (t) => void (shown += t) };
      const code = await mod[kind]([...args, "--dry-run"], preview);
      if (code !== 0) {
        io.stderr(shown);
        return code;
      }
      await confirmByPerson(io, { command: `downscope ${kind} ${target}`, details: shown });
    }
    return mod[kind](args, io);
  };
}

export const install = dispatch("install");
export const uninstall = dispatch("uninstall");
