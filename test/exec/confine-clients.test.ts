/**
 * Contained mode (issue 20): every channel hands its credential to a confined
 * CLI through the CLI's environment only, so the namespace it runs in holds no
 * secret on any path (no /proc there either).
 *
 * Bypass: kubectl's private kubeconfig, gcloud's access-token file and the aws
 * credential_process cache were files the confined CLI could read, so a link
 * in the project swapped after downscope checked the arguments (`kubectl
 * create configmap x --from-file=link`, `aws s3 cp link s3://…`) could upload
 * the token. Fix: kubectl gets an exec credential plugin printing a variable,
 * gcloud CLOUDSDK_AUTH_ACCESS_TOKEN, aws a credential_process printing the
 * session minted before it starts.
 * Proves, with the real kubectl, aws CLI (against moto) and gcloud, confined
 * by the real bubblewrap: each still works with its scoped credential; and a
 * probe in each one's place finds its credential in no file of its namespace
 * (control: not contained, the kubeconfig and token file hold it).
 */
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { requireTool as requireAws, startMoto, TOOL_PATH, type Moto } from "../aws/moto.js";
import { execSandbox, runExec, type ExecSandbox } from "./helpers.js";
import { fakeHttps, requireTool } from "./fake-https.js";
import { selfSignedCert } from "../helpers/tls.js";

const BASE = join(homedir(), ".cache", "downscope-confine-tests");
const KUBE_TOKEN = "fake-kube-slot-token-7311";
const GCLOUD_TOKEN = "fake-gcloud-slot-token-8822";

function contain(sb: ExecSandbox): void {
  writeContainedState(sb.env, {
    version: 1,
    settingsFile: join(sb.home, ".claude/settings.json"),
    exec: "/usr/bin/node /x/downscope-exec.js",
    denyRules: [],
  });
}

/** A probe standing in for the CLI: lists every file of the namespace (outside the system roots) holding `needle`. */
const probe = (needle: string) =>
  [
    "#!/bin/sh",
    // Split with "" so that the probe script itself (bound as the binary's tree) does not hold the needle.
    `n=${needle.startsWith('"') ? needle : `${needle.slice(0, 6)}""${needle.slice(6)}`}`,
    'if [ -d /proc/self ]; then grep -lF -- "$n" "$KUBECONFIG" "$CLOUDSDK_AUTH_ACCESS_TOKEN_FILE" "$AWS_CONFIG_FILE" 2>/dev/null | sed "s/^/SECRET-IN-FILE: /"; exit 0; fi',
    'for d in $(ls -A /); do case "$d" in usr|bin|sbin|lib|lib32|lib64|libx32|etc|opt|nix|dev|sys) ;; *) grep -rlF -- "$n" "/$d" 2>/dev/null | sed "s/^/SECRET-IN-FILE: /" ;; esac; done',
    "echo probe-done",
  ].join("\n") + "\n";

