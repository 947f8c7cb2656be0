/**
 * The decision service's HTTP side and decision thread, for real: a service on
 * a loopback port (src/serve/server.ts with the built dist/serve-worker.cjs),
 * POSTs as Claude Code's http hook sends them.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { proof } from "../../src/serve/identity.js";
import { envHeader } from "../../src/serve/request-env.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import {
  claudePayload,
  HOOK_PATH,
  hookHeaders,
  post,
  testService,
  WORKER,
  writeUserPolicy,
} from "./service-fixture.js";

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

function setup(policy = POLICY): Sandbox {
  const sb = sandbox();
  writeUserPolicy(sb, policy);
  return sb;
}

const decision = (body: string) =>
  body === ""
    ? "none"
    : ((JSON.parse(body) as { hookSpecificOutput: { permissionDecision?: string; permissionDecisionReason?: string } })
        .hookSpecificOutput.permissionDecision ?? "rewrite");
const reason = (body: string) =>
  (JSON.parse(body) as { hookSpecificOutput: { permissionDecisionReason: string } }).hookSpecificOutput
    .permissionDecisionReason;

describe("the service's requests", () => {
  it("answers a hook call as the hook would: deny, rewrite, nothing", async () => {
    const sb = setup();
    const s = await testService(sb);
    const h = hookHeaders(s.key, sb.env);
    const ask = (command: string) => post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command }), h);
    const deny = await ask("gh repo delete o/r");
    expect(deny.status).toBe(200);
    expect(deny.headers["content-type"]).toBe("application/json");
    expect(reason(deny.body)).toContain('denied by rule "repo deletion denied"');
    expect(decision((await ask("gh pr list")).body)).toBe("allow");
    expect((await ask("ls -la")).body).toBe("");
  });

  it.each([
    ["GET", { method: "GET" }, 405],
    ["a Host other than the loopback address (DNS rebinding)", { host: "attacker.example:80" }, 421],
    ["a form's content type (cross-site POST)", { "content-type": "text/plain" }, 415],
    ["no request key", { "x-downscope-key": undefined }, 401],
    ["a wrong request key", { "x-downscope-key": "A".repeat(43) }, 401],
  ])("refuses %s", async (_what, change, status) => {
    const sb = setup();
    const s = await testService(sb);
    const headers = { ...hookHeaders(s.key, sb.env), ...change } as Record<string, string | undefined>;
    if (headers.host !== undefined && headers.host !== "attacker.example:80") delete headers.host;
    const { method, ...rest } = headers;
    const r =
      method === "GET"
        ? await get(s.port, HOOK_PATH)
        : await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh pr merge 1" }), rest);
    expect(r.status).toBe(status);
    expect(r.body).not.toContain("DOWNSCOPE_APPROVAL");
  });

  it("refuses paths it does not serve, and an entry whose event is not the payload's", async () => {
    const sb = setup();
    const s = await testService(sb);
    const h = hookHeaders(s.key, sb.env);
    expect((await post(s.port, "/v1/hook/claude/Nope", "{}", h)).status).toBe(404);
    expect((await post(s.port, "/v1/hook/constructor", "{}", h)).status).toBe(404);
    const r = await post(
      s.port,
      HOOK_PATH,
      claudePayload(sb, "Bash", { command: "gh pr list" }, { hook_event_name: "PostToolUse" }),
      h,
    );
    expect(reason(r.body)).toMatch(/answers PreToolUse, not PostToolUse/);
  });

  it("denies a body over 4 MiB with a reason, and one without an absolute cwd", async () => {
    const sb = setup();
    const s = await testService(sb);
    const h = hookHeaders(s.key, sb.env);
    const big = await post(
      s.port,
      HOOK_PATH,
      claudePayload(sb, "Write", { file_path: join(sb.project, "a"), content: "x".repeat(4 * 1024 * 1024) }),
      h,
    );
    expect(reason(big.body)).toMatch(/larger than 4194304 bytes/);
    const rel = await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "ls" }, { cwd: "project" }), h);
    expect(reason(rel.body)).toMatch(/names no absolute cwd/);
  });

  it("denies a session variable sent twice", async () => {
    const sb = setup();
    const s = await testService(sb);
    const r = await rawPost(
      s.port,
      `${envHeader("HOME")}: /a\r\n${envHeader("HOME")}: /b\r\nx-downscope-key: ${s.key}\r\n`,
      claudePayload(sb, "Bash", { command: "gh pr list" }),
    );
    expect(r).toMatch(/sent more than once/);
  });

  it("proves its identity with the identity key, to anyone, without the request key", async () => {
    const sb = setup();
    const s = await testService(sb);
    const challenge = "c".repeat(32);
    const r = await post(s.port, "/v1/identity", JSON.stringify({ challenge }), {});
    expect(r.status).toBe(200);
    const a = JSON.parse(r.body) as { proof: string; pid: number };
    expect(a.proof).toBe(proof(s.identityKey, challenge));
    expect(a.pid).toBe(process.pid);
    expect(r.body).not.toContain(s.key);
    expect((await post(s.port, "/v1/identity", JSON.stringify({ challenge: "short" }), {})).status).toBe(400);
  });
});

describe("no decision is stale", () => {
  it("a changed user config, managed config, project policy, trust pin and contained state apply to the very next call", async () => {
    const sb = setup();
    const s = await testService(sb);
    const h = hookHeaders(s.key, sb.env);
    const ask = async (command: string) =>
      (await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command }), h)).body;
    expect(decision(await ask("gh issue list"))).toBe("allow");
    // The user config, edited (within the filesystem's timestamp granularity of the call before).
    writeUserPolicy(sb, POLICY + "      - { name: no issues, match: { command: [issue] }, action: deny }\n");
    expect(reason(await ask("gh issue list"))).toContain('"no issues"');
    // The managed layer.
    sb.write(
      "etc/downscope/config.yaml",
      "version: 1\nservices:\n  gh:\n    rules:\n      - { name: managed says no, match: { command: [pr, list] }, action: deny }\n",
    );
    expect(reason(await ask("gh pr list"))).toContain('"managed says no"');
    // A project policy appears: untrusted, it can restrict.
    sb.write(
      "project/.claude/downscoping.yaml",
      "version: 1\nservices:\n  gh:\n    rules:\n      - { name: project says no, match: { command: [pr, view] }, action: deny }\n",
    );
    expect(reason(await ask("gh pr view 1"))).toContain('"project says no"');
    // Contained mode switched on: the next service call is rewritten for the sandbox.
    sb.write(
      "home/.local/state/downscope/contained/state.json",
      JSON.stringify({
        version: 1,
        settingsFile: join(sb.home, ".claude/settings.json"),
        exec: "/usr/bin/node /opt/ds/bin/downscope-exec.js",
        denyRules: [],
      }),
      0o600,
    );
    const contained = await ask("gh release list");
    expect(contained).toContain("/usr/bin/node /opt/ds/bin/downscope-exec.js gh release list");
  });

  it("a trust pin given by the user turns the project policy's grants on, and its removal off, at the next call", async () => {
    const { runCli } = await import("../helpers/run-cli.js");
    const sb = sandbox();
    sb.write("etc/downscope/config.yaml", "version: 1\nsettings: { admin_without_terminal: true }\nservices: {}\n");
    sb.write(
      "project/.claude/downscoping.yaml",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: GH_RO, inject_as: GH_TOKEN } }\n    default_slot: ro\n    rules: []\n",
    );
    const s = await testService(sb);
    const ask = async () =>
      (await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh pr list" }), hookHeaders(s.key, sb.env)))
        .body;
    // Untrusted: rewritten to downscope-exec (which refuses the slot), never auto-approved.
    expect(decision(await ask())).toBe("rewrite");
    expect((await runCli(["trust"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    expect(decision(await ask())).toBe("allow");
    expect((await runCli(["untrust"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    expect(decision(await ask())).toBe("rewrite");
  });
});

describe("the decision thread", () => {
  it("a decision that never ends costs that call a deny at the deadline; the next call is decided", async () => {
    // A regex with catastrophic backtracking in the user's own policy, and a command made for it.
    const sb = setup(POLICY + "      - { name: slow, match: { args_pattern: '^issue (a+)+$' }, action: deny }\n");
    const s = await testService(sb);
    const h = { ...hookHeaders(s.key, sb.env), [envHeader("DOWNSCOPE_HOOK_DEADLINE_MS")]: "500" };
    const started = Date.now();
    const slow = await post(
      s.port,
      HOOK_PATH,
      claudePayload(sb, "Bash", { command: `gh issue ${"a".repeat(40)}!` }),
      h,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reason(slow.body)).toMatch(/did not finish within 500 ms/);
    const next = await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh repo delete o/r" }), h);
    expect(reason(next.body)).toContain('"repo deletion denied"');
    expect(s.log.join("\n")).toMatch(/past its 500 ms deadline/);
  });

  it("a thread that dies is replaced; a call it dies on twice is denied", async () => {
    const sb = setup();
    const dir = join(sb.root, "worker");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "dies.cjs"),
      "require('node:worker_threads').parentPort.on('message', (m) => { if (!m.warm) process.exit(3); });",
    );
    const s = await testService(sb, { workerFile: join(dir, "dies.cjs") });
    const r = await post(
      s.port,
      HOOK_PATH,
      claudePayload(sb, "Bash", { command: "gh pr list" }),
      hookHeaders(s.key, sb.env),
    );
    expect(reason(r.body)).toMatch(/stopped twice/);
  });

  it("an idle thread is ended and a new one answers the next call", async () => {
    const sb = setup();
    const s = await testService(sb, { idleMs: 100 });
    const h = hookHeaders(s.key, sb.env);
    const ask = async () =>
      (await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh repo delete x" }), h)).body;
    expect(decision(await ask())).toBe("deny");
    await new Promise((r) => setTimeout(r, 400));
    expect(decision(await ask())).toBe("deny");
  });

  it("a new build of the decision code on disk is used from the next call", async () => {
    const sb = setup();
    // The decision bundles, with serve-worker.cjs a copy that can be rewritten as an upgrade would.
    const dist = join(WORKER, "..");
    const dir = join(sb.root, "dist");
    mkdirSync(dir);
    for (const f of readdirSync(dist))
      if (f.endsWith(".cjs") && f !== "serve-worker.cjs") symlinkSync(join(dist, f), join(dir, f));
    copyFileSync(WORKER, join(dir, "serve-worker.cjs"));
    const s = await testService(sb, { workerFile: join(dir, "serve-worker.cjs") });
    const h = hookHeaders(s.key, sb.env);
    const ask = async () =>
      (await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh repo delete x" }), h)).body;
    expect(decision(await ask())).toBe("deny");
    writeFileSync(join(dir, "serve-worker.cjs"), readFileSync(WORKER, "utf8") + "\n// upgraded\n");
    expect(decision(await ask())).toBe("deny");
    expect(s.log.join("\n")).toMatch(/changed \(downscope was updated\): a new decision thread/);
  });
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return import("node:http").then(
    ({ request }) =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      }),
  );
}

/** A request written by hand (headers a client library would merge). */
function rawPost(port: number, headers: string, body: string): Promise<string> {
  return import("node:net").then(
    ({ connect }) =>
      new Promise((resolve, reject) => {
        const c = connect(port, "127.0.0.1", () =>
          c.write(
            `POST ${HOOK_PATH} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
          ),
        );
        let out = "";
        c.on("data", (d: Buffer) => (out += d.toString()));
        c.on("end", () => resolve(out));
        c.on("error", reject);
      }),
  );
}
