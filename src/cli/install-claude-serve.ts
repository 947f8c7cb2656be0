/**
 * `install claude --serve`: what Claude Code's install extension
 * (src/cli/install-contain.ts) needs for the decision service
 * (docs/adr/ADR-020-serve-opt-in.md).
 *
 *  - serveHooksToInstall: the service's configuration (port, request key,
 *    identity key; made on first install, src/serve/config.ts) and the hook
 *    entries for it (src/serve/claude-hooks.ts). A dry run writes nothing and
 *    shows a placeholder where a port would be chosen.
 *  - afterServeInstall: the settings file holds the request key, so it is
 *    made private (0600); the service is started now (as the SessionStart
 *    hook would) and its state reported; when the http hook is removed (a
 *    reinstall without --serve, uninstall), the service is stopped.
 *  - withoutServeKey: a diff shown on the terminal never shows the key.
 */
import { chmodSync } from "node:fs";
import { createServer } from "node:net";
import { packageRoot } from "../package-root.js";
import { serveHooks } from "../serve/claude-hooks.js";
import { ensureServeConfig, readServeConfig, type ServeConfig } from "../serve/config.js";
import type { Obj } from "../agents/spec.js";
import type { Io } from "../io.js";
import { describe } from "./serve.js";

const where = () => ({ node: process.execPath, root: packageRoot() });

export async function serveHooksToInstall(io: Io, dryRun: boolean): Promise<Obj[]> {
  const config: ServeConfig = dryRun
    ? (readServeConfig(io.env) ?? { version: 1, port: 0, key: "(made at install)" })
    : await ensureServeConfig(io.env, freePort);
  return serveHooks(config, where());
}

/** The hooks to rebuild an install from (uninstall's "unchanged since install" check), if `text` had the http hook. */
export function servedBy(io: Pick<Io, "env">, text: string): { serve?: Obj[] } {
  const config = text.includes("/v1/hook/claude/") ? readServeConfig(io.env) : undefined;
  return config ? { serve: serveHooks(config, where()) } : {};
}

export function withoutServeKey(text: string, io: Pick<Io, "env">): string {
  const key = readServeConfig(io.env)?.key;
  return key === undefined ? text : text.replaceAll(key, "(the request key in ~/.config/downscope/serve.json)");
}

export async function afterServeInstall(io: Io, file: string, serving: boolean, wasServing: boolean): Promise<void> {
  const { ensureService, stopService } = await import("../serve/lifecycle.js");
  if (serving) {
    chmodSync(file, 0o600);
    const s = await ensureService(io.env);
    io.stderr(
      `downscope: the decision service: ${describe(s)}\n` +
        "  Claude Code reaches it over loopback (http hooks); every SessionStart makes sure it runs. `downscope serve --status` shows it.\n",
    );
  } else if (wasServing && (await stopService(io.env)))
    io.stderr("downscope: the decision service is stopped (the process hook decides again)\n");
}

/** A free port on 127.0.0.1 below Linux's ephemeral range (32768–60999), where outgoing connections cannot take it. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port found on 127.0.0.1 between 20000 and 32000");
}
