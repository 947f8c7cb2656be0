import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApproval } from "../../src/approval/approval.js";
import { ConfigError, CredentialUnavailable, PolicyDenied, UsageError } from "../../src/errors.js";
import { NO_CREDENTIAL } from "../../src/exec/channels/gh.js";
import { ExecLoopError, planExec, type ExecRequest } from "../../src/exec/plan.js";
import { createRunDir } from "../../src/exec/run-dir.js";
import { execSandbox, type ExecSandbox } from "./helpers.js";

const GH = (bin: string, extra = "") => `
version: 1
services:
  gh:
    binary_path: ${bin}
${extra}    strip_env: [EXTRA_SECRET]
    token_slots:
      ro: { env_var: GH_RO_SRC }
      rw: { env_var: GH_RW_SRC }
      ent: { env_var: GH_ENT_SRC, host: ghe.example.com }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: not permitted for AI use }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
      - { name: writes, match: { command: [pr, create] }, slot: rw }
      - { name: enterprise, match: { command: [ent] }, slot: ent }
  tool:
    token_slots:
      t: { env_var: TOOL_SRC, inject_as: TOOL_TOKEN }
      f: { env_var: TOOL_SRC, inject_file_env: TOOL_TOKEN_FILE }
    default_slot: t
    rules: [ { name: file, match: { command: [file] }, slot: f } ]
`;

const SECRETS = {
  GH_RO_SRC: "fake-gh-token-ro-123",
  GH_RW_SRC: "fake-gh-token-rw-456",
  GH_ENT_SRC: "fake-gh-token-ent-789",
  TOOL_SRC: "fake-tool-token-000",
  GITHUB_TOKEN: "fake-ambient-github-token",
  GH_TOKEN: "fake-ambient-gh-token",
  GH_ENTERPRISE_TOKEN: "fake-ambient-ent-token",
  EXTRA_SECRET: "fake-extra-secret",
  DOWNSCOPE_APPROVAL: "not-a-real-approval-nonce-xyz",
};

function setup(extra = ""): {
  sb: ExecSandbox;
  plan: (binary: string, args: string[], env?: Record<string, string>) => ReturnType<typeof planExec>;
} {
  const sb = execSandbox();
  const gh = sb.fake("gh");
  const tool = sb.fake("tool");
  sb.userConfig(GH(gh, extra).replace("tool:\n", `tool:\n    binary_path: ${tool}\n`));
  const plan = (binary: string, args: string[], env: Record<string, string> = {}) => {
    const req: ExecRequest = { binary, args, env: { ...sb.env, ...SECRETS, ...env }, cwd: sb.project };
    return planExec(req, { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(req.env) });
  };
  return { sb, plan };
}

/** No value of the child's environment carries a secret other than `allowed`. */
function expectNoLeak(env: Record<string, string>, allowed: string[]) {
  const leaked = Object.entries(env).filter(([, v]) =>
    Object.values(SECRETS).some((s) => !allowed.includes(s) && v.includes(s)),
  );
  expect(leaked).toEqual([]);
}

