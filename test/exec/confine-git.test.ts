/**
 * Git started by a confined CLI (issue 20). Bypass: a bare repository `g/`
 * with `core.worktree=..`, `core.fsmonitor` and `core.hooksPath` of its own —
 * found through a `sub/.git` file or by running from inside it — ran its hook
 * and its fsmonitor command inside the git gh started outside the sandbox,
 * with the token in its environment; Claude Code protects `.git/config` and
 * `.git/hooks`, nothing protects `g/config`. Fix (src/exec/confine/git.ts):
 * the repository is pinned to the project's own (GIT_DIR, GIT_COMMON_DIR,
 * GIT_WORK_TREE), and the settings that run programs are overridden in git's
 * command scope.
 * Proves, with the real git inside the real bubblewrap, one case per setting
 * (each listed in docs/exec.md): the agent's program never runs when
 * contained; control: the same git run by the same fake gh, not contained,
 * runs it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { execSandbox, runExec, type ExecSandbox } from "./helpers.js";

const BASE = join(homedir(), ".cache", "downscope-confine-tests");
const TOKEN = "fake-git-case-token-5150";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    env: { PATH: "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();

interface Case {
  what: string;
  /** Plants the attack in the project (p) given the evil program's path. */
  plant: (p: string, evil: string) => void;
  /** Where the CLI runs, relative to the project. */
  cwd?: string;
  /** The git commands the CLI runs there (as gh would). */
  commands: string[];
}

/** A repository of the agent's, `g/`, with a work tree and an fsmonitor of its choosing. */
function agentRepo(p: string, evil: string): void {
  git(p, "init", "-q", "--bare", "g");
  git(join(p, "g"), "config", "core.bare", "false");
  git(join(p, "g"), "config", "core.worktree", "..");
  git(join(p, "g"), "config", "core.fsmonitor", evil);
}

const CASES: Case[] = [
  {
    what: "a bare repository g/ with core.worktree, fsmonitor and hooksPath, run from inside it",
    plant: (p, evil) => {
      git(p, "init", "-q", "--bare", "g");
      git(join(p, "g"), "config", "core.worktree", "..");
      git(join(p, "g"), "config", "core.bare", "false");
      git(join(p, "g"), "config", "core.fsmonitor", evil);
      mkdirSync(join(p, "g", "evilhooks"));
      writeFileSync(join(p, "g", "evilhooks", "post-checkout"), `#!/bin/sh\n${evil}\n`, { mode: 0o755 });
      git(join(p, "g"), "config", "core.hooksPath", join(p, "g", "evilhooks"));
    },
    cwd: "g",
    commands: ["git status", "git checkout -q -b x"],
  },
  {
    what: "a sub/.git file pointing at that repository",
    plant: (p, evil) => {
      agentRepo(p, evil);
      mkdirSync(join(p, "sub"));
      writeFileSync(join(p, "sub", ".git"), "gitdir: ../g\n");
    },
    cwd: "sub",
    commands: ["git status"],
  },
  {
    what: "a .git/commondir naming that repository",
    plant: (p, evil) => {
      git(p, "init", "-q", "--bare", "g");
      git(join(p, "g"), "config", "core.fsmonitor", evil);
      writeFileSync(join(p, ".git", "commondir"), "../g\n");
    },
    commands: ["git status"],
  },
  {
    // A driver's name is the agent's choice, so no override can name it: only pinning the repository stops it.
    what: "a filter driver of the agent's repository, named by .gitattributes",
    plant: (p, evil) => {
      agentRepo(p, evil);
      git(join(p, "g"), "config", "filter.ev.clean", evil);
      git(join(p, "g"), "config", "filter.ev.smudge", evil);
      writeFileSync(join(p, ".gitattributes"), "*.txt filter=ev\n");
      writeFileSync(join(p, "f.txt"), "changed\n");
      mkdirSync(join(p, "sub"));
      writeFileSync(join(p, "sub", ".git"), "gitdir: ../g\n");
    },
    cwd: "sub",
    commands: ["git -c core.fsmonitor=false add ../f.txt 2>/dev/null || true"],
  },
  {
    what: "GIT_DIR set in the agent's environment",
    plant: agentRepo,
    commands: ["GIT_DIR=$AGENT_GIT_DIR git status 2>/dev/null || true", "git status"],
  },
  {
    what: "core.hooksPath of the project's own repository naming a directory the agent writes (.husky)",
    plant: (p, evil) => {
      mkdirSync(join(p, ".husky"));
      writeFileSync(join(p, ".husky", "post-checkout"), `#!/bin/sh\n${evil}\n`, { mode: 0o755 });
      writeFileSync(join(p, ".husky", "pre-commit"), `#!/bin/sh\n${evil}\n`, { mode: 0o755 });
      git(p, "config", "core.hooksPath", ".husky");
    },
    commands: ["git checkout -q -b y", "git commit -q --allow-empty -m x"],
  },
  {
    what: "core.fsmonitor in a file the repository config includes",
    plant: (p, evil) => {
      writeFileSync(join(p, "extra.gitconfig"), `[core]\n\tfsmonitor = ${evil}\n`);
      git(p, "config", "include.path", join(p, "extra.gitconfig"));
    },
    commands: ["git status"],
  },
  {
    what: "a credential helper (generic and per URL)",
    plant: (p, evil) => {
      git(p, "config", "credential.helper", `!${evil}`);
      git(p, "config", "credential.https://example.com.helper", `!${evil}`);
    },
    commands: ["printf 'protocol=https\\nhost=example.com\\n\\n' | git credential fill >/dev/null 2>&1 || true"],
  },
  {
    // git never lets an alias shadow a built-in, and gh runs built-ins only; an alias of the agent's is in a
    // repository config it wrote, which is never read.
    what: "an alias in the agent's repository",
    plant: (p, evil) => {
      agentRepo(p, evil);
      git(join(p, "g"), "config", "alias.st", `!${evil}`);
      mkdirSync(join(p, "sub"));
      writeFileSync(join(p, "sub", ".git"), "gitdir: ../g\n");
    },
    cwd: "sub",
    commands: ["git st 2>/dev/null || true"],
  },
  {
    what: "core.pager and diff.external",
    plant: (p, evil) => {
      git(p, "config", "core.pager", evil);
      git(p, "config", "diff.external", evil);
      writeFileSync(join(p, "f.txt"), "changed\n");
    },
    commands: ["git -p log -1 >/dev/null", "git diff >/dev/null"],
  },
  {
    what: "an ext:: transport allowed by the repository",
    plant: (p, evil) => {
      git(p, "config", "protocol.allow", "always");
      git(p, "config", "protocol.ext.allow", "always");
      git(p, "remote", "add", "evil", `ext::${evil}`);
    },
    commands: ["git fetch -q evil 2>/dev/null || true"],
  },
  {
    what: "uploadpack of a local remote",
    plant: (p, evil) => {
      git(p, "init", "-q", "--bare", "other");
      git(p, "config", "protocol.file.allow", "always");
      git(p, "remote", "add", "local", join(p, "other"));
      git(p, "config", "remote.local.uploadpack", evil);
    },
    commands: ["git fetch -q local 2>/dev/null || true"],
  },
  {
    what: "core.sshCommand",
    plant: (p, evil) => {
      git(p, "config", "core.sshCommand", evil);
      git(p, "remote", "add", "ssh", "ssh://127.0.0.1:1/x.git");
    },
    commands: ["timeout 10 git fetch -q ssh 2>/dev/null || true"],
  },
];

