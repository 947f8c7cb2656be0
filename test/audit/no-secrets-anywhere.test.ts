/**
 * Secrets never reach the audit log or any file downscope writes.
 * Bug class guarded against: a token copied into a log line, a cache or state
 * file, an error message. Fix: records carry fingerprints and redacted argv;
 * credential files live only in removed private run dirs.
 * Proves: real (fake-valued) tokens go through every path — the hook, the
 * wrapper, credential-process (against moto), the MCP proxy and the masking
 * hook, with settings.record_output: masked keeping what commands returned —
 * each path writes its audit line, and no token (nor the AWS keys minted)
 * appears in any file under the sandbox except the token sources the test
 * itself wrote: not in the captured output, not in the fingerprints the
 * masking hook reads.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { RawProxy, FIXTURES } from "../mcp/helpers.js";
import { awsSourceFiles, startMoto, TOOL_PATH, type Moto } from "../aws/moto.js";
import { appKeys, fakeGithub } from "../github/fake-github.js";
import { fakeKube, USER_TOKEN } from "../exec/fake-kube.js";
import { requireTool } from "../exec/fake-https.js";
import { run } from "../exec/helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");
const EXEC = join(ROOT, "bin/downscope-exec.js");
const DS = join(ROOT, "bin/downscope.js");

const GH_TOKEN = "fake-gh-token-aud1t-4f9c2e7d1b";
const MCP_TOKEN = "fake-mcp-token-aud1t-77aa31c9";
const ARG_SECRET = "fake-arg-secret-aud1t-0d3e5f";

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(() => moto?.stop());

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe("no secret in the audit log or any file downscope wrote", () => {
  it("hook, exec, credential-process, mcp and post-tool-use", async () => {
    const sb = sandbox();
    // It prints its token: downscope-exec masks it at source, and records what gh returned.
    const fakeGh = sb.write("bin/gh", '#!/bin/sh\necho "token=$GH_TOKEN"\n');
    chmodSync(fakeGh, 0o755);
    const { awsConfig, awsCreds } = awsSourceFiles(sb);
    sb.write(
      "home/.config/downscope/config.yaml",
      `version: 1
settings: { record_output: masked }
services:
  gh:
    binary_path: ${fakeGh}
    token_slots: { ro: { env_var: GH_RO_SRC } }
    default_slot: ro
  fake:
    server: fake
    token_slots: { ro: { env_var: MCP_RO_SRC, inject_as: FAKE_TOKEN } }
    default_slot: ro
  aws:
    downscope_mode: sts_policy
    role_arn: arn:aws:iam::123456789012:role/agent
    source_profile: default
    allowed_hosts: [127.0.0.1]
`,
    );
    const env = {
      ...sb.env,
      PATH: TOOL_PATH,
      GH_RO_SRC: GH_TOKEN,
      MCP_RO_SRC: MCP_TOKEN,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: awsCreds,
      DOWNSCOPE_AWS_STS_ENDPOINT: moto.url,
      DOWNSCOPE_NONINTERACTIVE: "1",
    };

    // hook: a command carrying a secret in a flag value
    const payload = {
      hook_event_name: "PreToolUse",
      tool_name: "Bash",
      tool_input: { command: `gh api user --token ${ARG_SECRET} -H "Authorization: token ${GH_TOKEN}"` },
      cwd: sb.project,
      session_id: "s-audit",
    };
    const hook = await runCli(["hook"], { env, cwd: sb.project, stdin: JSON.stringify(payload) });
    expect(hook.code).toBe(0);

    // exec: the slot token goes to the child
    const exec = spawnSync(process.execPath, [EXEC, "gh", "pr", "list", `--token=${ARG_SECRET}`], {
      cwd: sb.project,
      env,
      encoding: "utf8",
    });
    expect(exec.status, exec.stderr).toBe(0);

    // credential-process: real STS session keys from moto
    const cp = spawnSync(process.execPath, [DS, "credential-process", "--source-profile", "default"], {
      cwd: sb.project,
      env,
      encoding: "utf8",
    });
    expect(cp.status, cp.stderr).toBe(0);
    const keys = JSON.parse(cp.stdout) as Record<string, string>;

    // mcp: a tool call on an instance holding the slot token
    const p = new RawProxy(sb, "fake", [process.execPath, join(FIXTURES, "fake-server.mjs")], env);
    await p.initialize();
    p.call(1, "echo", { text: "hi", api_key: ARG_SECRET });
    await p.response(1);
    p.child.stdin.end();
    await p.exited();

    // post-tool-use: an agent's tool output holding every one of them, recorded with its text.
    const post = await runCli(["post-tool-use"], {
      env,
      cwd: sb.project,
      stdin: JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_input: { command: "downscope-exec gh pr list; env" },
        tool_response: {
          stdout: `token=${GH_TOKEN}\nmcp=${MCP_TOKEN}\nkey=${keys.SecretAccessKey}\nsession=${keys.SessionToken}\n`,
          stderr: "",
          interrupted: false,
          isImage: false,
        },
        tool_use_id: "toolu_audit",
      }),
    });
    expect(post.code).toBe(0);

    // Every path wrote its line.
    const log = readFileSync(join(sb.env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
    const events = log
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(new Set(events)).toEqual(new Set(["hook", "exec", "credential", "mcp", "tool"]));
    // The captured output is there, masked.
    expect(log).toContain("token=[masked:slot:ro]");

    const secrets = [GH_TOKEN, MCP_TOKEN, ARG_SECRET, keys.SecretAccessKey!, keys.SessionToken!];
    const sources = new Set([awsCreds]);
    const leaks: string[] = [];
    for (const f of filesUnder(sb.root)) {
      if (sources.has(f) || statSync(f).size > 5_000_000) continue;
      const text = readFileSync(f, "latin1");
      for (const s of secrets) if (text.includes(s)) leaks.push(`${f} contains ${s.slice(0, 12)}…`);
    }
    // The credential cache holds the minted AWS keys by design (private 0600 files); exclude only it, and check its mode.
    const cacheLeaks = leaks.filter((l) => l.includes("/.cache/downscope/aws"));
    for (const l of cacheLeaks) {
      const file = l.split(" contains ")[0]!;
      expect(statSync(file).mode & 0o077).toBe(0);
    }
    expect(leaks.filter((l) => !l.includes("/.cache/downscope/aws"))).toEqual([]);
  });

  // Minted credentials (issue 16): the GitHub App's installation token and its
  // private key, the Kubernetes service account token and the user's
  // kubeconfig credential reach no file but their own sources and the private
  // credential cache (0600), and no audit line.
  it("github_app and token_request: minted tokens and the long-lived secrets they are minted with", async () => {
    requireTool("kubectl", "install kubectl");
    const sb = sandbox();
    const keys = appKeys();
    // A plain-http loopback api_url: the one place plain http is accepted.
    const gh = await fakeGithub(sb.root, {
      appId: 9,
      publicKey: keys.publicKey,
      installations: { 5: { contents: "read", metadata: "read" } },
      plain: true,
    });
    const kube = await fakeKube(sb.root);
    try {
      const fakeGh = sb.write("bin/gh", "#!/bin/sh\nexit 0\n");
      chmodSync(fakeGh, 0o755);
      const keyFile = sb.write("home/.config/downscope/app.pem", keys.privatePem, 0o600);
      const kubeconfig = sb.write(
        "home/.kube/config",
        `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "https://127.0.0.1:${kube.port}", certificate-authority: ${kube.caFile}}}]
contexts: [{name: dev-ctx, context: {cluster: dev, user: me}}]
current-context: dev-ctx
users: [{name: me, user: {token: ${USER_TOKEN}}}]
`,
      );
      sb.write(
        "home/.config/downscope/config.yaml",
        `version: 1
services:
  gh:
    binary_path: ${fakeGh}
    downscope_mode: github_app
    app_id: 9
    installation_id: 5
    private_key: { file: ${keyFile} }
    api_url: ${gh.apiUrl}
    permissions: { contents: read, metadata: read }
    repositories: [app]
  kubectl:
    downscope_mode: token_request
    allowed_hosts: [127.0.0.1]
    service_account: team-a/viewer
`,
      );
      const env = { ...sb.env, PATH: TOOL_PATH };
      // Asynchronous: the fakes answer from this process.
      const exec = (args: string[]) => run(process.execPath, [EXEC, ...args], { cwd: sb.project, env });
      const g = await exec(["gh", "pr", "list"]);
      expect(g.code, g.stderr).toBe(0);
      const k = await exec(["kubectl", "get", "--raw", "/api/v1/namespaces/team-a/pods"]);
      expect(k.code, k.stderr).toBe(0);
      const explain = await exec(["--explain", "gh", "pr", "list"]);
      expect(explain.code, explain.stderr).toBe(0);
      expect(gh.mints).toHaveLength(1);
      expect(kube.minted).toHaveLength(1);

      const minted = [gh.mints[0]!.token!, kube.minted[0]!];
      const keyBody = keys.privatePem.split("\n")[5]!;
      const secrets = [...minted, keyBody, USER_TOKEN];
      for (const out of [g.stdout, g.stderr, k.stderr, explain.stdout, explain.stderr])
        for (const t of secrets) expect(out).not.toContain(t);
      const log = readFileSync(join(sb.env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
      expect(log).toContain('"minted":{"kind":"github_app"');
      expect(log).toContain('"minted":{"kind":"token_request"');
      const leaks: string[] = [];
      for (const f of filesUnder(sb.root)) {
        if (f === keyFile || f === kubeconfig) continue;
        const text = readFileSync(f, "latin1");
        for (const t of secrets) if (text.includes(t)) leaks.push(`${f} contains ${t.slice(0, 12)}…`);
      }
      // The credential cache holds the minted tokens by design (private files); nothing else, and never a source secret.
      const cached = (l: string) => /\/\.cache\/downscope\/(github-app|kube-token-request)\//.test(l);
      for (const l of leaks.filter(cached)) {
        expect(minted.some((t) => l.endsWith(`${t.slice(0, 12)}…`))).toBe(true);
        expect(statSync(l.split(" contains ")[0]!).mode & 0o077).toBe(0);
      }
      expect(leaks.filter(cached)).toHaveLength(2);
      expect(leaks.filter((l) => !cached(l))).toEqual([]);
    } finally {
      await gh.close();
      await kube.close();
    }
  });
});