describe("kubectl, confined", () => {
  function setup(s: { port: number; caFile: string }, binaryPath?: string) {
    const sb = execSandbox(BASE);
    sb.env.PATH = "/usr/bin:/bin";
    sb.write(
      join(sb.home, ".kube/config"),
      `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:${s.port}", certificate-authority: ${s.caFile}}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: me, namespace: team-a}}]
current-context: dev-ctx
users: [{name: me, user: {token: fake-kube-admin-token}}]
`,
    );
    const slot = sb.write(join(sb.home, ".config/downscope/slots/viewer"), `${KUBE_TOKEN}\n`, 0o600);
    sb.userConfig(`version: 1
services:
  kubectl:
${binaryPath ? `    binary_path: ${binaryPath}\n` : ""}    token_slots: { viewer: { file: ${slot}, host: 127.0.0.1 } }
    default_slot: viewer
`);
    return { sb, env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project } };
  }

  it("the real kubectl sends the slot's token, handed over by its exec credential plugin", async () => {
    requireTool("kubectl", "install kubectl");
    const server = await fakeHttps(execSandbox(BASE).root, () => ({ kind: "PodList", apiVersion: "v1", items: [] }));
    try {
      const { sb, env } = setup(server);
      contain(sb);
      const r = await runExec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"], { env, cwd: sb.project });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ kind: "PodList" });
      expect(server.seen.length).toBeGreaterThan(0);
      expect(new Set(server.seen.map((x) => x.authorization))).toEqual(new Set([`Bearer ${KUBE_TOKEN}`]));
    } finally {
      await server.close();
    }
  });

  it("kubectl apply -f k8s/ (a directory in the project) creates what it holds", async () => {
    requireTool("kubectl", "install kubectl");
    const root = execSandbox(BASE).root;
    const { key, cert, caFile } = selfSignedCert(root, { cn: "127.0.0.1", altNames: "IP:127.0.0.1" });
    const created: { url: string; auth: string | undefined; body: string }[] = [];
    // Just enough of an API server for `apply`: discovery, a 404 for the object, then its creation.
    const api = createHttpsServer({ key, cert }, (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const url = (req.url ?? "").split("?")[0]!;
        const json = (status: number, v: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(v));
        };
        if (url === "/api") return json(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
        if (url === "/apis") return json(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
        if (url === "/api/v1")
          return json(200, {
            kind: "APIResourceList",
            groupVersion: "v1",
            resources: [
              {
                name: "configmaps",
                singularName: "configmap",
                namespaced: true,
                kind: "ConfigMap",
                verbs: ["create", "get", "list", "patch"],
              },
            ],
          });
        if (req.method === "GET")
          return json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
        if (req.method === "POST") {
          created.push({ url, auth: req.headers.authorization, body });
          return json(201, JSON.parse(body) as unknown);
        }
        return json(405, {});
      });
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    try {
      const { sb, env } = setup({ port: (api.address() as AddressInfo).port, caFile });
      contain(sb);
      sb.write("project/k8s/one.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: one }\ndata: { a: b }\n");
      sb.write("project/k8s/two.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: two }\ndata: { c: d }\n");
      const r = await runExec(["kubectl", "apply", "--validate=false", "-f", "k8s/"], { env, cwd: sb.project });
      expect(r.code, r.stderr).toBe(0);
      expect(created.map((c) => [c.url, c.auth])).toEqual([
        ["/api/v1/namespaces/team-a/configmaps", `Bearer ${KUBE_TOKEN}`],
        ["/api/v1/namespaces/team-a/configmaps", `Bearer ${KUBE_TOKEN}`],
      ]);
      expect(created.map((c) => (JSON.parse(c.body) as { metadata: { name: string } }).metadata.name).sort()).toEqual([
        "one",
        "two",
      ]);
    } finally {
      await new Promise<void>((r) => api.close(() => r()));
    }
  });

  for (const contained of [true, false])
    it(`${contained ? "contained: no file of the namespace holds the token" : "control: not contained, the kubeconfig holds it"}`, async () => {
      const sb0 = execSandbox(BASE);
      const fake = sb0.write("fakebin/kubectl", probe(KUBE_TOKEN), 0o755);
      const { sb, env } = setup({ port: 1, caFile: sb0.write("ca.pem", "not a real CA\n") }, fake);
      sb.env.PATH = "/usr/bin:/bin";
      if (contained) contain(sb);
      const r = await runExec(["kubectl", "get", "pods"], { env, cwd: sb.project });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(contained ? "probe-done" : "SECRET-IN-FILE");
      if (contained) expect(r.stdout).not.toContain("SECRET-IN-FILE");
    });
});

