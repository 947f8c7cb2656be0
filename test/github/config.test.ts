// github_app / token_request configuration: the schema's security refusals
// (private_key from an env var, api_url over plain http), lint of GitHub's
// permission names and levels, the repository a command is about, `check` and
// `demo` showing what would be minted. Pure or in-process; no network.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  commandRepo,
  ghHostForApi,
  githubAppScope,
  originUrl,
  parseRepoRef,
  repoFlag,
} from "../../src/credentials/github-app-scope.js";
import { decide } from "../../src/policy/evaluate.js";
import { parseConfig } from "../../src/policy/parse.js";
import { layer, policyOf } from "../helpers/policy.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const svc = (extra: string) => `version: 1
services:
  gh:
    downscope_mode: github_app
    app_id: 1
    installation_id: 2
    private_key: { file: /k.pem }
${extra
  .split("\n")
  .map((l) => `    ${l}`)
  .join("\n")}
`;

const issues = (yaml: string) => {
  const r = parseConfig(yaml, "p.yaml");
  return r.ok ? [] : r.issues.map((i) => `${i.line ?? "?"}:${i.column ?? "?"} ${i.path}: ${i.message}`);
};

describe("schema", () => {
  it.each([
    ["https://api.github.com", true],
    ["https://github.example.com/api/v3", true],
    ["http://127.0.0.1:8080/api/v3", true],
    ["http://127.9.9.9/api/v3", true],
    ["http://localhost:3000/api/v3", true],
    ["http://[::1]:3000/api/v3", true],
    ["http://github.example.com/api/v3", false],
    ["http://10.0.0.1/api/v3", false],
    ["http://127.0.0.1.evil.com/api/v3", false],
    ["http://localhost.evil.com/", false],
    ["ftp://github.example.com/", false],
    ["not a url", false],
  ])("api_url %s accepted: %s", (url, ok) => {
    const found = issues(svc(`api_url: "${url}"`));
    if (ok) expect(found).toEqual([]);
    else {
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/services\.gh\.api_url: (api_url must|expected a URL)/);
    }
  });

  it("plain http names the reason", () => {
    expect(issues(svc('api_url: "http://ghe.example.com/api/v3"'))[0]).toMatch(
      /api_url must use https: plain http would send the app's signed JWT and the minted token in the clear/,
    );
  });

  it("refuses a private_key from an environment variable, saying why", () => {
    const found = issues(svc("").replace("{ file: /k.pem }", "{ env_var: GH_APP_KEY }"));
    expect(found).toEqual([
      expect.stringMatching(
        /^7:\d+ services\.gh\.private_key\.env_var: private_key cannot come from an environment variable: it would live in the agent's environment/,
      ),
    ]);
  });

  it.each([
    ["{}", /exactly one source/],
    ["{ file: /a, command: [x] }", /exactly one source/],
    ["{ keyring: { service: s } }", /account/],
  ])("private_key %s is refused", (src, message) => {
    expect(issues(svc("").replace("{ file: /k.pem }", src)).join("\n")).toMatch(message);
  });

  it("github_app needs app_id, installation_id and private_key", () => {
    const found = issues("version: 1\nservices:\n  gh: { downscope_mode: github_app }\n");
    expect(found.join("\n")).toMatch(/needs app_id[\s\S]*needs installation_id[\s\S]*needs private_key/);
  });

  it.each([
    ["service_account: nons", /namespace\/name/],
    ["expiration_seconds: 60", /minimum is 600/],
    ["expiration_seconds: 999999", /at most 86400/],
  ])("token_request %s is refused", (field, message) => {
    expect(
      issues(`version: 1\nservices:\n  kubectl:\n    downscope_mode: token_request\n    ${field}\n`).join("\n"),
    ).toMatch(message);
  });

  it("fallback_repositories only with repositories: from_command", () => {
    const y = svc(
      "rules:\n  - { name: r, permissions: { contents: read }, repositories: [a], fallback_repositories: [b] }",
    );
    expect(issues(y).join("\n")).toMatch(/fallback_repositories` only applies with `repositories: from_command`/);
  });
});