function setup(c: Case, contained: boolean): { sb: ExecSandbox; env: Record<string, string>; marker: string } {
  const sb = execSandbox(BASE);
  sb.env.PATH = "/usr/bin:/bin";
  const p = sb.project;
  git(p, "init", "-q");
  git(p, "config", "user.email", "u@example.com");
  git(p, "config", "user.name", "u");
  writeFileSync(join(p, "f.txt"), "one\n");
  git(p, "add", "f.txt");
  git(p, "commit", "-q", "-m", "one");
  const marker = join(p, "EVIL-RAN");
  const evil = sb.write("project/evil.sh", `#!/bin/sh\necho "$GH_TOKEN" >> '${marker}'\nexit 0\n`, 0o755);
  c.plant(p, evil);
  const slot = sb.write(join(sb.home, ".config/downscope/slots/ro"), `${TOKEN}\n`, 0o600);
  const gh = sb.write(
    "fakebin/gh",
    [
      "#!/bin/sh",
      "export GIT_AUTHOR_NAME=u GIT_AUTHOR_EMAIL=u@example.com GIT_COMMITTER_NAME=u GIT_COMMITTER_EMAIL=u@example.com",
      ...c.commands,
      "echo gh-done",
    ].join("\n") + "\n",
    0o755,
  );
  sb.userConfig(
    `version: 1\nservices:\n  gh:\n    binary_path: ${gh}\n    token_slots: { ro: { file: ${slot}, inject_as: GH_TOKEN } }\n    default_slot: ro\n`,
  );
  if (contained)
    writeContainedState(sb.env, {
      version: 1,
      settingsFile: join(sb.home, ".claude/settings.json"),
      exec: "/usr/bin/node /x/downscope-exec.js",
      denyRules: [],
    });
  return {
    sb,
    marker,
    env: { ...sb.env, CLAUDE_PROJECT_DIR: p, GIT_DIR: join(p, "g"), AGENT_GIT_DIR: join(p, "g") },
  };
}

describe("git started by a confined CLI runs none of the agent's settings", () => {
  for (const c of CASES) {
    it(`contained: ${c.what}`, async () => {
      const { sb, env, marker } = setup(c, true);
      const r = await runExec(["gh", "pr", "status"], { env, cwd: join(sb.project, c.cwd ?? "") });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("gh-done");
      expect(existsSync(marker)).toBe(false);
    });
    it(`control, not contained: ${c.what}`, async () => {
      const { sb, env, marker } = setup(c, false);
      const r = await runExec(["gh", "pr", "status"], { env, cwd: join(sb.project, c.cwd ?? "") });
      expect(r.stdout, r.stderr).toContain("gh-done");
      expect(existsSync(marker)).toBe(true);
    });
  }
});