describe("the aws CLI, confined", () => {
  let moto: Moto;
  beforeAll(async () => {
    requireAws("aws");
    moto = await startMoto();
  });
  afterAll(() => moto?.stop());

  function setup(binaryPath?: string) {
    const sb = execSandbox(BASE);
    sb.write("home/.aws/config", "[default]\nregion = eu-west-1\n");
    sb.write("home/.aws/credentials", "[default]\naws_access_key_id = test\naws_secret_access_key = test\n");
    sb.userConfig(`version: 1
services:
  aws:
    downscope_mode: sts_policy
    role_arn: arn:aws:iam::123456789012:role/agent
    source_profile: default
    allowed_hosts: [127.0.0.1]
${binaryPath ? `    binary_path: ${binaryPath}\n` : ""}`);
    contain(sb);
    const env = {
      ...sb.env,
      PATH: TOOL_PATH,
      CLAUDE_PROJECT_DIR: sb.project,
      AWS_ENDPOINT_URL: moto.url,
      DOWNSCOPE_AWS_STS_ENDPOINT: moto.url,
      DOWNSCOPE_NONINTERACTIVE: "1",
    };
    return { sb, env };
  }

  it("the real aws CLI gets its STS session through credential_process, with no home and no downscope inside", async () => {
    const { sb, env } = setup();
    const r = await runExec(["aws", "sts", "get-caller-identity"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/assumed-role\/agent/);
  });

  it("aws s3 cp ./build s3://… --recursive, under a rule that allows it, uploads the project's files", async () => {
    const { sb, env } = setup();
    sb.write("project/build/index.html", "<p>hi</p>\n");
    sb.write("project/build/app.js", "console.log(1)\n");
    const mb = await runExec(["aws", "s3", "mb", "s3://site"], { env, cwd: sb.project });
    expect(mb.code, mb.stderr).toBe(0);
    const r = await runExec(["aws", "s3", "cp", "./build", "s3://site/", "--recursive"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    const ls = await runExec(["aws", "s3", "ls", "s3://site/"], { env, cwd: sb.project });
    expect(ls.stdout).toMatch(/index\.html/);
    expect(ls.stdout).toMatch(/app\.js/);
  });

  it("a probe in its place finds the session keys in no file of its namespace", async () => {
    const sb0 = execSandbox(BASE);
    // The session is only known once minted: the probe reads the key id from its own environment, then searches for it.
    const fake = sb0.write(
      "fakebin/aws",
      probe(
        '"$(printf %s "$DOWNSCOPE_AWS_SESSION" | sed -n "s/.*\\"AccessKeyId\\": *\\"\\([^\\"]*\\)\\".*/\\1/p")"',
      ).replace("#!/bin/sh", '#!/bin/sh\ntest -n "$DOWNSCOPE_AWS_SESSION" && echo has-session'),
      0o755,
    );
    const { sb, env } = setup(fake);
    const r = await runExec(["aws", "s3", "ls"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("has-session");
    expect(r.stdout).toContain("probe-done");
    expect(r.stdout).not.toContain("SECRET-IN-FILE");
  });
});

describe("gcloud, confined", () => {
  let storage: Server;
  let port = 0;
  const seen: (string | undefined)[] = [];
  beforeAll(async () => {
    storage = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "storage#objects",
          items: [{ kind: "storage#object", name: "q1.csv", bucket: "reports", size: "3", generation: "1" }],
        }),
      );
    });
    await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
    port = (storage.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((r) => storage.close(() => r())));

  function setup(binaryPath?: string) {
    const sb = execSandbox(BASE);
    sb.env.PATH = "/usr/bin:/bin";
    const slot = sb.write(join(sb.home, ".config/downscope/slots/gc"), `${GCLOUD_TOKEN}\n`, 0o600);
    sb.userConfig(`version: 1
services:
  gcloud:
    token_slots: { ro: { file: ${slot} } }
    default_slot: ro
    allowed_hosts: [127.0.0.1]
${binaryPath ? `    binary_path: ${binaryPath}\n` : ""}`);
    const env = {
      ...sb.env,
      CLAUDE_PROJECT_DIR: sb.project,
      CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `http://127.0.0.1:${port}/`,
      CLOUDSDK_CORE_CHECK_GCE_METADATA: "false",
      CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "true",
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: "true",
    };
    return { sb, env };
  }

  it("the real gcloud sends the slot's token from its environment", async () => {
    requireTool("gcloud", "install the Google Cloud CLI");
    const { sb, env } = setup();
    contain(sb);
    const before = seen.length;
    const r = await runExec(["gcloud", "storage", "ls", "gs://reports"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("gs://reports/q1.csv");
    expect(new Set(seen.slice(before))).toEqual(new Set([`Bearer ${GCLOUD_TOKEN}`]));
  });

  for (const contained of [true, false])
    it(`${contained ? "contained: no file of the namespace holds the token" : "control: not contained, the token file holds it"}`, async () => {
      const sb0 = execSandbox(BASE);
      const fake = sb0.write("fakebin/gcloud", probe(GCLOUD_TOKEN), 0o755);
      const { sb, env } = setup(fake);
      if (contained) contain(sb);
      const r = await runExec(["gcloud", "storage", "ls"], { env, cwd: sb.project });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(contained ? "probe-done" : "SECRET-IN-FILE");
      if (contained) expect(r.stdout).not.toContain("SECRET-IN-FILE");
    });
});
