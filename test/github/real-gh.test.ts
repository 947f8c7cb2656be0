// downscope_mode github_app with the real gh (Debian's gh package, see
// .ci/install-system-deps) through the built downscope-exec, against a
// loopback fake of the GitHub Enterprise REST API (GH_HOST-style host
// 127.0.0.1:<port>, as in test/exec/real-clients.test.ts). No network beyond loopback.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DOWNSCOPE_BIN, execSandbox, run, runExec } from "../exec/helpers.js";
import { requireTool } from "../exec/fake-https.js";
import { appKeys, fakeGithub, POLICY, type FakeGithub } from "./fake-github.js";

import { APP_ID, INSTALLATION } from "./fake-github.js";
let gh: FakeGithub | undefined;
afterEach(async () => {
  await gh?.close();
  gh = undefined;
});

/** GraphQL answers just good enough for gh pr list / gh pr create. */
function answer(rec: { url: string }, body: string): unknown {
  if (rec.url !== "/api/graphql") return { login: "octocat" };
  if (/createPullRequest/.test(body))
    return {
      data: { createPullRequest: { pullRequest: { id: "PR_1", url: "https://example.invalid/octo/app/pull/1" } } },
    };
  if (/pullRequests/.test(body))
    return {
      data: {
        repository: { pullRequests: { totalCount: 0, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } },
      },
    };
  return {
    data: {
      repository: {
        id: "R_1",
        name: "app",
        owner: { login: "octo" },
        defaultBranchRef: { name: "main" },
        hasIssuesEnabled: true,
        viewerPermission: "WRITE",
      },
    },
  };
}

async function setup(
  installations: Record<number, Record<string, string>> = {
    [INSTALLATION]: { pull_requests: "write", contents: "write", metadata: "read", issues: "write" },
  },
) {
  requireTool("gh", "apt-get install gh; see .ci/install-system-deps");
  const keys = appKeys();
  const sb = execSandbox();
  sb.env.PATH = "/usr/bin:/bin";
  gh = await fakeGithub(sb.root, { appId: APP_ID, publicKey: keys.publicKey, installations, answer });
  const keyFile = sb.write(join(sb.home, ".config/downscope/app.pem"), keys.privatePem, 0o600);
  sb.userConfig(POLICY(gh.apiUrl, keyFile));
  // downscope's own process trusts the fake's certificate (NODE_EXTRA_CA_CERTS), gh through pass_env SSL_CERT_FILE.
  const env: Record<string, string> = {
    ...sb.env,
    SSL_CERT_FILE: gh.caFile,
    NODE_EXTRA_CA_CERTS: gh.caFile,
    GH_TOKEN: "fake-ambient-pat",
  };
  return { sb, env, keyFile, keys };
}

const tokensSeen = (f: FakeGithub) => [...new Set(f.api.map((a) => a.authorization))];