describe("planExec: gh environment", () => {
  it("gives the default slot's token as GH_TOKEN and strips every other slot and ambient credential", async () => {
    const { plan } = setup();
    const p = await plan("gh", ["pr", "list"]);
    expect(p.env.GH_TOKEN).toBe(SECRETS.GH_RO_SRC);
    expect(p.env.GH_ENTERPRISE_TOKEN).toBe(NO_CREDENTIAL);
    for (const k of [
      "GITHUB_TOKEN",
      "GITHUB_ENTERPRISE_TOKEN",
      "GH_RO_SRC",
      "GH_RW_SRC",
      "GH_ENT_SRC",
      "TOOL_SRC",
      "EXTRA_SECRET",
      "DOWNSCOPE_APPROVAL",
      "GH_HOST",
    ])
      expect(p.env[k], k).toBeUndefined();
    expectNoLeak(p.env, [SECRETS.GH_RO_SRC]);
    expect(p.secrets).toEqual([SECRETS.GH_RO_SRC]);
    expect(p.argv).toEqual(["gh", "pr", "list"]);
    expect(p.env.DOWNSCOPE_EXEC_DEPTH).toBe("1");
  });

  it("uses the rule's slot", async () => {
    const { plan } = setup();
    const p = await plan("gh", ["pr", "create", "--title", "x"]);
    expect(p.env.GH_TOKEN).toBe(SECRETS.GH_RW_SRC);
    expectNoLeak(p.env, [SECRETS.GH_RW_SRC]);
  });

  it("an Enterprise slot goes in GH_ENTERPRISE_TOKEN with GH_HOST; github.com gets no credential", async () => {
    const { plan } = setup();
    const p = await plan("gh", ["ent"]);
    expect(p.env.GH_ENTERPRISE_TOKEN).toBe(SECRETS.GH_ENT_SRC);
    expect(p.env.GH_HOST).toBe("ghe.example.com");
    expect(p.env.GH_TOKEN).toBe(NO_CREDENTIAL);
    expectNoLeak(p.env, [SECRETS.GH_ENT_SRC]);
  });

  it("points GH_CONFIG_DIR at a private copy without hosts.yml, aliases, or program settings", async () => {
    const { sb, plan } = setup();
    sb.write(join(sb.home, ".config/gh/hosts.yml"), "github.com:\n  oauth_token: fake-stored-oauth-token\n");
    sb.write(
      join(sb.home, ".config/gh/config.yml"),
      "git_protocol: ssh\naliases:\n  leak: '!env'\nhttp_unix_socket: /tmp/evil.sock\npager: evil-pager\n",
    );
    const p = await plan("gh", ["pr", "list"]);
    const dir = p.env.GH_CONFIG_DIR!;
    expect(dir.startsWith(sb.runtime)).toBe(true);
    expect(existsSync(join(dir, "hosts.yml"))).toBe(false);
    const copied = readFileSync(join(dir, "config.yml"), "utf8");
    expect(copied).toContain("git_protocol: ssh");
    for (const bad of ["aliases", "leak", "http_unix_socket", "evil"]) expect(copied).not.toContain(bad);
    expect(statSync(join(dir, "config.yml")).mode & 0o777).toBe(0o600);
    expect(p.env.GH_DATA_DIR).toBeDefined();
    expect(p.env.GH_PAGER).toBe("");
  });

  it("removes variables that make gh start other programs with the token", async () => {
    const { plan } = setup();
    const bad = {
      PAGER: "x",
      GH_PAGER: "x",
      EDITOR: "x",
      VISUAL: "x",
      GH_EDITOR: "x",
      BROWSER: "x",
      GH_BROWSER: "x",
      GIT_SSH_COMMAND: "x",
      GIT_ASKPASS: "x",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.pager",
      GIT_CONFIG_VALUE_0: "x",
      SSL_CERT_FILE: "/tmp/evil-ca.pem",
    };
    const p = await plan("gh", ["pr", "list"], bad);
    for (const k of Object.keys(bad)) if (k !== "GH_PAGER") expect(p.env[k], k).toBeUndefined();
    expect(p.env.GH_PAGER).toBe("");
  });

  // Bypass: `PATH=/tmp/evil:$PATH gh pr list` makes gh run the agent's `git`
  // with GH_TOKEN in its environment. Fix: the child's PATH keeps only
  // absolute, existing, non-writable-by-others dirs outside the project and
  // temp dirs. Proves: the agent's prefixes are gone, system dirs stay.
  it("the child's PATH drops directories the agent can add for one command", async () => {
    const { sb, plan } = setup();
    const evil = join(sb.root, "evil");
    const proj = join(sb.project, "bin");
    mkdirSync(evil);
    mkdirSync(proj);
    const p = await plan("gh", ["pr", "list"], { PATH: `${evil}:.::${proj}:bin:/nonexistent:/usr/bin:/bin` });
    expect(p.env.PATH).toBe("/usr/bin:/bin");
  });

  it.each([
    [["api", "--hostname", "evil.example.com", "/user"]],
    [["api", "--hostname=evil.example.com", "/user"]],
    [["pr", "list", "-R", "evil.example.com/o/r"]],
    [["pr", "list", "--repo=https://evil.example.com/o/r"]],
    [["api", "https://evil.example.com/user"]],
    [["api", "--hostname", "ghe.example.com", "/user"]],
  ])("denies gh %j: it names a host the slot is not for", async (args) => {
    const { plan } = setup();
    await expect(plan("gh", args)).rejects.toThrow(PolicyDenied);
  });

  it("denies GH_REPO naming another host", async () => {
    const { plan } = setup();
    await expect(plan("gh", ["pr", "list"], { GH_REPO: "evil.example.com/o/r" })).rejects.toThrow(/evil.example.com/);
  });

  it.each([
    [["api", "--hostname", "github.com", "/user"]],
    [["pr", "list", "-R", "o/r"]],
    [["pr", "list", "-R", "github.com/o/r"]],
    [["issue", "create", "--body", "see https://example.com/x"]],
    [["api", "https://api.github.com/user"]],
  ])("allows gh %j", async (args) => {
    const { plan } = setup();
    await expect(plan("gh", args)).resolves.toBeDefined();
  });
});

