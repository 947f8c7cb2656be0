/**
 * The Claude Code hook entries `install claude --serve` writes for the
 * decision service (pure; https://docs.claude.com/en/docs/claude-code/hooks,
 * "HTTP hooks", as Claude Code 2.1.328 implements them — each point below
 * was checked with the real CLI):
 *
 *  - the `http` hook: Claude Code POSTs the PreToolUse payload to the
 *    service and reads the answer as a command hook's stdout.
 *    `onFailure: "block"` turns a refused connection, a timeout or an error
 *    status into a blocked call (without it, 2.1.328 runs the call: fail
 *    open). The request key is a literal header; the session's environment
 *    is sent as `${NAME}` headers, which Claude Code fills from its own
 *    environment for the names in `allowedEnvVars` (src/serve/request-env.ts).
 *    The URL carries no secret: Claude Code shows it to the model when the
 *    hook fails.
 *  - an `async` command hook in the same entry, which runs beside it without
 *    blocking or delaying the call and starts the service again if its
 *    keeper is gone (bin/serve-ensure.sh: one sh, no node, while it runs).
 *    `onFailure` does not apply to async hooks; it decides nothing, so it
 *    has nothing to fail open.
 */
import { join } from "node:path";
import type { ServeConfig } from "./config.js";
import { envHeader, SESSION_ENV } from "./request-env.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/** Seconds Claude Code waits for the service; its own deadline (4 s by default) answers first. */
export const SERVE_TIMEOUT_SECONDS = 10;

export const serviceUrl = (port: number) => `http://127.0.0.1:${port}/v1/hook/claude/PreToolUse`;

/** The PreToolUse hooks of one matcher entry: the service, and the hook that keeps it running. */
export function serveHooks(config: ServeConfig, where: { node: string; root: string }): Obj[] {
  const headers: Obj = { "X-Downscope-Key": config.key };
  for (const name of SESSION_ENV) headers[envHeader(name)] = `\${${name}}`;
  return [
    {
      type: "http",
      url: serviceUrl(config.port),
      timeout: SERVE_TIMEOUT_SECONDS,
      onFailure: "block",
      headers,
      allowedEnvVars: [...SESSION_ENV],
    },
    {
      type: "command",
      command: join(where.root, "bin", "serve-ensure.sh"),
      args: [where.node, join(where.root, "bin", "downscope.js")],
      async: true,
      timeout: 30,
    },
  ];
}

/** One of the entries above (install and uninstall recognise downscope's hooks by these). */
export function isServeHook(h: Json): boolean {
  if (typeof h !== "object" || h === null || Array.isArray(h)) return false;
  if (h.type === "http")
    return typeof h.url === "string" && /^http:\/\/127\.0\.0\.1:\d+\/v1\/hook\/claude\//.test(h.url);
  return h.type === "command" && typeof h.command === "string" && h.command.endsWith("/bin/serve-ensure.sh");
}
