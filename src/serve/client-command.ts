/**
 * The hook command line for agents without http hooks (Cursor, Gemini CLI)
 * that asks the decision service through bin/serve-client.sh (sh + curl)
 * instead of starting `downscope hook --agent …` (docs/performance.md,
 * "Other agents": about half the time per call). Pure: the agent's install
 * writes it where it writes the process hook's command today, with the same
 * fail-closed tail if the shell itself fails; the client falls back to the
 * process hook when the service is down, so a call is never blocked for that.
 */
import { join } from "node:path";
import { quote } from "../shell/quote.js";
import type { ServeConfig } from "./config.js";

export function serveClientCommand(
  agent: "cursor" | "gemini",
  config: Pick<ServeConfig, "port">,
  where: { node: string; root: string },
): string {
  const client = `${quote(join(where.root, "bin", "serve-client.sh"))} ${agent} ${config.port} ${quote(where.node)} ${quote(join(where.root, "bin", "downscope.js"))}`;
  if (agent === "cursor") return client; // failClosed: true and exit 2 block in Cursor
  const deny = JSON.stringify({
    decision: "deny",
    reason: "downscope: the hook could not run, so the tool call is blocked. Run `downscope doctor`.",
  });
  return `${client} || { printf '%s\\n' ${quote(deny)}; exit 2; }`;
}

/** A command line serveClientCommand wrote (an agent's install recognises its own entries by this). */
export const isServeClientCommand = (command: string): boolean =>
  /serve-client\.sh'?\s+(cursor|gemini)\s+\d+\s/.test(command);
