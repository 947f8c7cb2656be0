/**
 * The environment the decision service runs with: the starter's (a
 * SessionStart hook's, which is Claude Code's, with every token in it)
 * reduced to what locates files and sets the language. No credential, and
 * nothing that belongs to one session (DOWNSCOPE_CONFIG): each request brings
 * its session's own (src/serve/request-env.ts).
 */
import type { Env } from "../paths.js";

const KEEP =
  /^(HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TZ|PATH|TMPDIR|XDG_(CONFIG|STATE|CACHE|DATA)_HOME|XDG_RUNTIME_DIR|DOWNSCOPE_MANAGED_CONFIG|DOWNSCOPE_DEBUG)$/;

export function serviceEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && KEEP.test(k)) out[k] = v;
  return out;
}