describe("planExec: decisions", () => {
  it("deny names the rule, the service and the reason", async () => {
    const { plan } = setup();
    await expect(plan("gh", ["repo", "delete", "x", "--yes"])).rejects.toThrow(
      'denied by rule "repo deletion denied" (gh, user config): not permitted for AI use',
    );
  });

  it("review without an approval is denied; with one it runs once, with the default slot", async () => {
    const { sb, plan } = setup();
    await expect(plan("gh", ["pr", "merge", "12"])).rejects.toThrow(/no approval|unknown/);
    const nonce = createApproval("gh", ["pr", "merge", "12"], sb.env);
    const p = await plan("gh", ["pr", "merge", "12"], { DOWNSCOPE_APPROVAL: nonce });
    expect(p.approved).toBe(true);
    expect(p.env.GH_TOKEN).toBe(SECRETS.GH_RO_SRC);
    expect(p.env.DOWNSCOPE_APPROVAL).toBeUndefined();
    await expect(plan("gh", ["pr", "merge", "12"], { DOWNSCOPE_APPROVAL: nonce })).rejects.toThrow(PolicyDenied);
  });

  it("an approval for other arguments does not count", async () => {
    const { sb, plan } = setup();
    const nonce = createApproval("gh", ["pr", "merge", "12"], sb.env);
    await expect(plan("gh", ["pr", "merge", "13"], { DOWNSCOPE_APPROVAL: nonce })).rejects.toThrow(/different command/);
  });

  it("a binary no service names is an error, not a pass-through", async () => {
    const { plan } = setup();
    await expect(plan("curl", ["https://example.com"])).rejects.toThrow(UsageError);
  });

  it("an untrusted project config grants nothing", async () => {
    const sb = execSandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), GH(sb.fake("gh")));
    const env = { ...sb.env, ...SECRETS };
    await expect(
      planExec(
        { binary: "gh", args: ["pr", "list"], env, cwd: sb.project },
        { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(env) },
      ),
    ).rejects.toThrow(CredentialUnavailable);
  });

  it("a broken config denies with file:line:col", async () => {
    const sb = execSandbox();
    sb.userConfig("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    await expect(
      planExec(
        { binary: "gh", args: [], env: sb.env, cwd: sb.project },
        { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(sb.env) },
      ),
    ).rejects.toThrow(ConfigError);
    await expect(
      planExec(
        { binary: "gh", args: [], env: sb.env, cwd: sb.project },
        { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(sb.env) },
      ),
    ).rejects.toThrow(/config.yaml:4:\d+/);
  });

  it("a missing slot source fails closed naming the variable, never the ambient token", async () => {
    const { plan } = setup();
    await expect(plan("gh", ["pr", "list"], { GH_RO_SRC: "" })).rejects.toThrow(/GH_RO_SRC is not set/);
  });

  it("on_missing_credential: passthrough (trusted) runs with the ambient credential, visibly", async () => {
    const { plan } = setup("    on_missing_credential: passthrough\n");
    const p = await plan("gh", ["pr", "list"], { GH_RO_SRC: "" });
    expect(p.passthrough).toMatch(/passthrough/);
    expect(p.env.GH_TOKEN).toBe(SECRETS.GH_TOKEN);
    expect(p.env.GH_RW_SRC).toBeUndefined();
  });
});

describe("planExec: custom services", () => {
  it("inject_as sets the variable", async () => {
    const { plan } = setup();
    const p = await plan("tool", ["x"]);
    expect(p.env.TOOL_TOKEN).toBe(SECRETS.TOOL_SRC);
    expectNoLeak(p.env, [SECRETS.TOOL_SRC]);
  });

  it("inject_file_env writes a 0600 file in a 0700 dir", async () => {
    const { plan } = setup();
    const p = await plan("tool", ["file"]);
    const f = p.env.TOOL_TOKEN_FILE!;
    expect(readFileSync(f, "utf8")).toBe(SECRETS.TOOL_SRC);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(join(f, "..")).mode & 0o777).toBe(0o700);
    expectNoLeak(p.env, []);
  });
});

describe("loop guard", () => {
  it.each([["4"], ["99"], ["x"], ["-1"]])("DOWNSCOPE_EXEC_DEPTH=%s is an error", async (v) => {
    const { plan } = setup();
    await expect(plan("gh", ["pr", "list"], { DOWNSCOPE_EXEC_DEPTH: v })).rejects.toThrow(ExecLoopError);
  });
  it("counts up", async () => {
    const { plan } = setup();
    expect((await plan("gh", ["pr", "list"], { DOWNSCOPE_EXEC_DEPTH: "2" })).env.DOWNSCOPE_EXEC_DEPTH).toBe("3");
  });
});

