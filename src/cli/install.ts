/**
 * `downscope install <target>` / `downscope uninstall <target>`: every agent
 * of src/agents/ through the one driver (src/cli/install-agent.ts; Claude
 * Code's --contain through src/cli/install-contain.ts), plus `aws`
 * (install-aws.ts) and `mcp` (install-mcp.ts). Each is imported only when
 * named.
 *
 * Installing and uninstalling change what the agent may do, so a person
 * confirms at the terminal after seeing the target's own `--dry-run` diff
 * (src/cli/confirm.ts); `--dry-run` itself asks nothing and changes nothing.
 */
import { INSTALLS } from "../agents/index.js";
import { UsageError } from "../errors.js";
import { confirmByPerson, dropYes } from "./confirm.js";
import type { Command, Io } from "../io.js";

type Target = { summary: string; load: () => Promise<{ install: Command; uninstall: Command }> };

async function agentCommands(target: string): Promise<{ install: Command; uninstall: Command }> {
  const { installFor, uninstallFor, installSpecOf } = await import("./install-agent.js");
  const spec = installSpecOf(target)!;
  const ext = target === "claude" ? (await import("./install-contain.js")).claudeExtension : undefined;
  return { install: installFor(spec, ext), uninstall: uninstallFor(spec, ext) };
}

export const INSTALL_TARGETS: Record<string, Target> = {
  ...Object.fromEntries(
    INSTALLS.map((s) => [s.files.target, { summary: s.summary, load: () => agentCommands(s.files.target) }]),
  ),
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
