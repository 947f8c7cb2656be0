/**
 * The files an agent must not change (or, for secrets, read): downscope's own
 * config, state, caches and shims, its installed code, and the agent's
 * settings files that hold downscope's hooks. Shared by the hook's
 * self-protection (src/hook/self-protect.ts), the file-tool check
 * (src/hook/file-tools.ts), and `install claude --contain`, which turns the
 * same list into sandbox denies.
 *
 * Loaded on the hook's fast path for file tools, so it stays small: no
 * parser, no policy.
 */
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { packageRoot } from "../package-root.js";
import {
  cacheHome,
  claudeDesktopConfigPath,
  configHome,
  dataHome,
  homedir,
  inside,
  managedConfigPath,
  realpathOfExisting,
  slotsDir,
  stateHome,
  trustKeyPath,
  type Env,
} from "../paths.js";

import { AGENTS } from "../agents/index.js";
import { agentProtectedFiles } from "../agents/spec.js";

export { slotsDir, trustKeyPath };

export interface ProtectedPath {
  /** Absolute, normalised. A directory protects everything below it. */
  path: string;
  /** Its content is secret: reading is refused too, not only writing. */
  secret: boolean;
  /** What it is, for the deny message. */
  what: string;
}

/** The audit trail's HMAC key (same as audit/log.ts auditKeyPath). */
const auditKey = (env: Env) => join(configHome(env), "audit.key");

export function home(env: Env): string {
  return env.HOME && env.HOME !== "" ? env.HOME : homedir();
}

/**
 * Every protected location for an agent working in `project`. Claude Code's
 * settings files are protected one by one: the project's `.claude/` also holds
 * the policy, which the agent may edit (an untrusted edit can only restrict).
 */
export function protectedPaths(env: Env, project: string): ProtectedPath[] {
  const h = home(env);
  const own = "downscope's own files";
  const list: ProtectedPath[] = [
    { path: auditKey(env), secret: true, what: "downscope's audit key" },
    { path: slotsDir(env), secret: true, what: "downscope's stored slot tokens" },
    { path: trustKeyPath(env), secret: true, what: "downscope's trust key" },
    { path: join(configHome(env), "serve.key"), secret: true, what: "downscope's decision service identity key" },
    { path: configHome(env), secret: false, what: `${own} (user config)` },
    { path: stateHome(env), secret: false, what: `${own} (trust store, pins, approvals, audit trail)` },
    { path: cacheHome(env), secret: false, what: `${own} (compiled policies, credential cache)` },
    { path: dataHome(env), secret: false, what: `${own} (shims)` },
    // The managed file, and its directory when it is downscope's own (/etc/downscope): never a shared one like /etc.
    { path: managedConfigPath(env), secret: false, what: "downscope's managed policy" },
    ...(basename(dirname(managedConfigPath(env))) === "downscope"
      ? [{ path: dirname(managedConfigPath(env)), secret: false, what: "downscope's managed policy" }]
      : []),
    { path: join(h, ".claude.json"), secret: false, what: "Claude Code's user config (MCP servers)" },
    { path: join(project, ".claude", "downscope-mcp.lock"), secret: false, what: "the project's MCP tool lock" },
    { path: "/etc/claude-code", secret: false, what: "Claude Code's managed settings" },
    { path: join(h, ".aws", "config"), secret: false, what: "the AWS config holding downscope's profiles" },
  ];
  // Every agent's files that hold downscope's hooks or could switch them off (src/agents/, docs/agents.md),
  // in the config directory its variable names (CLAUDE_CONFIG_DIR, CODEX_HOME, …) and the default one,
  // and the MCP clients' files that hold downscope's proxy entries.
  const agents: ProtectedPath[] = [
    ...agentProtectedFiles(AGENTS, env, project).map((f) => ({ ...f, secret: false })),
    { path: claudeDesktopConfigPath(env), secret: false, what: "Claude Desktop's MCP servers" },
    { path: join(project, ".vscode", "mcp.json"), secret: false, what: "the project's VS Code MCP servers" },
  ];
  list.push(...agents);
  for (const p of [...list]) {
    if (p.what.startsWith("Claude Code's user") || agents.includes(p))
      list.push({ path: `${p.path}.downscope-backup`, secret: false, what: `${p.what} (backup)` });
  }
  // downscope's installed code, unless the project is downscope's own checkout (its developers edit it).
  const pkg = safePackageRoot();
  if (pkg !== undefined && !inside(resolve(project), pkg))
    list.push({ path: pkg, secret: false, what: "downscope's installed code" });
  return list.map((p) => ({ ...p, path: resolve(p.path) }));
}

function safePackageRoot(): string | undefined {
  try {
    return packageRoot();
  } catch {
    return undefined;
  }
}

export { inside };

/** The path with symlinks in its existing part resolved (a link in the project to a protected file is that file). */
export const realPath = realpathOfExisting;

/** The protected location `file` falls in, checked both as written and with symlinks resolved. */
export function protectedHit(
  file: string,
  list: readonly ProtectedPath[],
  roots: readonly string[] = [],
): ProtectedPath | undefined {
  const literal = resolve(file);
  const real = realPath(literal);
  // The protected paths as the file system names them: the few roots they hang off (home, project) are
  // resolved once, rather than every path one by one (the hook runs this before every file edit).
  const canon = roots.map((r) => [r, realPath(r)] as const).filter(([r, c]) => r !== c);
  const canonical = (p: string) => {
    for (const [r, c] of canon) if (inside(p, r)) return c + p.slice(r.length);
    return p;
  };
  return list.find((p) => inside(literal, p.path) || inside(real, p.path) || inside(real, canonical(p.path)));
}

export function selfDenyReason(what: string, hit: ProtectedPath, reads = false): string {
  if (reads)
    return `downscope: ${what} would read ${hit.what} (${hit.path}), a secret kept from the agent. Do not work around this: if you need something from it, ask the user.`;
  return `downscope: ${what} would change ${hit.what} (${hit.path}), which only the user may change. Do not work around this: tell the user what you wanted to change and why, and ask them to do it themselves.`;
}

export function displayPath(p: string, env: Env): string {
  const h = home(env);
  const rel = relative(h, p);
  return isAbsolute(p) && !rel.startsWith("..") && rel !== "" ? `~/${rel}` : p;
}
