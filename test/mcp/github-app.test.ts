// downscope_mode github_app for an MCP server whose token feeds the GitHub
// API: every allowed tools/call runs on an instance of the (unmodified)
// server holding an installation token minted for that call's permissions and
// repository (from its owner/repo arguments), never the app's private key.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";
import { appKeys, fakeGithub, type FakeGithub } from "../github/fake-github.js";
import { FIXTURES, RawProxy, text, until, userPolicy } from "./helpers.js";

let gh: FakeGithub | undefined;
afterEach(async () => {
  await gh?.close();
  gh = undefined;
});

const SERVER = join(FIXTURES, "github-like-server.mjs");

/** The audit log once it has `n` lines (the proxy appends them asynchronously). */
async function waitForLines(file: string, n: number): Promise<string> {
  let text = "";
  await until(() => {
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return false;
    }
    return text.trim().split("\n").length >= n;
  }, `${n} audit lines`);
  return text;
}

async function setup(lifetimeSeconds?: number) {
  const sb = sandbox();
  const keys = appKeys();
  gh = await fakeGithub(sb.root, {
    ...(lifetimeSeconds !== undefined ? { lifetimeSeconds } : {}),
    appId: 31,
    publicKey: keys.publicKey,
    installations: { 41: { contents: "read", metadata: "read", issues: "write" } },
    plain: true,
  });
  const keyFile = sb.write(join(sb.home, ".config/downscope/app.pem"), keys.privatePem, 0o600);
  userPolicy(
    sb,
    `version: 1
services:
  github:
    server: github
    downscope_mode: github_app
    app_id: 31
    installation_id: 41
    private_key: { file: ${keyFile} }
    api_url: ${gh.apiUrl}
    owner: octo
    default_action: deny
    rules:
      - { name: merges denied, match: { tools: [merge_pull_request] }, action: deny }
      - name: issue writes
        match: { tools: [create_issue] }
        permissions: { issues: write }
        repositories: from_command
      - name: reads
        match: { tools: [get_repo] }
        permissions: { contents: read, metadata: read }
        repositories: from_command
`,
  );
  // An ambient PAT the client put in the server's entry must not reach it.
  const p = new RawProxy(sb, "github", [process.execPath, SERVER], {
    FAKE_GH_API: gh.apiUrl,
    GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_ambient_pat_must_not_be_used",
  });
  await p.initialize();
  return { p, keys, sbEnv: sb.env };
}

const result = async (p: RawProxy, id: number) => (await p.response(id)).result as Record<string, unknown>;

describe("github_app MCP server", () => {
  it("each call runs with a token minted for its permissions and repository", async () => {
    const { p, keys, sbEnv } = await setup();
    p.call(1, "get_repo", { owner: "octo", repo: "app" });
    expect(text(await result(p, 1))).toMatch(/^200 /);
    p.call(2, "create_issue", { owner: "octo", repo: "app", title: "x" });
    expect(text(await result(p, 2))).toMatch(/^200 /);
    p.call(3, "get_repo", { owner: "octo", repo: "site" });
    expect(text(await result(p, 3))).toMatch(/^200 /);
    p.call(4, "get_repo", { owner: "octo", repo: "app" });
    expect(text(await result(p, 4))).toMatch(/^200 /);

    expect(gh!.mints.map((m) => m.body)).toEqual([
      { permissions: { contents: "read", metadata: "read" }, repositories: ["app"] },
      { permissions: { issues: "write" }, repositories: ["app"] },
      { permissions: { contents: "read", metadata: "read" }, repositories: ["site"] },
    ]);
    const [read, write, site] = gh!.mints.map((m) => `token ${m.token}`);
    expect(gh!.api.map((a) => [a.method, a.url, a.authorization])).toEqual([
      ["GET", "/api/v3/repos/octo/app", read],
      ["POST", "/api/v3/repos/octo/app/issues", write],
      ["GET", "/api/v3/repos/octo/site", site],
      ["GET", "/api/v3/repos/octo/app", read],
    ]);
    expect(p.stderr).not.toContain(keys.privatePem.split("\n")[3]!);
    p.child.stdin.end();
    await p.exited();
    // The audit records say what each call's instance was minted, never a token.
    // Four decisions, and four records of what the calls returned (docs/masking.md).
    const log = await waitForLines(join(sbEnv.XDG_STATE_HOME!, "downscope/audit.jsonl"), 8);
    for (const m of gh!.mints) expect(log).not.toContain(m.token!);
    const minted = log
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { action?: string; minted?: { repositories: string[]; minted: boolean } })
      .filter((e) => e.action !== undefined)
      .map((e) => e.minted);
    expect(minted.map((m) => [m?.repositories, m?.minted])).toEqual([
      [["app"], true],
      [["app"], true],
      [["site"], true],
      [["app"], false],
    ]);
  });

  it("a call whose repository is unknown or of another owner, and a denied tool, mint nothing", async () => {
    const { p } = await setup();
    p.call(1, "get_repo", {});
    expect(text(await result(p, 1))).toMatch(/cannot be known \(no owner and repo arguments\)/);
    p.call(2, "get_repo", { owner: "evil", repo: "x" });
    expect(text(await result(p, 2))).toMatch(/installation is for octo/);
    p.call(3, "merge_pull_request", { owner: "octo", repo: "app" });
    expect((await result(p, 3)).isError).toBe(true);
    expect(gh!.mints).toEqual([]);
    expect(gh!.api).toEqual([]);
    p.child.stdin.end();
    await p.exited();
  });

  it("an instance whose token is about to expire is replaced by one with a fresh token", async () => {
    // Tokens that live four minutes are inside the five-minute margin from the start.
    const { p } = await setup(240);
    p.call(1, "get_repo", { owner: "octo", repo: "app" });
    expect(text(await result(p, 1))).toMatch(/^200 /);
    p.call(2, "get_repo", { owner: "octo", repo: "app" });
    expect(text(await result(p, 2))).toMatch(/^200 /);
    expect(gh!.mints).toHaveLength(2);
    expect(gh!.api.map((a) => a.authorization)).toEqual(gh!.mints.map((m) => `token ${m.token}`));
    p.child.stdin.end();
    await p.exited();
  });
});
