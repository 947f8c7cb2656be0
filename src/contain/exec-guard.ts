/**
 * downscope-exec in contained mode. Claude Code runs the hook's rewritten
 * call outside its sandbox (sandbox.excludedCommands), because that is where
 * the credentials are; so what runs there is held to more than the policy:
 *
 *   - inside the sandbox (a call buried in a pipe or script, reaching
 *     downscope-exec through a shim) nothing is handed out: the long-lived
 *     sources are unreadable there by design, and the message says how to run
 *     the call so that it leaves the sandbox;
 *   - `env_var` slot sources are refused (they live in the agent's
 *     environment), and `on_missing_credential: passthrough` does not apply;
 *   - it runs only from inside the project;
 *   - the real CLI gets a filesystem that is read-only but for the project,
 *     its private run directory and the temp dirs, with the project's
 *     `.claude/` and `.git/hooks` read-only too (bubblewrap, the tool Claude
 *     Code's own sandbox is built on): an unsandboxed `gh release download -D
 *     ~/.config/...` or `aws s3 cp s3://b/k ~/.bashrc` fails instead of
 *     writing outside. Its network is left as it is — the CLI must reach its
 *     API.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { PolicyDenied } from "../errors.js";
import { inside } from "../hook/protected-paths.js";
import type { Env } from "../paths.js";

export function sandboxedRefusal(binary: string, args: readonly string[]): PolicyDenied {
  const call = [binary, ...args].join(" ");
  return new PolicyDenied(
    `contained mode: \`${call.length > 100 ? `${call.slice(0, 97)}...` : call}\` reached downscope-exec inside the sandbox (from a pipe, a chain, a script or a shim), where no credential is handed out. Run it as a command of its own — just \`${binary} …\`, no pipe, chain, redirect, variable prefix or script — so that it runs outside the sandbox with its scoped credential; then process its output in a second command.`,
  );
}

/** Where the real CLI may write when it runs outside the sandbox. */
export interface Confinement {
  project: string;
  runDir: string;
  /** Directories of downscope's credential cache the AWS credential_process (run by the CLI) writes. */
  cacheDirs: string[];
}

/** The one bubblewrap Claude Code's sandbox uses too: root-owned, in a system directory. */
export function systemBwrap(): string | undefined {
  for (const p of ["/usr/bin/bwrap", "/bin/bwrap"]) {
    try {
      const st = statSync(p);
      if (st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** bwrap's argv (after the bwrap path) to run `file` with writes confined. */
export function confinedArgv(bwrap: string, c: Confinement, file: string, args: readonly string[]): string[] {
  const rw = [c.project, c.runDir, "/tmp", "/var/tmp", ...c.cacheDirs].filter((p) => existsSync(p));
  const out = [bwrap, "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--proc", "/proc"];
  for (const p of rw) out.push("--bind", p, p);
  for (const p of [join(c.project, ".claude"), join(c.project, ".git", "hooks"), join(c.project, ".mcp.json")])
    out.push("--ro-bind-try", p, p);
  out.push("--die-with-parent", "--", file, ...args);
  return out;
}

/** The project the session works in: Claude Code's CLAUDE_PROJECT_DIR, else the policy's project root. */
export function containedProject(env: Env, policyRoot: string | undefined, cwd: string): string {
  const p = env.CLAUDE_PROJECT_DIR;
  if (p && p.startsWith("/")) return p;
  return policyRoot ?? cwd;
}

export function assertInProject(cwd: string, project: string): void {
  if (!inside(cwd, project))
    throw new PolicyDenied(
      `contained mode: service calls run outside the sandbox only from inside the project (${project}); the shell is in ${cwd}. \`cd\` back into the project first.`,
    );
}
