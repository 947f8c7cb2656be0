// The minting providers in-process, with an injected HTTP function: the
// user's kubeconfig credential in each form, GitHub's and the API server's
// error answers as one line each, a token wider than asked for refused, and
// cache keys that separate what must not be shared. No network.
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  appJwt,
  githubAppCacheKey,
  mintInstallationToken,
  type GithubAppRequest,
} from "../../src/credentials/github-app.js";
import type { HttpJsonRequest } from "../../src/credentials/http-json.js";
import {
  kubeCacheKey,
  mintServiceAccountToken,
  userAuth,
  type KubeTokenRequest,
} from "../../src/credentials/kube-token-request.js";
import { sandbox } from "../helpers/sandbox.js";

const kreq = (user: Record<string, unknown>, dir = "/nonexistent"): KubeTokenRequest => ({
  server: "https://127.0.0.1:6443",
  user,
  userDir: dir,
  userName: "me",
  serviceAccount: "dev/viewer",
  expirationSeconds: 600,
});

describe("the user's kubeconfig credential", () => {
  it.each([
    [{ token: "t0k" }, { authorization: "Bearer t0k" }],
    [{ username: "u", password: "p" }, { authorization: `Basic ${Buffer.from("u:p").toString("base64")}` }],
  ])("%j", (user, headers) => expect(userAuth(kreq(user), {}).headers).toEqual(headers));

  it("tokenFile and client certificate files are read relative to the kubeconfig", () => {
    const sb = sandbox();
    sb.write(join(sb.home, ".kube/tok"), "file-token\n");
    sb.write(join(sb.home, ".kube/c.pem"), "CERT");
    sb.write(join(sb.home, ".kube/k.pem"), "KEY");
    const dir = join(sb.home, ".kube");
    expect(userAuth(kreq({ tokenFile: "tok" }, dir), {}).headers).toEqual({ authorization: "Bearer file-token" });
    const cert = userAuth(kreq({ "client-certificate": "c.pem", "client-key": "k.pem" }, dir), {});
    expect([cert.cert?.toString(), cert.key?.toString(), cert.headers]).toEqual(["CERT", "KEY", {}]);
    const data = userAuth(
      kreq({
        "client-certificate-data": Buffer.from("C2").toString("base64"),
        "client-key-data": Buffer.from("K2").toString("base64"),
      }),
      {},
    );
    expect([data.cert?.toString(), data.key?.toString()]).toEqual(["C2", "K2"]);
  });

  it("an exec plugin is run with a fixed argv, KUBERNETES_EXEC_INFO and its env; its token is used", () => {
    const sb = sandbox();
    const info = join(sb.root, "info.json");
    const plugin = sb.write(
      "bin/plugin",
      `#!/bin/sh\nprintf '%s' "$KUBERNETES_EXEC_INFO" > ${info}\n[ "$1" = get-token ] && [ "$PLUGIN_REGION" = eu ] || exit 9\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-tok"}}'\n`,
      0o755,
    );
    const auth = userAuth(
      kreq({
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: plugin,
          args: ["get-token"],
          env: [{ name: "PLUGIN_REGION", value: "eu" }],
        },
      }),
      {
        PATH: "/usr/bin:/bin",
      },
    );
    expect(auth.headers).toEqual({ authorization: "Bearer exec-tok" });
    expect(JSON.parse(readFileSync(info, "utf8"))).toMatchObject({
      kind: "ExecCredential",
      spec: { interactive: false },
    });
    const failing = sb.write("bin/fail", "#!/bin/sh\necho secret-in-stderr >&2\nexit 4\n", 0o755);
    expect(() => userAuth(kreq({ exec: { command: failing } }), {})).toThrow(/exec plugin .* exited with status 4$/);
  });

  it.each([
    [{ "auth-provider": { name: "gcp" } }, /legacy auth-provider/],
    [{}, /no credential downscope can mint with/],
    [{ tokenFile: "missing" }, /cannot read the kubeconfig user's tokenFile/],
  ])("%j is refused", (user, message) => expect(() => userAuth(kreq(user), {})).toThrow(message));

  it("cache keys separate credentials, service accounts, lifetimes and audiences", () => {
    const base = kreq({ token: "a" });
    const keys = new Set([
      kubeCacheKey(base),
      kubeCacheKey(kreq({ token: "b" })),
      kubeCacheKey({ ...base, serviceAccount: "dev/other" }),
      kubeCacheKey({ ...base, expirationSeconds: 900 }),
      kubeCacheKey({ ...base, audiences: ["x"] }),
      kubeCacheKey({ ...base, server: "https://127.0.0.1:6444" }),
    ]);
    expect(keys.size).toBe(6);
    expect(kubeCacheKey(kreq({ token: "a" }))).toBe(kubeCacheKey(base));
  });
});