describe("lint", () => {
  const lint = async (yaml: string) => {
    const sb = sandbox();
    const f = sb.write("p.yaml", yaml);
    return runCli(["lint", f], { env: sb.env, cwd: sb.project });
  };

  it("checks permission names (did you mean) and levels against GitHub's", async () => {
    const r = await lint(
      svc(`repositories: [app]
permissions: { contents: read }
rules:
  - name: w
    match: { command: [pr, create] }
    permissions: { pull_request: write, workflows: read, contents: admin, organization_projects: admin }
    repositories: from_command`),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'services.gh.rules[0].permissions.pull_request: unknown GitHub App permission "pull_request"; did you mean "pull_requests"?',
    );
    expect(r.stderr).toContain(
      'permissions.workflows: GitHub does not grant "workflows" at level read; it accepts write',
    );
    expect(r.stderr).toContain(
      'permissions.contents: GitHub does not grant "contents" at level admin; it accepts read or write',
    );
    expect(r.stderr).not.toContain("organization_projects");
    expect(r.stderr).toContain("3 errors");
  });

  it("an allow rule that could never be minted for is an error: no permissions, no repositories", async () => {
    const r = await lint(
      svc(`rules:
  - { name: nothing, match: { command: [pr] } }
  - { name: all repos, match: { command: [issue] }, permissions: { issues: read } }
  - { name: empty, match: { command: [api] }, permissions: {}, repositories: [a] }`),
    );
    expect(r.stderr).toContain('allow rule "nothing" names no permissions');
    expect(r.stderr).toContain(
      'allow rule "all repos" names no repositories and the service has none: downscope never mints a token for the whole installation',
    );
    expect(r.stderr).toContain('allow rule "empty" has an empty permissions map');
    expect(r.code).toBe(1);
  });

  it("token_request without allowed_hosts is an error", async () => {
    const r = await lint("version: 1\nservices:\n  kubectl: { downscope_mode: token_request, service_account: a/b }\n");
    expect(r.stderr).toContain("token_request needs allowed_hosts");
    expect(r.code).toBe(1);
  });

  it("fields of the other mode are named as ignored", async () => {
    const r = await lint(`version: 1
services:
  kubectl:
    downscope_mode: token_slot
    token_slots: { v: { env_var: K } }
    default_slot: v
    rules: [ { name: r, match: { command: [get] }, service_account: a/b, permissions: { contents: read } } ]
`);
    expect(r.stderr).toContain("ignored: service_account applies only with downscope_mode token_request");
    expect(r.stderr).toContain("ignored: permissions applies only with downscope_mode github_app");
  });
});

describe("the repository a command is about", () => {
  it.each([
    ["octo/app", { owner: "octo", repo: "app" }],
    ["ghe.example.com/octo/app", { host: "ghe.example.com", owner: "octo", repo: "app" }],
    ["https://github.com/octo/app.git", { host: "github.com", owner: "octo", repo: "app" }],
    ["git@github.com:octo/app.git", { host: "github.com", owner: "octo", repo: "app" }],
    ["ssh://git@github.com/octo/app", { host: "github.com", owner: "octo", repo: "app" }],
    ["app", undefined],
    ["octo/app/extra/more", undefined],
    ["../../x", undefined],
  ])("%s → %j", (v, want) => expect(parseRepoRef(v)).toEqual(want));

  it.each([
    [["pr", "list", "-R", "o/r"], "o/r"],
    [["pr", "list", "--repo=o/r"], "o/r"],
    [["-Ro/r", "pr", "list"], "o/r"],
    [["pr", "list", "-R", "a/b", "--repo", "o/r"], "o/r"],
    [["pr", "list", "--", "-R", "o/r"], undefined],
    [["pr", "list"], undefined],
  ])("repoFlag %j → %s", (args, want) => expect(repoFlag(args)).toBe(want));

  it("reads origin from .git/config, also through a worktree's .git file", () => {
    const sb = sandbox();
    const cfg =
      '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://github.com/up/x\n[remote "origin"]\n\turl = git@github.com:octo/site.git\n';
    expect(originUrl(cfg)).toBe("git@github.com:octo/site.git");
    sb.write(join(sb.root, "main/.git/config"), cfg);
    sb.write(join(sb.root, "main/.git/worktrees/wt/commondir"), "../..\n");
    sb.write(join(sb.project, ".git"), `gitdir: ${join(sb.root, "main/.git/worktrees/wt")}\n`);
    sb.write(join(sb.project, "src/a.ts"), "");
    expect(commandRepo(["pr", "list"], {}, join(sb.project, "src"), "github.com")).toEqual({
      host: "github.com",
      owner: "octo",
      repo: "site",
    });
    // A remote on another host is not the app's repository.
    expect(commandRepo(["pr", "list"], {}, sb.project, "ghe.example.com")).toBeUndefined();
    // -R, then the api path, then GH_REPO win over the remote.
    expect(
      commandRepo(["api", "repos/octo/api-repo/pulls"], { GH_REPO: "octo/env" }, sb.project, "github.com")?.repo,
    ).toBe("api-repo");
    expect(commandRepo(["pr", "list"], { GH_REPO: "octo/env" }, sb.project, "github.com")?.repo).toBe("env");
    expect(commandRepo(["repo", "view", "octo/viewed"], {}, sb.project, "github.com")?.repo).toBe("viewed");
    expect(commandRepo(["pr", "view", "https://github.com/octo/u/pull/3"], {}, sb.project, "github.com")?.repo).toBe(
      "u",
    );
    // A URL of another host names no repository of this app: the remote is not used either.
    expect(
      commandRepo(["pr", "view", "https://evil.example/octo/u/pull/3"], {}, sb.project, "github.com"),
    ).toBeUndefined();
  });

  it.each([
    ["https://api.github.com", "github.com"],
    ["https://ghe.example.com/api/v3", "ghe.example.com"],
    ["http://127.0.0.1:8443/api/v3", "127.0.0.1:8443"],
    ["https://api.acme.ghe.com", "acme.ghe.com"],
  ])("the gh host for %s is %s", (api, host) => expect(ghHostForApi(api)).toBe(host));

  const POLICY = svc(`owner: octo
permissions: { contents: read }
repositories: from_command
rules:
  - { name: fixed, match: { command: [release] }, permissions: { contents: write }, repositories: [site, app] }
  - { name: fallback, match: { command: [issue] }, permissions: { issues: write }, repositories: from_command, fallback_repositories: [docs] }`);

  it.each([
    [["release", "list"], { permissions: { contents: "write" }, repositories: ["app", "site"], from: "rule" }],
    [["issue", "list"], { permissions: { issues: "write" }, repositories: ["docs"], from: "fallback" }],
    [
      ["issue", "list", "-R", "octo/x"],
      { permissions: { issues: "write" }, repositories: ["x"], from: "command", owner: "octo" },
    ],
    [
      ["pr", "list", "-R", "octo/x"],
      { permissions: { contents: "read" }, repositories: ["x"], from: "command", owner: "octo" },
    ],
  ])("scope of gh %j", (args, want) => {
    const d = decide(policyOf(layer(POLICY)), { kind: "cli", binary: "gh", args });
    expect(githubAppScope(d.grant!, args, {}, sandbox().project)).toEqual(want);
  });

  it.each([
    [["pr", "list"], /cannot be known/],
    [["pr", "list", "-R", "evil/x"], /installation is for octo/],
  ])("gh %j is denied, never the whole installation", (args, message) => {
    const d = decide(policyOf(layer(POLICY)), { kind: "cli", binary: "gh", args });
    expect(() => githubAppScope(d.grant!, args, {}, sandbox().project)).toThrow(message);
  });
});