describe("github_app with the real gh", () => {
  it("gh pr list carries a token minted with exactly the rule's read permissions for that one repository", async () => {
    const { sb, env } = await setup();
    const r = await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    expect(r.stderr).not.toMatch(/downscope:/);
    expect(gh!.mints).toEqual([
      {
        installation: INSTALLATION,
        iss: String(APP_ID),
        body: { permissions: { contents: "read", metadata: "read", pull_requests: "read" }, repositories: ["app"] },
        token: expect.stringMatching(/^ghs_fake001/),
      },
    ]);
    expect(gh!.api.length).toBeGreaterThan(0);
    expect(tokensSeen(gh!)).toEqual([`token ${gh!.mints[0]!.token}`]);
  });

  it("gh pr create carries a token with pull_requests: write, and gh pr list after it mints its own read token", async () => {
    const { sb, env } = await setup();
    const repo = `${gh!.host}/octo/app`;
    await runExec(
      ["gh", "pr", "create", "-R", repo, "--title", "t", "--body", "b", "--head", "feature", "--base", "main"],
      {
        env,
        cwd: sb.project,
      },
    );
    expect(gh!.mints.map((m) => m.body)).toEqual([
      { permissions: { contents: "read", pull_requests: "write" }, repositories: ["app"] },
    ]);
    expect(tokensSeen(gh!)).toEqual([`token ${gh!.mints[0]!.token}`]);
    await runExec(["gh", "pr", "list", "-R", repo], { env, cwd: sb.project });
    expect(gh!.mints.map((m) => m.body.permissions?.pull_requests)).toEqual(["write", "read"]);
  });

  it("gh repo delete (deny) and gh pr merge (review) mint nothing and send nothing", async () => {
    const { sb, env } = await setup();
    const del = await runExec(["gh", "repo", "delete", `${gh!.host}/octo/app`, "--yes"], { env, cwd: sb.project });
    expect(del.code).toBe(77);
    const merge = await runExec(["gh", "pr", "merge", "1", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    expect(merge.code).toBe(77);
    expect(merge.stderr).toMatch(/human must approve/);
    expect(gh!.mints).toEqual([]);
    expect(gh!.api).toEqual([]);
  });

  it("a second call within the hour mints nothing; ten parallel calls mint once", async () => {
    const { sb, env } = await setup();
    const repo = `${gh!.host}/octo/app`;
    const runs = await Promise.all(
      Array.from({ length: 10 }, () =>
        runExec(["gh", "api", "repos/octo/app"], { env: { ...env, GH_REPO: repo }, cwd: sb.project }),
      ),
    );
    for (const r of runs) expect(r.stderr).not.toMatch(/downscope:/);
    expect(gh!.mints).toHaveLength(1);
    const again = await runExec(["gh", "pr", "list", "-R", repo], { env, cwd: sb.project });
    expect(again.stderr).not.toMatch(/downscope:/);
    expect(gh!.mints).toHaveLength(1);
    expect(tokensSeen(gh!)).toEqual([`token ${gh!.mints[0]!.token}`]);
  });

  it("from_command reads the origin remote of the working directory; unknown repository is denied", async () => {
    const { sb, env } = await setup();
    sb.write(
      join(sb.project, ".git/config"),
      `[core]\n\tbare = false\n[remote "origin"]\n\turl = https://${gh!.host}/octo/site.git\n`,
    );
    const r = await runExec(["gh", "api", "/user"], { env, cwd: sb.project });
    expect(r.stderr).not.toMatch(/downscope:/);
    expect(gh!.mints.map((m) => m.body.repositories)).toEqual([["site"]]);

    const bare = execSandbox().project;
    const unknown = await runExec(["gh", "api", "/user"], { env, cwd: bare });
    expect(unknown.code).toBe(77);
    expect(unknown.stderr).toMatch(/cannot be known.*-R OWNER\/REPO/);
    const other = await runExec(["gh", "pr", "list", "-R", `${gh!.host}/evil/app`], { env, cwd: sb.project });
    expect(other.code).toBe(77);
    expect(other.stderr).toMatch(/installation is for octo/);
    expect(gh!.mints).toHaveLength(1);
  });

  it.each([
    // The modulus sits at the start of the key: a changed byte there makes the key disagree with itself.
    [
      "a tampered key",
      (pem: string) => {
        const lines = pem.split("\n");
        lines[2] = lines[2]!.replace(/[A-Za-z]/, (c) => (c === "A" ? "B" : "A"));
        return lines.join("\n");
      },
      /private_key: the private key (is damaged|cannot be read)/,
    ],
    ["a truncated key", (pem: string) => pem.slice(0, 400), /private_key: the private key cannot be read/],
    ["not a key", () => "hello\n", /private_key: the private key cannot be read/],
  ])("%s is refused before any request", async (_n, tamper, message) => {
    const { sb, env, keyFile, keys } = await setup();
    sb.write(keyFile, tamper(keys.privatePem), 0o600);
    const r = await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^downscope: /);
    expect(r.stderr).toMatch(message);
    expect(gh!.mints).toEqual([]);
    expect(gh!.refused).toEqual([]);
    expect(gh!.api).toEqual([]);
  });

  it("another app's key: GitHub's 401 becomes one line naming app_id and private_key", async () => {
    const { sb, env, keyFile } = await setup();
    sb.write(keyFile, appKeys().privatePem, 0o600);
    const r = await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/refused the app's JWT \(A JSON web token could not be decoded\); check app_id/);
    expect(gh!.refused).toHaveLength(1);
    expect(gh!.api).toEqual([]);
  });

  it.each([
    [
      "an unknown installation (404)",
      { 1: { contents: "read" } },
      /installation 777 was not found \(404\); check installation_id/,
    ],
    [
      "a permission the installation lacks (422)",
      { [INSTALLATION]: { contents: "read", metadata: "read" } },
      /refused to mint permissions contents:read,metadata:read,pull_requests:read for app \(422.*lacks a permission/,
    ],
  ])("%s is one clear line, nothing run", async (_n, installations, message) => {
    const { sb, env } = await setup(installations);
    const r = await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(gh!.api).toEqual([]);
  });

  it("a clock that is off is named as such (GitHub's 401 about iat/exp)", async () => {
    const keys = appKeys();
    const sb = execSandbox();
    sb.env.PATH = "/usr/bin:/bin";
    // The fake's clock runs an hour behind: our iat lies in its future.
    gh = await fakeGithub(sb.root, {
      appId: APP_ID,
      publicKey: keys.publicKey,
      installations: { [INSTALLATION]: { pull_requests: "read", contents: "read", metadata: "read" } },
      now: () => Math.floor(Date.now() / 1000) - 3600,
    });
    const keyFile = sb.write(join(sb.home, "app.pem"), keys.privatePem, 0o600);
    sb.userConfig(POLICY(gh.apiUrl, keyFile));
    const env = { ...sb.env, SSL_CERT_FILE: gh.caFile, NODE_EXTRA_CA_CERTS: gh.caFile };
    const r = await runExec(["gh", "pr", "list", "-R", `${gh.host}/octo/app`], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/refused the app's JWT because of its time .*clock is off/);
    expect(gh.refused).toHaveLength(1);
    expect(gh.api).toEqual([]);
  });

  it("downscope cache clear revokes the cached installation tokens, then removes them", async () => {
    const { sb, env } = await setup();
    await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    await runExec(["gh", "pr", "create", "-R", `${gh!.host}/octo/app`, "--title", "t", "--body", "b", "-H", "f"], {
      env,
      cwd: sb.project,
    });
    expect(gh!.mints).toHaveLength(2);
    const cacheDir = join(env.XDG_CACHE_HOME!, "downscope/github-app");
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".json"))).toHaveLength(2);
    const r = await run(process.execPath, [DOWNSCOPE_BIN, "cache", "clear"], { env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/revoked 2 GitHub App installation tokens/);
    expect(gh!.revoked.sort()).toEqual(gh!.mints.map((m) => m.token!).sort());
    for (const t of gh!.revoked) expect(r.stderr).not.toContain(t);
  });

  it("a revoke that fails is reported, and the local copy is removed anyway", async () => {
    const { sb, env } = await setup();
    await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    const token = gh!.mints[0]!.token!;
    await gh!.close();
    gh = undefined;
    const r = await run(process.execPath, [DOWNSCOPE_BIN, "cache", "clear"], { env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not revoke token sha256:[0-9a-f]{12} .*cannot reach .*ECONNREFUSED/);
    expect(r.stderr).not.toContain(token);
    expect(() => readdirSync(join(env.XDG_CACHE_HOME!, "downscope"))).toThrow();
  });

  it("the audit record says what was minted, never the token", async () => {
    const { sb, env } = await setup();
    await runExec(["gh", "pr", "list", "-R", `${gh!.host}/octo/app`], { env, cwd: sb.project });
    const token = gh!.mints[0]!.token!;
    const log = readFileSync(join(env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
    expect(log).not.toContain(token);
    const rec = JSON.parse(log.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(rec.minted).toMatchObject({
      kind: "github_app",
      permissions: { contents: "read", metadata: "read", pull_requests: "read" },
      repositories: ["app"],
      expires_at: expect.stringMatching(/^\d{4}-/),
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{12}$/),
      minted: true,
    });
    // The hash chain still verifies with the nested record.
    const verify = await run(process.execPath, [DOWNSCOPE_BIN, "audit", "verify"], { env, cwd: sb.project });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    // And `audit` shows it without the token.
    const shown = await run(process.execPath, [DOWNSCOPE_BIN, "audit", "--json"], { env, cwd: sb.project });
    expect(shown.stdout).toContain('"repositories":["app"]');
    expect(shown.stdout).not.toContain(token);
  });
});
