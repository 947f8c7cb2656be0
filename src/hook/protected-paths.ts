/**
 * The files an agent must not change (or, for secrets, read): downscope's own
 * config, state, caches and shims, its installed code, and the agent's
 * settings files that hold downscope's hooks. Shared by the hook's
 * self-protection (self-protect.ts), the file-tool check below, and
 * `install claude --contain`, which turns the same list into sandbox denies.
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

import { FILE_WRITE_TOOLS, projectDir } from "./self-gate.js";

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

function home(env: Env): string {
  return env.HOME && env.HOME !== "" ? env.HOME : homedir();
}

export { projectDir };

/**
 * Every protected location for an agent working in `project`. Claude Code's
 * settings files are protected one by one: the project's `.claude/` also holds
 * the policy, which the agent may edit (an untrusted edit can only restrict).
 */
export function protectedPaths(env: Env, project: string): ProtectedPath[] {
  const h = home(env);
  const own = "downscope's own files";
  const settings = "Claude Code settings that hold downscope's hooks";
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
    // The project's first: a relative `.claude/settings.json` names the project's file.
    { path: join(project, ".claude", "settings.json"), secret: false, what: settings },
    { path: join(project, ".claude", "settings.local.json"), secret: false, what: settings },
    { path: join(h, ".claude", "settings.json"), secret: false, what: settings },
    { path: join(h, ".claude", "settings.local.json"), secret: false, what: settings },
    { path: join(h, ".claude", "session-env"), secret: false, what: "Claude Code's session environment files" },
    { path: join(h, ".claude.json"), secret: false, what: "Claude Code's user config (MCP servers)" },
    { path: join(project, ".mcp.json"), secret: false, what: "the project's MCP servers" },
    { path: "/etc/claude-code", secret: false, what: "Claude Code's managed settings" },
    { path: join(h, ".aws", "config"), secret: false, what: "the AWS config holding downscope's profiles" },
  ];
  // The other agents' files that hold downscope's hooks or its MCP proxy entries (docs/agents.md).
  const agents: ProtectedPath[] = [
    { path: join(h, ".cursor", "hooks.json"), secret: false, what: "Cursor hooks that hold downscope's hooks" },
    { path: join(project, ".cursor", "hooks.json"), secret: false, what: "Cursor hooks that hold downscope's hooks" },
    { path: join(h, ".cursor", "mcp.json"), secret: false, what: "Cursor's MCP servers" },
    { path: join(project, ".cursor", "mcp.json"), secret: false, what: "Cursor's MCP servers" },
    {
      path: join(h, ".gemini", "settings.json"),
      secret: false,
      what: "Gemini CLI settings that hold downscope's hooks",
    },
    {
      path: join(project, ".gemini", "settings.json"),
      secret: false,
      what: "Gemini CLI settings that hold downscope's hooks",
    },
    { path: claudeDesktopConfigPath(env), secret: false, what: "Claude Desktop's MCP servers" },
    { path: join(project, ".vscode", "mcp.json"), secret: false, what: "the project's VS Code MCP servers" },
  ];
  list.push(...agents);
  for (const p of [...list]) {
    if (p.what === settings || p.what.startsWith("Claude Code's user") || agents.includes(p))
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

export { FILE_WRITE_TOOLS };

export type FileToolAnswer = { decision: "none" } | { decision: "deny"; reason: string };

/**
 * A file tool call → deny when it would write a protected location, else no
 * opinion. Fail closed: a write tool whose path is missing or not a string is
 * denied (it cannot be checked).
 */
export function decideFileWrite(
  tool: string,
  input: Readonly<Record<string, unknown>>,
  env: Env,
  cwd: string,
): FileToolAnswer {
  const field = FILE_WRITE_TOOLS.get(tool);
  if (field === undefined) return { decision: "none" };
  const file = input[field];
  if (typeof file !== "string" || file === "")
    return { decision: "deny", reason: `downscope: ${tool} without a ${field} cannot be checked, so it is blocked` };
  const project = projectDir(env, cwd);
  const hit = protectedHit(isAbsolute(file) ? file : join(cwd, file), protectedPaths(env, project), [
    home(env),
    project,
  ]);
  if (hit === undefined) return { decision: "none" };
  return { decision: "deny", reason: selfDenyReason(`${tool} of ${displayPath(file, env)}`, hit) };
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