describe("planExec: kubectl kubeconfig", () => {
  it("holds the current context's cluster, CA and namespace and only the slot's token", async () => {
    const sb = execSandbox();
    const ca = sb.write("ca.pem", "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n");
    sb.write(
      join(sb.home, ".kube/config"),
      `apiVersion: v1
clusters: [{name: dev, cluster: {server: "https://k8s.example.com:6443", certificate-authority: ${ca}}}, {name: prod, cluster: {server: "https://prod.example.com"}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: admin, namespace: team-a}}, {name: prod-ctx, context: {cluster: prod, user: admin}}]
current-context: dev-ctx
users: [{name: admin, user: {token: fake-kube-admin-token, client-key-data: fake-key}}]
`,
    );
    sb.userConfig(`
version: 1
services:
  kubectl:
    binary_path: ${sb.fake("kubectl")}
    token_slots: { viewer: { env_var: KUBE_VIEWER_SRC, host: k8s.example.com } }
    default_slot: viewer
`);
    const env = { ...sb.env, KUBE_VIEWER_SRC: "fake-kube-viewer-token", KUBE_EDITOR: "evil" };
    const deps = { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(env) };
    const p = await planExec({ binary: "kubectl", args: ["get", "pods"], env, cwd: sb.project }, deps);
    const file = p.env.KUBECONFIG!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    const kc = JSON.parse(readFileSync(file, "utf8"));
    expect(kc).toEqual({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "dev",
          cluster: {
            server: "https://k8s.example.com:6443",
            "certificate-authority-data": Buffer.from(readFileSync(ca)).toString("base64"),
          },
        },
      ],
      contexts: [{ name: "dev-ctx", context: { cluster: "dev", user: "downscope", namespace: "team-a" } }],
      "current-context": "dev-ctx",
      users: [{ name: "downscope", user: { token: "fake-kube-viewer-token" } }],
      preferences: {},
    });
    expect(p.env.KUBE_EDITOR).toBeUndefined();
    await expect(
      planExec({ binary: "kubectl", args: ["--context", "prod-ctx", "get", "pods"], env, cwd: sb.project }, deps),
    ).rejects.toThrow(PolicyDenied);
    await expect(
      planExec({ binary: "kubectl", args: ["--context=dev-ctx", "get", "pods"], env, cwd: sb.project }, deps),
    ).resolves.toBeDefined();
    for (const args of [
      ["--insecure-skip-tls-verify", "get", "pods"],
      ["--certificate-authority=/tmp/agent-ca.pem", "get", "pods"],
      ["get", "pods", "--tls-server-name", "x"],
      ["kustomize", "--enable-exec", "."],
      ["-n", "x", "leak"],
    ])
      await expect(planExec({ binary: "kubectl", args, env, cwd: sb.project }, deps), args.join(" ")).rejects.toThrow(
        PolicyDenied,
      );
  });

  it("a trusted rule that re-allows --server still sends the token only to a configured host", async () => {
    const sb = execSandbox();
    sb.write(
      join(sb.home, ".kube/config"),
      `clusters: [{name: dev, cluster: {server: "https://k8s.example.com"}}]\ncontexts: [{name: c, context: {cluster: dev}}]\ncurrent-context: c\n`,
    );
    sb.userConfig(`
version: 1
services:
  kubectl:
    binary_path: ${sb.fake("kubectl")}
    allowed_hosts: [k8s-2.example.com]
    token_slots: { viewer: { env_var: KUBE_VIEWER_SRC, host: k8s.example.com } }
    default_slot: viewer
    rules: [ { name: other servers, match: { flags: ["--server", "-s"] }, action: allow, override_guards: true } ]
`);
    const env = { ...sb.env, KUBE_VIEWER_SRC: "fake-kube-viewer-token" };
    const deps = { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(env) };
    const plan = (args: string[]) => planExec({ binary: "kubectl", args, env, cwd: sb.project }, deps);
    await expect(plan(["--server", "https://k8s-2.example.com", "get", "pods"])).resolves.toBeDefined();
    await expect(plan(["-s", "https://evil.example.com", "get", "pods"])).rejects.toThrow(PolicyDenied);
    await expect(plan(["--server=https://evil.example.com", "get", "pods"])).rejects.toThrow(/evil.example.com/);
  });

  it("without a host for the slot, fails closed with a hint", async () => {
    const sb = execSandbox();
    sb.write(
      join(sb.home, ".kube/config"),
      `clusters: [{name: dev, cluster: {server: "https://k8s.example.com"}}]\ncontexts: [{name: c, context: {cluster: dev}}]\ncurrent-context: c\n`,
    );
    sb.userConfig(`
version: 1
services:
  kubectl:
    binary_path: ${sb.fake("kubectl")}
    token_slots: { viewer: { env_var: KUBE_VIEWER_SRC } }
    default_slot: viewer
`);
    const env = { ...sb.env, KUBE_VIEWER_SRC: "fake-kube-viewer-token" };
    await expect(
      planExec(
        { binary: "kubectl", args: ["get", "pods"], env, cwd: sb.project },
        { now: () => new Date(), selfPaths: [], makeRunDir: () => createRunDir(env) },
      ),
    ).rejects.toThrow(/set `host:` on the slot/);
  });
});
