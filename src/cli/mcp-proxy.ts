/**
 * `downscope mcp-proxy --server NAME -- <upstream command> [args...]`
 *
 * stdout carries only JSON-RPC for the MCP client; diagnostics go to stderr.
 * The policy is loaded once at startup; a config error does not stop the
 * proxy (the client would only see a dead server): every tools/call is then
 * denied with the error text, so the human sees why.
 */
import { errorMessage, UsageError } from "../errors.js";
import { lockViewReader } from "../mcp/lock-state.js";
import { movedSecrets, parseEnvSlot, type MovedSecret } from "../mcp/moved-secrets.js";
import { McpProxy } from "../mcp/proxy.js";
import type { LoadedPolicy } from "../mcp/tool-decision.js";
import { loadPolicy, pathContext } from "../policy/index.js";
import { knownSecrets } from "../mask/known-secrets.js";
import type { Command } from "../io.js";

const USAGE =
  "usage: downscope mcp-proxy --server NAME [--env-slot VAR=SLOT]... -- <command> [args...]\n" +
  "  --server NAME   the policy service whose `server:` is NAME (env DOWNSCOPE_MCP_SERVER)\n" +
  "  --env-slot VAR=SLOT  set VAR in the server's environment from a secret moved there by\n" +
  "                  `downscope install mcp --move-secrets` (bound to this server and command)\n" +
  "  DOWNSCOPE_MCP_MAX_BYTES   largest message accepted either way (default 16 MiB)\n" +
  "  DOWNSCOPE_DEBUG=1         logs routing and decisions to stderr (never tokens)";

export function parseProxyArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>) {
  const sep = argv.indexOf("--");
  const own = sep === -1 ? argv : argv.slice(0, sep);
  const upstream = sep === -1 ? [] : argv.slice(sep + 1);
  let server = env.DOWNSCOPE_MCP_SERVER;
  const envSlots: { name: string; slot: string }[] = [];
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (a === "--server") {
      server = own[++i];
      if (server === undefined) throw new UsageError(`--server needs a value\n${USAGE}`);
    } else if (a.startsWith("--server=")) server = a.slice("--server=".length);
    else if (a === "--env-slot" || a.startsWith("--env-slot=")) {
      const spec = a === "--env-slot" ? own[++i] : a.slice("--env-slot=".length);
      const parsed = spec === undefined ? undefined : parseEnvSlot(spec);
      if (parsed === undefined)
        throw new UsageError(`--env-slot needs VAR=SLOT (a variable name and a slot name)\n${USAGE}`);
      envSlots.push(parsed);
    } else throw new UsageError(`unknown option ${a}\n${USAGE}`);
  }
  if (server === undefined || server === "") throw new UsageError(`--server NAME is required\n${USAGE}`);
  const [file, ...args] = upstream;
  if (file === undefined) throw new UsageError(`no upstream command after --\n${USAGE}`);
  return { server, file, args, envSlots };
}

/** The moved secrets named by a proxy's options (`--env-slot VAR=SLOT`), bound to `server` and its upstream. */
export function movedSecretsFor(
  options: readonly string[],
  server: string,
  upstream: { file: string; args: readonly string[] },
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): MovedSecret[] {
  const { envSlots } = parseProxyArgs(["--server", server, ...options, "--", upstream.file, ...upstream.args], {});
  return movedSecrets(envSlots, server, upstream, env, cwd);
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGPIPE: 13, SIGTERM: 15 };

export const mcpProxy: Command = async (argv, io) => {
  const { server, file, args, envSlots } = parseProxyArgs(argv, io.env);
  if (!io.stdinStream) throw new UsageError("mcp-proxy needs a stdin stream");
  const limit = io.env.DOWNSCOPE_MCP_MAX_BYTES;
  const maxMessageBytes = limit === undefined || limit === "" ? undefined : Number(limit);
  if (maxMessageBytes !== undefined && !(Number.isInteger(maxMessageBytes) && maxMessageBytes >= 1024))
    throw new UsageError(`DOWNSCOPE_MCP_MAX_BYTES must be a whole number of bytes, at least 1024 (got "${limit}")`);
  let loaded: LoadedPolicy;
  try {
    loaded = { ok: true, policy: await loadPolicy({ cwd: io.cwd, env: io.env }) };
  } catch (e) {
    loaded = { ok: false, error: errorMessage(e) };
    io.stderr(
      `downscope mcp-proxy: the policy could not be loaded; every tool call will be denied:\n${loaded.error}\n`,
    );
  }
  const proxy = new McpProxy({
    server,
    upstream: { file, args },
    cwd: io.cwd,
    env: io.env,
    loaded,
    pathCtx: pathContext(io.cwd, io.env),
    write: io.stdout,
    log: io.stderr,
    debug: Boolean(io.env.DOWNSCOPE_DEBUG),
    maxMessageBytes,
    lock: lockViewReader(io.cwd, io.env),
    movedSecrets: movedSecrets(envSlots, server, { file, args }, io.env, io.cwd),
    // Secrets in tools/call answers are masked before the client's model sees them (docs/masking.md).
    masker: knownSecrets(loaded.ok ? loaded.policy : undefined, io.env),
    auditResult: (r) => {
      void import("../audit/event.js").then(({ auditEvent }) =>
        auditEvent(
          { event: "mcp", cwd: io.cwd, service: server, tool: r.tool, duration_ms: r.duration_ms, output: r.output },
          { env: io.env, cwd: io.cwd, policy: loaded.ok ? loaded.policy : undefined, stderr: io.stderr },
        ),
      );
    },
    audit: (r) => {
      void import("../audit/event.js").then(({ auditEvent }) =>
        auditEvent(
          {
            event: "mcp",
            cwd: io.cwd,
            service: server,
            tool: r.tool,
            arguments: r.argumentKeys,
            layer: r.layer,
            rule: r.rule,
            action: r.action,
            reason: `${r.outcome}: ${r.reason}`,
            slot: r.slot,
            ...(r.minted ? { minted: r.minted, fingerprint: r.minted.fingerprint } : {}),
          },
          { env: io.env, cwd: io.cwd, policy: loaded.ok ? loaded.policy : undefined, stderr: io.stderr },
        ),
      );
    },
  });
  // Killed by the client (SIGTERM after its grace period) or its stdout gone: take the children along.
  io.onTerminate?.((signal) => proxy.stop(128 + (SIGNALS[signal] ?? 15)));
  return proxy.run(io.stdinStream());
};
