/**
 * Contained mode must still do the everyday work (issue 20's must-work
 * cases): the real gh, confined by the real bubblewrap, against a loopback
 * fake of GitHub Enterprise that also serves git over smart HTTP with the
 * real `git http-backend`:
 *   - `gh pr list` with the readonly slot;
 *   - `gh pr create --body-file notes.md` with the org-write slot, the body
 *     file in the project;
 *   - `gh pr checkout 1` in a normal repository: git fetches through gh's own
 *     credential helper (which downscope's reset of repository helpers must
 *     leave working) and checks the branch out in the project.
 * No network beyond loopback.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appKeys, fakeGithub, type FakeGithub } from "./fake-github.js";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { execSandbox, runExec, type ExecSandbox } from "../exec/helpers.js";
import { requireTool } from "../exec/fake-https.js";

const RO = "fake-ro-slot-token-1111";
const WRITE = "fake-write-slot-token-2222";
const BASE = join(homedir(), ".cache", "downscope-confine-tests");

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    env: { PATH: "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();

interface Body {
  query?: string;
  variables?: Record<string, unknown>;
}

/** GraphQL answers good enough for gh 2.23's pr list, pr create and pr checkout. */
function answer(rec: { url: string }, raw: string): unknown {
  if (rec.url !== "/api/graphql") return { login: "octocat" };
  const q = (JSON.parse(raw || "{}") as Body).query ?? "";
  const repo = {
    id: "R_1",
    name: "app",
    owner: { login: "octo" },
    defaultBranchRef: { name: "main" },
    hasIssuesEnabled: true,
    viewerPermission: "WRITE",
    isPrivate: false,
  };
  const pr = {
    id: "PR_1",
    number: 1,
    title: "feature",
    state: "OPEN",
    url: "https://example.invalid/octo/app/pull/1",
    headRefName: "feature",
    headRefOid: "0",
    baseRefName: "main",
    headRepositoryOwner: { login: "octo" },
    headRepository: { id: "R_1", name: "app" },
    isCrossRepository: false,
    maintainerCanModify: false,
  };
  if (/createPullRequest/.test(q)) created.push(JSON.stringify((JSON.parse(raw) as Body).variables ?? {}));
  if (/createPullRequest/.test(q)) return { data: { createPullRequest: { pullRequest: pr } } };
  if (/pullRequest\(number/.test(q)) return { data: { repository: { ...repo, pullRequest: pr } } };
  // pr create asks whether a pull request for its head branch exists: none does.
  if (/pullRequests/.test(q) && (JSON.parse(raw || "{}") as Body).variables?.headRefName !== undefined)
    return {
      data: {
        repository: {
          ...repo,
          pullRequests: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } },
        },
      },
    };
  if (/pullRequests/.test(q))
    return {
      data: {
        repository: {
          ...repo,
          pullRequests: { totalCount: 1, nodes: [pr], pageInfo: { hasNextPage: false, endCursor: null } },
        },
      },
    };
  if (/viewer/.test(q) && !/repository/.test(q)) return { data: { viewer: { login: "octocat" } } };
  return { data: { repository: repo, viewer: { login: "octocat" } } };
}

let gh: FakeGithub;
let remotes: string;
let serverRoot = "";
const created: string[] = [];
beforeAll(async () => {
  requireTool("gh", "apt-get install gh; see .ci/install-system-deps");
  // Not a per-test sandbox (those are removed after each test): the server outlives them.
  mkdirSync(BASE, { recursive: true });
  serverRoot = mkdtempSync(join(BASE, "server-"));
  const root = serverRoot;
  remotes = join(root, "remotes");
  mkdirSync(join(remotes, "octo"), { recursive: true });
  // The repository on the server: main, and a feature branch one commit ahead.
  const work = join(root, "work");
  mkdirSync(work);
  git(work, "init", "-q", "-b", "main");
  git(work, "-c", "user.name=u", "-c", "user.email=u@example.com", "commit", "-q", "--allow-empty", "-m", "one");
  git(work, "checkout", "-q", "-b", "feature");
  writeFileSync(join(work, "feature.txt"), "from the feature branch\n");
  git(work, "add", "feature.txt");
  git(work, "-c", "user.name=u", "-c", "user.email=u@example.com", "commit", "-q", "-m", "feature");
  git(root, "clone", "-q", "--bare", work, join(remotes, "octo", "app.git"));
  // gh drops the port of a git remote's URL, so a repository whose remote is this server needs it on 443.
  if (process.getuid?.() !== 0)
    throw new Error("this test binds 127.0.0.1:443 (gh ignores a remote URL's port): run it as root, as CI does");
  gh = await fakeGithub(root, {
    port: 443,
    appId: 1,
    publicKey: appKeys().publicKey,
    installations: {},
    answer,
    git: { root: remotes, tokens: () => [RO, WRITE] },
  });
}, 60_000);
afterAll(async () => {
  await gh?.close();
  if (serverRoot !== "") rmSync(serverRoot, { recursive: true, force: true });
});