const ctx = { env: {}, cwd: "/", now: () => new Date() };

describe("TokenRequest answers", () => {
  const answering = (status: number, json: unknown) => async (_r: HttpJsonRequest) => ({ status, json });
  it.each([
    [404, { message: "not found" }, /service account dev\/viewer was not found .*\(404\)/],
    [401, {}, /rejected your kubeconfig credential \(401\); log in again/],
    [500, { message: "etcd" }, /failed \(HTTP 500: etcd\)/],
    [201, { status: {} }, /has no token/],
    [201, { status: { token: "two words" } }, /has no token/],
  ])("HTTP %i is one line", async (status, json, message) => {
    await expect(mintServiceAccountToken(kreq({ token: "t" }), ctx, answering(status, json))).rejects.toThrow(message);
  });

  it("sends the TokenRequest body with the user's credential only", async () => {
    const seen: HttpJsonRequest[] = [];
    const r = await mintServiceAccountToken({ ...kreq({ token: "user-cred" }), audiences: ["a"] }, ctx, async (req) => {
      seen.push(req);
      return { status: 201, json: { status: { token: "sa-tok", expirationTimestamp: "2030-01-01T00:00:00Z" } } };
    });
    expect(r).toEqual({
      expiresAt: "2030-01-01T00:00:00.000Z",
      value: { token: "sa-tok", expires_at: "2030-01-01T00:00:00.000Z" },
    });
    expect(seen.map((s) => [s.method, s.url, s.headers, s.body])).toEqual([
      [
        "POST",
        "https://127.0.0.1:6443/api/v1/namespaces/dev/serviceaccounts/viewer/token",
        { authorization: "Bearer user-cred" },
        {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: 600, audiences: ["a"] },
        },
      ],
    ]);
  });
});

describe("GitHub App minting", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  // The sandbox is removed after each test: the key file is written per test.
  const withKey = (): GithubAppRequest => ({ ...req, privateKey: { file: sandbox().write("app.pem", pem, 0o600) } });
  const req: GithubAppRequest = {
    service: "gh",
    file: "/u.yaml",
    apiUrl: "http://127.0.0.1:1/api/v3",
    appId: "7",
    installationId: 8,
    privateKey: { file: "/written-per-test" },
    permissions: { contents: "read", pull_requests: "write" },
    repositories: ["app"],
  };

  it("the JWT is RS256 with iss, iat 60 s back, exp within ten minutes", async () => {
    const { verify } = await import("node:crypto");
    const now = new Date("2030-01-01T00:00:00Z");
    const [h, p, s] = appJwt(pem, "7", now, "k").split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ alg: "RS256", typ: "JWT" });
    const t = Math.floor(now.getTime() / 1000);
    expect(JSON.parse(Buffer.from(p, "base64url").toString())).toEqual({ iat: t - 60, exp: t + 540, iss: "7" });
    expect(verify("sha256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url"))).toBe(true);
  });

  it("a non-RSA key is refused before any request", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    expect(() => appJwt(ec, "7", new Date(), "k")).toThrow(/is ec RSA|GitHub Apps use RSA keys/);
  });

  it("a token carrying more than was asked for is refused", async () => {
    const http = async () => ({
      status: 201,
      json: {
        token: "ghs_x",
        expires_at: "2030-01-01T00:00:00Z",
        permissions: { contents: "write", pull_requests: "write" },
      },
    });
    await expect(mintInstallationToken(withKey(), ctx, http)).rejects.toThrow(
      /carries contents:write, more than requested/,
    );
  });

  it.each([
    [403, { message: "rate limited" }, /refused the token request \(403: rate limited\)/],
    [500, {}, /minting an installation token failed \(HTTP 500\)/],
    [201, { token: "" }, /no token or expires_at/],
  ])("HTTP %i is one line", async (status, json, message) => {
    await expect(mintInstallationToken(withKey(), ctx, async () => ({ status, json }))).rejects.toThrow(message);
  });

  it("a network failure names the API, not the key", async () => {
    const err = await mintInstallationToken(withKey(), ctx, async () => {
      throw Object.assign(new Error("x"), { code: "ECONNREFUSED" });
    }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/api\/v3 \(ECONNREFUSED\)/);
    expect(err).not.toContain(pem.split("\n")[2]!);
  });

  it("cache keys differ per permissions, repositories, installation and API", () => {
    const keys = new Set([
      githubAppCacheKey(req),
      githubAppCacheKey({ ...req, permissions: { contents: "read" } }),
      githubAppCacheKey({ ...req, repositories: ["site"] }),
      githubAppCacheKey({ ...req, installationId: 9 }),
      githubAppCacheKey({ ...req, apiUrl: "https://api.github.com" }),
      githubAppCacheKey({ ...req, appId: "8" }),
    ]);
    expect(keys.size).toBe(6);
  });
});