describe("check and demo show what would be minted", () => {
  it("check names the permissions and the resolved repositories", async () => {
    const sb = sandbox();
    sb.write(
      join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      svc("permissions: { contents: read, metadata: read }\nrepositories: from_command"),
    );
    const r = await runCli(["check", "--", "gh", "pr", "list", "-R", "octo/app"], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toContain(
      "credential: GitHub App 1 installation token minted per command: permissions contents:read,metadata:read; repositories from_command (else denied)",
    );
    expect(r.stdout).toContain(
      "minted:   permissions contents:read,metadata:read; repositories app (from the command's repository)",
    );
    const j = await runCli(["check", "--json", "--", "gh", "pr", "list"], { env: sb.env, cwd: sb.project });
    expect(JSON.parse(j.stdout).github_app.refused).toMatch(/cannot be known/);
  });

  it("check names the service account a kubectl command would be minted a token for", async () => {
    const sb = sandbox();
    sb.write(
      join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      `version: 1
services:
  kubectl:
    downscope_mode: token_request
    allowed_hosts: [k8s.example.com]
    service_account: dev/viewer
    rules: [ { name: deploys, match: { command: [apply] }, service_account: dev/deployer, expiration_seconds: 900, audiences: [api] } ]
`,
    );
    const get = await runCli(["check", "--", "kubectl", "get", "pods"], { env: sb.env, cwd: sb.project });
    expect(get.stdout).toContain(
      "credential: Kubernetes token minted per command for service account dev/viewer, 600 s",
    );
    const apply = await runCli(["check", "--", "kubectl", "apply", "-f", "x.yaml"], { env: sb.env, cwd: sb.project });
    expect(apply.stdout).toContain("service account dev/deployer, 900 s, audiences api");
  });

  it("demo includes one minted-token decision", async () => {
    const sb = sandbox();
    const r = await runCli(["demo"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gh pr create -R octo\/app --fill\s+allow\s+pr and issue writes/);
    expect(r.stdout).toContain(
      "would mint a one-hour GitHub App token with contents:read,issues:write,metadata:read,pull_requests:write for app only",
    );
  });
});
