/**
 * Where downscope keeps its files, following the XDG base directory spec.
 * Everything takes the environment as an argument so tests can isolate HOME.
 */
import { lstatSync, realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

/** os.homedir(), which is $HOME when set: node:os is loaded only when it is not. */
export function homedir(): string {
  const h = process.env.HOME;
  return h !== undefined && h !== "" ? h : process.getBuiltinModule("node:os").homedir();
}

function home(env: Env): string {
  return env.HOME && env.HOME !== "" ? env.HOME : homedir();
}

function xdg(env: Env, name: string, fallback: string): string {
  const v = env[name];
  // The spec says relative paths are invalid and must be ignored.
  return v && v.startsWith("/") ? v : join(home(env), fallback);
}

export const configHome = (env: Env) => join(xdg(env, "XDG_CONFIG_HOME", ".config"), "downscope");
export const stateHome = (env: Env) => join(xdg(env, "XDG_STATE_HOME", ".local/state"), "downscope");
export const cacheHome = (env: Env) => join(xdg(env, "XDG_CACHE_HOME", ".cache"), "downscope");
export const dataHome = (env: Env) => join(xdg(env, "XDG_DATA_HOME", ".local/share"), "downscope");

/** The managed (organisation) layer; DOWNSCOPE_MANAGED_CONFIG exists for tests and packagers. */
export const managedConfigPath = (env: Env) => env.DOWNSCOPE_MANAGED_CONFIG ?? "/etc/downscope/config.yaml";
export const userConfigPath = (env: Env) => join(configHome(env), "config.yaml");
export const trustStorePath = (env: Env) => join(stateHome(env), "trusted.json");
/** The signed pins of MCP lockfiles written by `downscope mcp lock` (src/mcp/lock-state.ts). */
export const mcpLockPinsPath = (env: Env) => join(stateHome(env), "mcp-lock-pins.json");
/** Where slot tokens stored by `downscope slot set` live (0600 files in a 0700 dir). */
export const slotsDir = (env: Env) => join(configHome(env), "slots");
/** The key trust pins are signed with (src/policy/trust.ts). */
export const trustKeyPath = (env: Env) => join(configHome(env), "trust.key");
/**
 * Where downscope-exec makes its private run directories (credential files of
 * one command): $XDG_RUNTIME_DIR/downscope (tmpfs on most Linux systems), else
 * downscope-<uid> in the OS temp dir.
 */
export function runRoot(env: Env): string {
  const rt = env.XDG_RUNTIME_DIR;
  if (rt && rt.startsWith("/")) return join(rt, "downscope");
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return join(process.getBuiltinModule("node:os").tmpdir(), `downscope-${uid}`);
}

/** The file that marks a directory as downscope's shims (PATH lookups skip it; the hook trusts it). */
export const SHIMS_MARKER = ".downscope-shims";

/** Claude Desktop's config (https://modelcontextprotocol.io/quickstart/user), per platform. */
export function claudeDesktopConfigPath(env: Env, platform: NodeJS.Platform = process.platform): string {
  const h = env.HOME ?? "";
  if (platform === "darwin") return join(h, "Library", "Application Support", "Claude", "claude_desktop_config.json");
  if (platform === "win32")
    return join(env.APPDATA ?? join(h, "AppData", "Roaming"), "Claude", "claude_desktop_config.json");
  return join(env.XDG_CONFIG_HOME || join(h, ".config"), "Claude", "claude_desktop_config.json");
}

export function expandHome(p: string, env: Env): string {
  if (p === "~") return home(env);
  if (p.startsWith("~/")) return join(home(env), p.slice(2));
  return p;
}

/** Directories any process of the user can write, whatever sandbox the agent runs in. */
const SCRATCH_ROOTS = ["/tmp", "/var/tmp", "/dev/shm"];

/** `p` with symlinks resolved in the part of it that exists (the rest appended as written). */
export function realpathOfExisting(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return join(realpathSync.native(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return p;
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

/** Exists as a file, directory or link (a dangling link counts: it may be made to resolve later). */
export function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** `p` is `dir` or below it (both absolute and normalised). */
export const inside = (p: string, dir: string): boolean =>
  p === dir || p.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/**
 * downscope's own trusted files (user config, trust store, pins, approvals,
 * compiled configs, the managed file) are found through HOME, XDG_* and
 * DOWNSCOPE_MANAGED_CONFIG. The agent can set those for a command it runs
 * (or inside a script that calls a shim), so a relocation into a place the
 * agent can write — a temp directory, or the project it works in — would let
 * it supply its own "trusted" policy or approvals. Such a relocation is
 * refused. Returns the problem, or undefined. See docs/security-model.md.
 */
export function relocationProblem(env: Env, projectRoot: string | undefined): string | undefined {
  const locations: [string, string][] = [
    ["XDG_CONFIG_HOME/HOME (user config)", configHome(env)],
    ["XDG_STATE_HOME/HOME (trust store, pins, approvals)", stateHome(env)],
    ["XDG_CACHE_HOME/HOME (compiled policies, credentials)", cacheHome(env)],
    ["DOWNSCOPE_MANAGED_CONFIG", dirname(managedConfigPath(env))],
  ];
  const realHome = realpathOfExisting(homedir());
  const scratchRoots = SCRATCH_ROOTS.map((d) => [d, realpathOfExisting(d)] as const);
  const root = projectRoot === undefined ? undefined : realpathOfExisting(projectRoot);
  // A project at or above the real home cannot be told apart from the home itself.
  const checkProject = root !== undefined && root !== "/" && !inside(realHome, root);
  for (const [what, loc] of locations) {
    const real = realpathOfExisting(loc);
    const scratch = scratchRoots.find(([, r]) => inside(real, r))?.[0];
    if (scratch !== undefined)
      return `${what} points into ${scratch} (${loc}), which any process can write; downscope refuses to read its trusted files from there`;
    if (checkProject && root !== undefined && inside(real, root))
      return `${what} points into the project (${loc}), which the agent can write; downscope refuses to read its trusted files from there`;
  }
  return undefined;
}
