// Real kubectl and gh (from this machine / Debian's gh package, see
// .ci/install-system-deps) through the built downscope-exec, against loopback
// HTTPS fakes with certificates generated here. No network beyond loopback.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execSandbox, runExec } from "./helpers.js";
import { fakeHttps, requireTool, type FakeHttps } from "./fake-https.js";

const VIEWER = "fake-kube-viewer-token";
const ADMIN = "fake-kube-admin-token";
let server: FakeHttps | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function kubeSetup(s: FakeHttps) {
  const sb = execSandbox();
  sb.env.PATH = "/usr/bin:/bin";
  const kubeconfig = (token: string) => `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:${s.port}", certificate-authority: ${s.caFile}}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: me, namespace: team-a}}]
current-context: dev-ctx
users: [{name: me, user: {token: ${token}}}]
`;
  sb.write(join(sb.home, ".kube/config"), kubeconfig(ADMIN));
  sb.write(join(sb.home, ".kube/admin"), kubeconfig(ADMIN));
  sb.userConfig(`
version: 1
services:
  kubectl:
    token_slots: { viewer: { env_var: KUBE_VIEWER_SRC, host: 127.0.0.1 } }
    default_slot: viewer
`);
  return { sb, env: { ...sb.env, KUBE_VIEWER_SRC: VIEWER } };
}

describe("real kubectl against a fake API server", () => {
  it("sends only the slot's token", async () => {
    requireTool("kubectl", "install kubectl");
    server = await fakeHttps(execSandbox().root, () => ({ kind: "PodList", apiVersion: "v1", items: [] }));
    const { sb, env } = kubeSetup(server);
    const r = await runExec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"], { env, cwd: sb.project });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: "PodList" });
    const pods = server.seen.filter((s) => s.url === "/api/v1/namespaces/team-a/pods");
    expect(pods).toHaveLength(1);
    expect(server.seen.map((s) => s.authorization)).toEqual(server.seen.map(() => `Bearer ${VIEWER}`));
  });

  it.each([
    ["--kubeconfig ~/.kube/admin", (home: string) => ["--kubeconfig", `${home}/.kube/admin`, "get", "pods"]],
    ["--token", () => ["--token", ADMIN, "get", "pods"]],
    ["--context of another context", () => ["--context", "prod", "get", "pods"]],
    ["a plugin", () => ["leak-token"]],
    ["--server", () => ["-s", "https://127.0.0.1:1", "get", "pods"]],
  ])("refuses %s before anything reaches the server", async (_n, args) => {
    requireTool("kubectl", "install kubectl");
    server = await fakeHttps(execSandbox().root, () => ({}));
    const { sb, env } = kubeSetup(server);
    const r = await runExec(["kubectl", ...args(sb.home)], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/^downscope: /);
    expect(server.seen).toEqual([]);
  });

  it("refuses a kubeconfig whose server is not the slot's host", async () => {
    requireTool("kubectl", "install kubectl");
    server = await fakeHttps(execSandbox().root, () => ({}));
    const { sb, env } = kubeSetup(server);
    sb.write(
      join(sb.home, "evil"),
      `apiVersion: v1
kind: Config
clusters: [{name: e, cluster: {server: "https://localhost:${server.port}", insecure-skip-tls-verify: true}}]
contexts: [{name: e, context: {cluster: e, user: x}}]
current-context: e
users: [{name: x, user: {}}]
`,
    );
    const r = await runExec(["kubectl", "get", "--raw", "/"], {
      env: { ...env, KUBECONFIG: join(sb.home, "evil") },
      cwd: sb.project,
    });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/not the host the slot's token is for/);
    expect(server.seen).toEqual([]);
  });
});

describe("real gh against a fake GitHub Enterprise API", () => {
  // gh talks to https://<host>/api/v3/ for a non-github.com host, so a slot
  // for 127.0.0.1:<port> and a CA passed with pass_env: [SSL_CERT_FILE] let
  // the real gh run against a loopback server.
  it("gh api sends the slot's token, not the stored login", async () => {
    requireTool("gh", "apt-get install gh; see .ci/install-system-deps");
    server = await fakeHttps(execSandbox().root, () => ({ login: "octocat" }));
    const sb = execSandbox();
    sb.env.PATH = "/usr/bin:/bin";
    const host = `127.0.0.1:${server.port}`;
    sb.write(join(sb.home, ".config/gh/hosts.yml"), `${host}:\n  oauth_token: fake-stored-login-token\n  user: me\n`);
    sb.userConfig(`
version: 1
services:
  gh:
    pass_env: [SSL_CERT_FILE]
    token_slots: { ent: { env_var: GH_ENT_SRC, host: "${host}" } }
    default_slot: ent
`);
    const env = {
      ...sb.env,
      GH_ENT_SRC: "fake-gh-token-ent-789",
      SSL_CERT_FILE: server.caFile,
      GH_TOKEN: "fake-ambient",
    };
    const r = await runExec(["gh", "api", "/user"], { env, cwd: sb.project });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ login: "octocat" });
    expect(server.seen).toEqual([{ method: "GET", url: "/api/v3/user", authorization: "token fake-gh-token-ent-789" }]);

    const other = await runExec(["gh", "api", "--hostname", "github.com", "/user"], { env, cwd: sb.project });
    expect(other.code).toBe(77);
    expect(server.seen).toHaveLength(1);
  });
});
