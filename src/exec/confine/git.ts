/**
 * Git started by a confined CLI (gh's `pr checkout`, `repo clone`, the push of
 * `pr create`; gcloud's source repos) runs with the CLI's credential in its
 * environment, outside Claude Code's sandbox. No setting the agent could have
 * written may take effect there: a hook, an fsmonitor or an ssh command in a
 * repository config would run the agent's code with the token.
 *
 * Two layers, both through what git honours above repository config
 * (git-config(1) "ENVIRONMENT", "Scopes": the command scope beats local):
 *
 *  1. The repository is pinned. For every gh command but the ones that clone a
 *     new repository, GIT_DIR, GIT_COMMON_DIR and GIT_WORK_TREE name the
 *     project's own repository: the `.git` directory at the project's root,
 *     whose config, hooks and commondir Claude Code's sandbox keeps
 *     read-only (or a linked worktree's git directory outside the project,
 *     which the agent cannot write). So no
 *     other git directory is ever read, whatever it is called: a bare
 *     repository `g/` with `core.worktree=..`, a `sub/.git` file pointing at
 *     one, a `.git/commondir` planted later. Where the project has no such
 *     repository, GIT_DIR names a directory that does not exist, and git says
 *     "not a git repository". Clones write a repository git creates itself and
 *     read no repository config (checked with git 2.39).
 *  2. Settings that run programs or redirect the credential are overridden in
 *     the command scope (GIT_CONFIG_COUNT/KEY/VALUE), for the pinned
 *     repository's own config too (a `core.hooksPath` of `.husky` would run
 *     files the agent writes): hooks, fsmonitor, ssh and proxy commands,
 *     credential helpers (reset; gh adds its own with `-c` after these),
 *     pagers, editors, external diff, local and `ext::` transports, implicit
 *     bare repositories, submodule recursion. System and global config are not
 *     read at all (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null; the home
 *     is empty in the namespace anyway).
 * docs/exec.md ("Git started by the CLI") lists each one and the test that
 * proves it with the real git (test/exec/confine-git.test.ts).
 */
import { lstatSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { inside } from "../../paths.js";

/** [key, value] pairs set in git's command scope. */
export const GIT_OVERRIDES: readonly (readonly [string, string])[] = [
  ["core.hooksPath", "/dev/null"],
  ["core.fsmonitor", "false"],
  ["core.sshCommand", "ssh"],
  ["core.gitProxy", ""],
  ["core.askPass", ""],
  ["core.pager", "cat"],
  ["core.editor", ":"],
  ["sequence.editor", ":"],
  ["core.alternateRefsCommand", ""],
  ["diff.external", ""],
  ["credential.helper", ""],
  ["protocol.file.allow", "never"],
  ["protocol.ext.allow", "never"],
  ["safe.bareRepository", "explicit"],
  ["submodule.recurse", "false"],
  ["fetch.recurseSubmodules", "false"],
  ["gpg.program", "gpg"],
  ["http.sslVerify", "true"],
];

/** gh commands that clone a new repository, and so must not be pinned to the project's. */
export function ghClones(args: readonly string[]): boolean {
  const words = args.filter((a) => !a.startsWith("-"));
  const [a, b] = words;
  if ((a === "repo" && b === "clone") || (a === "gist" && b === "clone")) return true;
  if (a === "repo" && (b === "fork" || b === "create")) return args.some((x) => x === "--clone" || x === "-c");
  return false;
}

export interface ProjectRepo {
  gitDir: string;
  commonDir: string;
  workTree: string;
}

/**
 * The project's own repository, or undefined: `.git` at the project root, a
 * directory or a file naming the git directory of a linked worktree. A git
 * directory inside the project other than `<project>/.git` itself (a `.git`
 * file pointing back into the project, a `commondir` naming a directory
 * there) is the agent's to write, and is not taken. A repository above the
 * project is not taken either: its work tree lies outside the project, where
 * the confined CLI may not write.
 */
export function projectRepo(project: string): ProjectRepo | undefined {
  const dotGit = join(project, ".git");
  let st;
  try {
    st = lstatSync(dotGit);
  } catch {
    return undefined;
  }
  let gitDir: string | undefined;
  if (st.isDirectory()) gitDir = dotGit;
  else if (st.isFile()) {
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGit) ?? "");
    if (m) gitDir = resolve(project, m[1]!);
  }
  if (gitDir === undefined) return undefined;
  const common = readText(join(gitDir, "commondir"))?.trim();
  const commonDir = common === undefined || common === "" ? gitDir : resolve(gitDir, common);
  const agents = (p: string) => inside(p, project) && p !== dotGit;
  if (agents(gitDir) || agents(commonDir)) return undefined;
  return { gitDir, commonDir, workTree: project };
}

/** git's environment for a confined CLI (every inherited GIT_* is removed before this is applied). */
export function gitEnv(repo: ProjectRepo | undefined, pin: boolean, noRepo: string): Record<string, string> {
  const env: Record<string, string> = {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_COUNT: String(GIT_OVERRIDES.length),
  };
  GIT_OVERRIDES.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  if (pin) {
    if (repo !== undefined) {
      env.GIT_DIR = repo.gitDir;
      env.GIT_COMMON_DIR = repo.commonDir;
      env.GIT_WORK_TREE = repo.workTree;
    } else env.GIT_DIR = noRepo;
  }
  return env;
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}
