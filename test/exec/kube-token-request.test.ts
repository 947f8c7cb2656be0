// downscope_mode token_request with the real kubectl through the built
// downscope-exec, against a loopback HTTPS fake of the Kubernetes API that
// implements TokenRequest. The fake checks that the mint request carried only
// the user's kubeconfig credential and every other request only the minted token.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { selfSignedCert } from "../helpers/tls.js";
import { fakeKube, USER_TOKEN, type FakeKube } from "./fake-kube.js";
import { requireTool } from "./fake-https.js";
import { execSandbox, runExec } from "./helpers.js";

let kube: FakeKube | undefined;
afterEach(async () => {
  await kube?.close();
  kube = undefined;
});

async function setup(extraCluster = "") {
  requireTool("kubectl", "install kubectl");
  const sb = execSandbox();
  sb.env.PATH = "/usr/bin:/bin";
  kube = await fakeKube(sb.root);
  sb.write(
    join(sb.home, ".kube/config"),
    `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:${kube.port}", certificate-authority: ${kube.caFile}${extraCluster}}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: me, namespace: team-a}}]
current-context: dev-ctx
users: [{name: me, user: {token: ${USER_TOKEN}}}]
`,
  );
  sb.userConfig(`
version: 1
services:
  kubectl:
    downscope_mode: token_request
    allowed_hosts: [127.0.0.1]
    service_account: team-a/viewer
    rules:
      - name: deletes denied
        match: { command: [delete] }
        action: deny
      - name: deploys use the deployer account
        match: { command: ["apply|rollout"] }
        service_account: team-a/deployer
        expiration_seconds: 900
        audiences: [https://kubernetes.default.svc]
      - name: the forbidden one
        match: { command: [drain] }
        service_account: team-a/cluster-admin
`);
  return { sb, env: { ...sb.env } };
}

describe("token_request with the real kubectl", () => {
  it("mints with the user's credential only; kubectl's requests carry only the minted token", async () => {
    const { sb, env } = await setup();
    const r = await runExec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"], { env, cwd: sb.project });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: "PodList" });
    expect(kube!.mints).toEqual([
      {
        url: "/api/v1/namespaces/team-a/serviceaccounts/viewer/token",
        authorization: `Bearer ${USER_TOKEN}`,
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
      },
    ]);
    expect(kube!.other.length).toBeGreaterThan(0);
    expect(kube!.other.map((o) => o.authorization)).toEqual(kube!.other.map(() => `Bearer ${kube!.minted[0]}`));

    // A second call within the token's life mints nothing.
    const again = await runExec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"], {
      env,
      cwd: sb.project,
    });
    expect(again.code).toBe(0);
    expect(kube!.mints).toHaveLength(1);

    // The audit record names the service account and fingerprint, never a token.
    const log = readFileSync(join(env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
    expect(log).not.toContain(kube!.minted[0]);
    expect(log).not.toContain(USER_TOKEN);
    const rec = JSON.parse(log.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(rec.minted).toMatchObject({
      kind: "token_request",
      service_account: "team-a/viewer",
      fingerprint: expect.stringMatching(/^sha256:/),
      minted: false,
    });
  });

  it("a rule's service account, lifetime and audiences are what is minted", async () => {
    const { sb, env } = await setup();
    await runExec(["kubectl", "rollout", "status", "deploy/web"], { env, cwd: sb.project });
    expect(kube!.mints.map((m) => [m.url, m.body])).toEqual([
      [
        "/api/v1/namespaces/team-a/serviceaccounts/deployer/token",
        {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: 900, audiences: ["https://kubernetes.default.svc"] },
        },
      ],
    ]);
    for (const o of kube!.other) expect(o.authorization).toBe(`Bearer ${kube!.minted[0]}`);
  });

  it("the private kubeconfig holds the minted token pinned to the same server and CA, never the user's credential", async () => {
    const { sb, env } = await setup();
    const r = await runExec(["--explain", "kubectl", "get", "pods"], { env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/minted:   service account team-a\/viewer; expires .*; sha256:[0-9a-f]{12}/);
    expect(r.stdout).not.toContain(USER_TOKEN);
    expect(r.stdout).not.toContain(kube!.minted[0]);
  });

  it("a TokenRequest the user may not make (403) is one clear line: deny, nothing run", async () => {
    const { sb, env } = await setup();
    const r = await runExec(["kubectl", "drain", "node-1"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^downscope: kubectl: your kubeconfig credential may not mint a token for service account team-a\/cluster-admin \(403: .*\); it needs RBAC create on serviceaccounts\/token in namespace team-a/,
    );
    expect(kube!.other).toEqual([]);
  });

  it("a deny mints nothing; an insecure cluster is refused before the user's credential is sent", async () => {
    const { sb, env } = await setup(", insecure-skip-tls-verify: true");
    const del = await runExec(["kubectl", "delete", "pod", "x"], { env, cwd: sb.project });
    expect(del.code).toBe(77);
    const r = await runExec(["kubectl", "get", "pods"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/insecure-skip-tls-verify; downscope does not send your credential/);
    expect(kube!.mints).toEqual([]);
    expect(kube!.other).toEqual([]);
  });

  it("a kubeconfig pointing at a server outside allowed_hosts gets nothing minted", async () => {
    const { sb, env } = await setup();
    sb.write(
      join(sb.home, "evil"),
      `apiVersion: v1
kind: Config
clusters: [{name: e, cluster: {server: "https://localhost:${kube!.port}", certificate-authority: ${kube!.caFile}}}]
contexts: [{name: e, context: {cluster: e, user: me}}]
current-context: e
users: [{name: me, user: {token: ${USER_TOKEN}}}]
`,
    );
    const r = await runExec(["kubectl", "get", "pods"], {
      env: { ...env, KUBECONFIG: join(sb.home, "evil") },
      cwd: sb.project,
    });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/not the host the minted token is for/);
    expect(kube!.mints).toEqual([]);
    expect(readdirSync(join(env.XDG_RUNTIME_DIR!, "downscope"))).toEqual([]);
  });

  it("a client certificate user mints over mutual TLS; kubectl gets only the minted token, no certificate", async () => {
    requireTool("kubectl", "install kubectl");
    const sb = execSandbox();
    sb.env.PATH = "/usr/bin:/bin";
    const certDir = join(sb.root, "client");
    mkdirSync(certDir);
    const client = selfSignedCert(certDir, { cn: "alice", altNames: "DNS:alice", ca: true });
    kube = await fakeKube(sb.root, { clientCa: client.cert });
    sb.write(
      join(sb.home, ".kube/config"),
      `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:${kube.port}", certificate-authority: ${kube.caFile}}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: alice}}]
current-context: dev-ctx
users: [{name: alice, user: {client-certificate: ${join(certDir, "cert.pem")}, client-key: ${join(certDir, "key.pem")}}}]
`,
    );
    sb.userConfig(`
version: 1
services:
  kubectl:
    downscope_mode: token_request
    allowed_hosts: [127.0.0.1]
    service_account: team-a/viewer
`);
    const r = await runExec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(kube.mints).toEqual([
      expect.objectContaining({
        authorization: undefined,
        clientCert: "alice",
        url: "/api/v1/namespaces/team-a/serviceaccounts/viewer/token",
      }),
    ]);
    expect(kube.other.length).toBeGreaterThan(0);
    expect(kube.other).toEqual(kube.other.map((o) => ({ url: o.url, authorization: `Bearer ${kube!.minted[0]}` })));
  });
});