function setup(): { sb: ExecSandbox; env: Record<string, string> } {
  const sb = execSandbox(BASE);
  sb.env.PATH = "/usr/bin:/bin";
  const p = sb.project;
  git(p, "init", "-q", "-b", "main");
  git(p, "remote", "add", "origin", `https://${gh.host}/octo/app.git`);
  // The user's own repository settings: their CA for this server, their identity.
  git(p, "config", "http.sslCAInfo", gh.caFile);
  git(p, "config", "user.name", "u");
  git(p, "config", "user.email", "u@example.com");
  git(p, "fetch", "-q", join(remotes, "octo", "app.git"), "main");
  git(p, "reset", "-q", "--hard", "FETCH_HEAD");
  writeFileSync(join(p, "notes.md"), "release notes\n");
  const ro = sb.write(join(sb.home, ".config/downscope/slots/ro"), `${RO}\n`, 0o600);
  const write = sb.write(join(sb.home, ".config/downscope/slots/org-write"), `${WRITE}\n`, 0o600);
  sb.userConfig(`version: 1
services:
  gh:
    pass_env: [SSL_CERT_FILE]
    token_slots:
      ro: { file: ${ro}, inject_as: GH_TOKEN, host: "${gh.host}" }
      org-write: { file: ${write}, inject_as: GH_TOKEN, host: "${gh.host}" }
    default_slot: ro
    rules:
      - { name: pr writes use org-write, match: { command: [pr, create] }, slot: org-write }
`);
  writeContainedState(sb.env, {
    version: 1,
    settingsFile: join(sb.home, ".claude/settings.json"),
    exec: "/usr/bin/node /x/downscope-exec.js",
    denyRules: [],
  });
  return { sb, env: { ...sb.env, CLAUDE_PROJECT_DIR: p, SSL_CERT_FILE: gh.caFile, GH_PROMPT_DISABLED: "1" } };
}

const tokens = (from: number) => [...new Set(gh.api.slice(from).map((a) => a.authorization))];

describe("the real gh, contained, still does the everyday work", () => {
  it("gh pr list with the readonly slot", async () => {
    const { sb, env } = setup();
    const from = gh.api.length;
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("feature");
    expect(tokens(from)).toEqual([`token ${RO}`]);
  });

  it("gh pr create --body-file notes.md, the file in the project, with the org-write slot", async () => {
    const { sb, env } = setup();
    const from = gh.api.length;
    const r = await runExec(
      ["gh", "pr", "create", "--title", "t", "--body-file", "notes.md", "--head", "feature", "--base", "main"],
      { env, cwd: sb.project },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(tokens(from)).toEqual([`token ${WRITE}`]);
    // The body the server got is the project file's, read inside the namespace.
    expect(created.at(-1)).toContain("release notes");
  });

  it("gh pr checkout 1 fetches through gh's own credential helper and checks the branch out", async () => {
    const { sb, env } = setup();
    const from = gh.api.length;
    const r = await runExec(["gh", "pr", "checkout", "1"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(git(sb.project, "rev-parse", "--abbrev-ref", "HEAD").trim()).toBe("feature");
    expect(readFileSync(join(sb.project, "feature.txt"), "utf8")).toBe("from the feature branch\n");
    const gitCalls = gh.api.slice(from).filter((a) => a.url.includes(".git/"));
    expect(gitCalls.length).toBeGreaterThan(0);
    // git was asked for credentials and got the readonly slot's, from gh's helper.
    expect(
      gitCalls.some((a) => a.authorization === `Basic ${Buffer.from(`x-access-token:${RO}`).toString("base64")}`),
    ).toBe(true);
  });
});
