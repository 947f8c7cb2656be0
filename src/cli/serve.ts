/**
 * `downscope serve`: the resident decision service behind Claude Code's
 * `http` hooks (src/serve/, docs/claude-code.md "Two paths").
 *
 *   downscope serve              run it in the foreground (binds the port itself; debugging)
 *   downscope serve --status     what is on the port: downscope's service (proved), something else, nothing
 *   downscope serve --ensure     start it unless it runs (the SessionStart hook does this)
 *   downscope serve --stop | --restart
 *   downscope serve --fd N       the service as its keeper runs it (bin/serve-keeper.sh)
 *
 * Set up by `downscope install claude --serve`. The agent may not run any of
 * these (src/hook/self-protect.ts): stopping the service blocks its calls,
 * and the service is the user's.
 */
import { ConfigError, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { readIdentityKey, readServeConfig, serveConfigPath, serveLogPath } from "../serve/config.js";
import type { ServiceState } from "../serve/lifecycle.js";
import { serviceEnv } from "../serve/service-env.js";
import { fileLog } from "../serve/log.js";
import { startService } from "../serve/server.js";
import { join } from "node:path";
import type { Command, Io } from "../io.js";

const USAGE = "usage: downscope serve [--status | --ensure | --stop | --restart | --fd N]";

export const serve: Command = async (argv, io) => {
  const [flag, value, ...rest] = argv;
  if (rest.length > 0 || (flag !== "--fd" && value !== undefined)) throw new UsageError(USAGE);
  switch (flag) {
    case undefined:
      return run(io, undefined);
    case "--fd": {
      const fd = Number(value);
      if (!Number.isInteger(fd) || fd < 3) throw new UsageError(USAGE);
      return run(io, fd);
    }
    case "--status": {
      const s = await (await lifecycle()).serviceState(io.env);
      io.stdout(`${describe(s)}\n`);
      return s.state === "ours" ? 0 : 1;
    }
    case "--ensure": {
      const s = await (await lifecycle()).ensureService(io.env);
      if (s.state !== "ours") io.stderr(`downscope serve: ${describe(s)}\n`);
      return s.state === "ours" ? 0 : 1;
    }
    case "--stop":
      io.stderr(
        (await (await lifecycle()).stopService(io.env))
          ? "downscope serve: stopped\n"
          : "downscope serve: not running\n",
      );
      return 0;
    case "--restart": {
      const { ensureService, stopService } = await lifecycle();
      await stopService(io.env);
      const s = await ensureService(io.env);
      io.stderr(`downscope serve: ${describe(s)}\n`);
      return s.state === "ours" ? 0 : 1;
    }
    default:
      throw new UsageError(USAGE);
  }
};

/** Starting and stopping (node:child_process and the HTTP client): not loaded by the service itself. */
const lifecycle = () => import("../serve/lifecycle.js");

export function describe(s: ServiceState): string {
  switch (s.state) {
    case "not-installed":
      return "not set up (run `downscope install claude --serve`)";
    case "ours":
      return `running on 127.0.0.1:${s.port} (pid ${s.pid}, ${s.build})`;
    case "foreign":
      return `port ${s.port} is held by another program (${s.detail}); Claude Code's hooks would reach it instead of downscope, so every tool call is blocked. Stop that program, or run \`downscope install claude --serve\` again for a new port`;
    case "down":
      return `not running on 127.0.0.1:${s.port} (${s.detail}); \`downscope serve --ensure\` starts it`;
  }
}

async function run(io: Io, fd: number | undefined): Promise<number> {
  const config = readServeConfig(io.env);
  const identityKey = readIdentityKey(io.env);
  if (config === undefined || identityKey === undefined)
    throw new ConfigError([
      {
        file: serveConfigPath(io.env),
        path: "",
        message: "missing or not a private file of yours; run `downscope install claude --serve` to set up the service",
      },
    ]);
  const log = fileLog(serveLogPath(io.env));
  // Name the process so that `ps` shows what it is.
  process.title = "downscope-serve";
  const running = await startService({
    config,
    identityKey,
    env: serviceEnv(io.env),
    listen: fd !== undefined ? { fd } : { port: config.port },
    workerFile: join(packageRoot(), "dist", "serve-worker.cjs"),
    log,
  });
  if (fd === undefined)
    io.stderr(`downscope serve: listening on 127.0.0.1:${running.port}; log: ${serveLogPath(io.env)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void running.close().then(resolve);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log(`downscope serve: pid ${process.pid} stopped`);
  return 0;
}
