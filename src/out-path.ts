/**
 * Files a user (or the agent, which can run any downscope command) names
 * with `--out`: `suggest` and `report` write only where writing cannot widen
 * a grant or switch downscope off. Refused, after symlinks are resolved:
 *  - downscope's own config, state, cache and data directories, for the
 *    HOME/XDG_* of this environment AND for the account's real home (an
 *    agent can set HOME for one command), and the managed config directory:
 *    the user config is a trusted layer, the state holds the trust store;
 *  - an agent's settings: `.claude/settings*.json` anywhere, `~/.claude.json`
 *    (hooks and MCP servers live there), Claude Code's managed settings, and
 *    the other agents' hook and MCP files (Cursor, Gemini CLI, Claude Desktop,
 *    VS Code, `.mcp.json`);
 *  - the installed package and a shims directory (code that runs later).
 * The file is written atomically (a temporary file renamed over it), so a
 * symlink planted at the name after the check is replaced, not followed.
 */
import { existsSync, lstatSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.js";
import {
  cacheHome,
  configHome,
  dataHome,
  inside,
  managedConfigPath,
  realpathOfExisting,
  SHIMS_MARKER,
  stateHome,
  type Env,
} from "./paths.js";

function accountHome(): string | undefined {
  try {
    return process.getBuiltinModule("node:os").userInfo().homedir;
  } catch {
    return undefined;
  }
}

/** The other agents' hook and MCP files (docs/agents.md): [parent directory (any when undefined), file name]. */
const OTHER_AGENT_FILES: [string | undefined, RegExp][] = [
  [".cursor", /^(hooks|mcp)\.json$/i],
  [".gemini", /^settings\.json$/i],
  [".vscode", /^mcp\.json$/i],
  [undefined, /^claude_desktop_config\.json$/i],
  [undefined, /^\.mcp\.json$/i],
];

/** Why `file` may not be written by `--out`, or undefined. */
export function protectedOutputProblem(file: string, env: Env, packageRoot?: string): string | undefined {
  const real = realpathOfExisting(file);
  const home = accountHome();
  const envs: Env[] = [env, ...(home ? [{ HOME: home }] : [])];
  const dirs: [string, string][] = [];
  for (const e of envs)
    dirs.push(
      ["downscope's config directory", configHome(e)],
      ["downscope's state directory (trust store, approvals)", stateHome(e)],
      ["downscope's cache directory", cacheHome(e)],
      ["downscope's data directory (shims)", dataHome(e)],
    );
  dirs.push(
    ["the managed config directory", dirname(managedConfigPath(env))],
    ["the managed config directory", "/etc/downscope"],
    ["Claude Code's managed settings", "/etc/claude-code"],
  );
  if (packageRoot !== undefined) dirs.push(["the downscope package", packageRoot]);
  for (const [what, dir] of dirs)
    if (inside(real, realpathOfExisting(dir)) || inside(resolve(file), dir))
      return `${file} is inside ${what} (${dir}); downscope does not write its own trusted files through --out`;
  const name = basename(real);
  if (basename(dirname(real)) === ".claude" && /^settings.*\.json$/i.test(name))
    return `${file} is an agent settings file (${real}); hooks live there, so --out does not write it`;
  if (name === ".claude.json") return `${file} is Claude Code's own config (${real}); --out does not write it`;
  const parent = basename(dirname(real));
  if (OTHER_AGENT_FILES.some(([dir, re]) => (dir === undefined || parent === dir) && re.test(name)))
    return `${file} is an agent settings file (${real}); hooks or MCP servers live there, so --out does not write it`;
  if (existsSync(join(dirname(real), SHIMS_MARKER)))
    return `${file} is in a shims directory; --out does not write there`;
  return undefined;
}

/** Writes `text` to `file` unless protectedOutputProblem refuses it (a UsageError). */
export function writeOutputFile(file: string, text: string, env: Env, packageRoot?: string): string {
  const problem = protectedOutputProblem(file, env, packageRoot);
  if (problem !== undefined) throw new UsageError(problem);
  const real = realpathOfExisting(file);
  try {
    if (lstatSync(real).isDirectory()) throw new UsageError(`${file} is a directory; name a file`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  if (!existsSync(dirname(real))) throw new UsageError(`${dirname(file)} does not exist`);
  const tmp = `${real}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644, flag: "wx" });
  renameSync(tmp, real);
  return real;
}
