/**
 * The decision service (`install claude --serve`) with the real Claude Code
 * CLI, offline: its http hook decides every call, a session is never stuck
 * when the service is killed, several sessions and projects share one
 * service without mixing, and a contained (sandboxed) agent can neither
 * reach the service's port nor signal it.
 *
 * Kill tests, each in one session:
 *  - the service killed (SIGKILL) between two tool calls: the keeper holds
 *    the socket and starts it again, so the very next call is decided
 *    correctly — no call is blocked;
 *  - the keeper and the service killed together: the next call is blocked
 *    (Claude Code: onFailure "block"), the async ensure hook beside it starts
 *    the service again, and the call after is decided correctly. Between the
 *    two the scripted model waits as a model does (it polls, up to 10 s, for
 *    the service to be back; the test never starts it).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveHooks } from "../../src/serve/claude-hooks.js";
import { ensureServeConfig } from "../../src/serve/config.js";
import { runCli } from "../helpers/run-cli.js";
import { ensureClaude } from "./claude-cli.js";
import { runClaudeSandboxed, type SandboxRun } from "./sandbox-claude.js";

const ROOT = join(import.meta.dirname, "..", "..");

const POLICY = (gh: string, slot: string) => `version: 1
services:
  gh:
    binary_path: ${gh}
    token_slots:
      ro: ${slot}
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: deleting repositories is not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

let claude = "";
beforeAll(() => {
  if (!existsSync(join(ROOT, "dist", "serve.cjs"))) throw new Error("dist/ is missing: run `npm run build` first");
  claude = ensureClaude();
});

const runs: SandboxRun[] = [];
const envs: Record<string, string>[] = [];
afterAll(async () => {
  // Stop every service these tests started (they are detached from the test process).
  for (const env of envs) await runCli(["serve", "--stop"], { env, cwd: "/" });
  for (const r of runs) r.cleanup();
});

function treeEnv(root: string, home: string): Record<string, string> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local/state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    DOWNSCOPE_MANAGED_CONFIG: join(root, "etc/downscope/config.yaml"),
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
  };
}

function fakeGh(root: string, project: string): string {
  const gh = join(root, "bin", "gh");
  writeFileSync(
    gh,
    `#!/bin/sh\necho "gh $* token=$GH_TOKEN" >> '${join(project, ".gh-calls.log")}'\necho fake-gh-output\n`,
  );
  chmodSync(gh, 0o755);
  return gh;
}

const servicePid = (env: Record<string, string>) =>
  runCli(["serve", "--status"], { env, cwd: "/" }).then((r) => Number(/pid (\d+)/.exec(r.stdout)?.[1]));
const keeperPid = (home: string) =>
  Number(readFileSync(join(home, ".local/state/downscope/serve/serve.pid"), "utf8").split(" ")[0]);

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (await what()) return true;
  return false;
}

describe("install claude --serve, with the real Claude Code CLI", () => {
  it("decides through the service; a killed service decides the next call; a killed keeper blocks one call only", async () => {
    let env: Record<string, string> = {};
    let home = "";
    const pids: number[] = [];
    const run = await runClaudeSandboxed({
      claude,
      env: { GH_TOKEN_RO: "fake-ro-token-42" },
      commands: [
        "gh pr list --limit 3",
        "gh repo delete o/r --yes",
        "gh repo delete o/r --yes", // after the service is killed
        "echo found-the-port-closed", // after the keeper and the service are killed
        "gh repo delete o/r --yes", // once the ensure hook has started it again
        "gh pr list",
      ],
      setup: async ({ root, home: h, project }) => {
        home = h;
        env = treeEnv(root, h);
        envs.push(env);
        mkdirSync(join(root, "bin"), { recursive: true });
        mkdirSync(join(h, ".config/downscope"), { recursive: true });
        writeFileSync(
          join(h, ".config/downscope/config.yaml"),
          POLICY(fakeGh(root, project), "{ env_var: GH_TOKEN_RO, inject_as: GH_TOKEN }"),
        );
        const r = await runCli(["install", "claude", "--serve"], { env, cwd: project });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/decision service: running on 127\.0\.0\.1:\d+/);
        pids.push(await servicePid(env));
      },
      beforeStep: async (k) => {
        if (k === 2) {
          // The service alone: its keeper restarts it, holding the socket meanwhile.
          process.kill(await servicePid(env), "SIGKILL");
        }
        if (k === 3) {
          pids.push(await servicePid(env));
          // Keeper and service: the port is closed until the ensure hook starts them again.
          process.kill(-keeperPid(home), "SIGKILL");
          await until(async () => (await runCli(["serve", "--status"], { env, cwd: "/" })).code !== 0, 5000);
        }
        if (k === 4) {
          // A model takes a while to answer; the service must come back without the test's help.
          expect(
            await until(async () => (await runCli(["serve", "--status"], { env, cwd: "/" })).code === 0, 10_000),
          ).toBe(true);
          pids.push(await servicePid(env));
        }
      },
    });
    runs.push(run);
    expect(run.code, run.stderr).toBe(0);
    const settings = readFileSync(join(run.home, ".claude/settings.json"), "utf8");
    const pre = (JSON.parse(settings) as { hooks: { PreToolUse: { hooks: Record<string, unknown>[] }[] } }).hooks
      .PreToolUse[0]!.hooks;
    expect(pre[0]).toMatchObject({ type: "http", onFailure: "block" });
    expect(pre[1]).toMatchObject({ type: "command", async: true });
    expect(statSync(join(run.home, ".claude/settings.json")).mode & 0o777).toBe(0o600);
    const [r0, r1, r2, r3, r4, r5] = run.results;
    expect(r0!.text).toContain("fake-gh-output");
    expect(r1!.text).toContain('denied by rule "repo deletion denied"');
    // Killed service: the next call was decided correctly.
    expect(r2!.text).toContain('denied by rule "repo deletion denied"');
    // Killed keeper and service: this one call is blocked (fail closed) …
    expect(r3!.isError).toBe(true);
    expect(r3!.text).toMatch(/blocking because onFailure is "block"/);
    expect(r3!.text).not.toContain("found-the-port-closed");
    // … and the next ones are decided again.
    expect(r4!.text).toContain('denied by rule "repo deletion denied"');
    expect(r5!.text).toContain("fake-gh-output");
    const calls = readFileSync(join(run.project, ".gh-calls.log"), "utf8").trim().split("\n");
    expect(calls).toEqual(["gh pr list --limit 3 token=fake-ro-token-42", "gh pr list token=fake-ro-token-42"]);
    // Three different services answered: the first, the keeper's restart, the ensure hook's start.
    expect(new Set(pids).size).toBe(3);
    const audit = readFileSync(join(run.home, ".local/state/downscope/audit.jsonl"), "utf8");
    expect(audit.match(/"event":"hook"/g)?.length).toBeGreaterThanOrEqual(5);
  }, 240_000);

  it("several sessions in several projects share one service, each decided with its own project", async () => {
    let env: Record<string, string> = {};
    const a = await runClaudeSandboxed({
      claude,
      commands: ["true"],
      env: { GH_TOKEN_RO: "fake-ro-token-42" },
      setup: async ({ root, home, project }) => {
        env = treeEnv(root, home);
        envs.push(env);
        mkdirSync(join(root, "bin"), { recursive: true });
        mkdirSync(join(home, ".config/downscope"), { recursive: true });
        writeFileSync(
          join(home, ".config/downscope/config.yaml"),
          POLICY(fakeGh(root, project), "{ env_var: GH_TOKEN_RO, inject_as: GH_TOKEN }"),
        );
        expect((await runCli(["install", "claude", "--serve"], { env, cwd: project })).code).toBe(0);
      },
    });
    runs.push(a);
    // Two more sessions at once, in two projects, with the first one's home (one user, one service).
    const session = (extra: string) =>
      runClaudeSandboxed({
        claude,
        commands: ["gh issue list", "gh pr list"],
        env: { ...env, GH_TOKEN_RO: "fake-ro-token-42" },
        setup: ({ project }) => {
          mkdirSync(join(project, ".claude"), { recursive: true });
          // An untrusted project policy may add restrictions: this one denies issue listing in its project only.
          if (extra !== "")
            writeFileSync(
              join(project, ".claude/downscoping.yaml"),
              `version: 1\nservices:\n  gh:\n    rules:\n      - { name: ${extra}, match: { command: [issue, list] }, action: deny }\n`,
            );
        },
      });
    const [strict, plain] = await Promise.all([session("no issues here"), session("")]);
    runs.push(strict, plain);
    expect(strict.results[0]!.text).toContain('denied by rule "no issues here"');
    expect(strict.results[1]!.text).toContain("fake-gh-output");
    expect(plain.results[0]!.text).toContain("fake-gh-output");
    expect(plain.results[1]!.text).toContain("fake-gh-output");
    const pid = await servicePid(env);
    const records = readFileSync(join(env.HOME!, ".local/state/downscope/audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; cwd?: string; pid?: number; action?: string });
    const hooks = records.filter((r) => r.event === "hook");
    // Every decision of both sessions came from the one service, in its own project.
    expect(new Set(hooks.map((r) => r.pid))).toEqual(new Set([pid]));
    expect(hooks.filter((r) => r.cwd === strict.project).map((r) => r.action)).toEqual(["deny", "allow"]);
    expect(hooks.filter((r) => r.cwd === plain.project).map((r) => r.action)).toEqual(["allow", "allow"]);
  }, 240_000);

  it("contained: a sandboxed agent can neither reach a running service's port nor signal it or its keeper", async () => {
    requireSandboxTools();
    let env: Record<string, string> = {};
    let home = "";
    let before: number[] = [];
    const port = "P=$(cat .serve-port); ";
    const post = (via: string) =>
      `${port}curl -s -m 3 ${via} -o /dev/null -w 'http=%{http_code}' -X POST -H 'content-type: application/json' -d '{"challenge":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}' http://127.0.0.1:$P/v1/identity; echo " exit=$?"`;
    const run = await runClaudeSandboxed({
      claude,
      timeoutMs: 200_000,
      commands: [
        post(""),
        post("--noproxy '*'"),
        post('-x "$HTTP_PROXY"'),
        `${port}curl -s -m 3 -o /dev/null -w 'http=%{http_code}' http://localhost:$P/v1/identity; echo " exit=$?"`,
        "python3 -c \"import socket; s=socket.socket(); s.settimeout(3); print('connect', s.connect_ex(('127.0.0.1', int(open('.serve-port').read()))))\"",
        // Signals only from inside the sandbox: were the sandbox ever off, these steps do nothing.
        `${SANDBOXED}for p in $(cat .serve-pids); do kill -9 $p; echo "kill $p exit=$?"; done`,
        `${SANDBOXED}pkill -9 -f 'serve-[k]eeper'; echo keeper=$?; pkill -9 -f 'ownscope-[s]erve'; echo service=$?`,
        "gh pr list --limit 1",
      ],
      setup: async ({ root, home: h, project }) => {
        home = h;
        env = treeEnv(root, h);
        envs.push(env);
        mkdirSync(join(root, "bin"), { recursive: true });
        mkdirSync(join(h, ".config/downscope"), { recursive: true });
        writeFileSync(
          join(h, ".config/downscope/config.yaml"),
          POLICY(fakeGh(root, project), "{ file: ~/.config/downscope/slots/ro, inject_as: GH_TOKEN }"),
        );
        expect((await runCli(["slot", "set", "ro"], { env, cwd: project, secret: "fake-slot-token-7" })).code).toBe(0);
        const r = await runCli(["install", "claude", "--contain"], { env, cwd: project });
        expect(r.code, r.stderr).toBe(0);
        // A service of this user runs beside the contained session (set up before, or started by hand).
        const config = await ensureServeConfig(env, () => Promise.resolve(freePort()));
        expect((await runCli(["serve", "--ensure"], { env, cwd: "/" })).code).toBe(0);
        writeFileSync(join(project, ".serve-port"), String(config.port));
        before = [keeperPid(h), await servicePid(env)];
        writeFileSync(join(project, ".serve-pids"), before.join(" "));
      },
    });
    runs.push(run);
    expect(run.code, run.stderr).toBe(0);
    const t = run.toolResults;
    if (process.env.DOWNSCOPE_E2E_DUMP) writeFileSync(process.env.DOWNSCOPE_E2E_DUMP, t.join("\n---\n"));
    // No way to the host's loopback: not directly, not through the sandbox's proxy, not by name.
    for (const out of t.slice(0, 4)) expect(out).toMatch(/http=(000|403)/);
    expect(t[0]).toMatch(/http=(000|403) exit=/);
    expect(t[4]).toMatch(/connect (111|101|113|110)/);
    // No way to signal the keeper or the service: they are not in the sandbox's process namespace.
    expect(t[5]).toMatch(/No such process/);
    expect(t[6]).toContain("keeper=1\nservice=1"); // pkill: no process matched
    // Both are the same processes as before the session, and still answer.
    expect([keeperPid(home), await servicePid(env)]).toEqual(before);
    // The session's own calls were decided by the process hook and still work.
    expect(t[7]).toContain("fake-gh-output");
    expect(readFileSync(join(run.project, ".gh-calls.log"), "utf8")).toContain("token=fake-slot-token-7");
  }, 300_000);

  it("why contained mode keeps the process hook: with the sandbox on, Claude Code sends http hooks through the sandbox proxy, which refuses loopback", async () => {
    requireSandboxTools();
    let env: Record<string, string> = {};
    const run = await runClaudeSandboxed({
      claude,
      commands: ["echo reached"],
      setup: async ({ root, home: h, project }) => {
        env = treeEnv(root, h);
        envs.push(env);
        mkdirSync(join(h, ".config/downscope"), { recursive: true });
        writeFileSync(join(h, ".config/downscope/config.yaml"), "version: 1\nservices: {}\n");
        expect((await runCli(["install", "claude", "--contain", "--serve"], { env, cwd: project })).stderr).toMatch(
          /--serve and --contain do not go together/,
        );
        expect((await runCli(["install", "claude", "--contain"], { env, cwd: project })).code).toBe(0);
        // By hand, what --serve would write, into the contained settings.
        const config = await ensureServeConfig(env, () => Promise.resolve(freePort()));
        expect((await runCli(["serve", "--ensure"], { env, cwd: "/" })).code).toBe(0);
        const file = join(h, ".claude/settings.json");
        const settings = JSON.parse(readFileSync(file, "utf8")) as { hooks: { PreToolUse: { hooks: unknown[] }[] } };
        settings.hooks.PreToolUse[0]!.hooks = serveHooks(config, { node: process.execPath, root: ROOT });
        writeFileSync(file, JSON.stringify(settings));
      },
    });
    runs.push(run);
    expect(run.results[0]!.isError).toBe(true);
    expect(run.results[0]!.text).toMatch(/HTTP 403/);
    expect(run.results[0]!.text).not.toContain("reached");
  }, 120_000);
});

/** A prefix that stops a step unless it runs in Claude Code's sandbox (sandbox-runtime sets SANDBOX_RUNTIME=1). */
const SANDBOXED = '[ "$SANDBOX_RUNTIME" = 1 ] || { echo NOT-SANDBOXED; exit 1; }; ';

function requireSandboxTools(): void {
  const bwrap = spawnSync("bwrap", [
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--unshare-pid",
    "--proc",
    "/proc",
    "true",
  ]);
  if (bwrap.status !== 0 || spawnSync("socat", ["-V"]).status !== 0)
    throw new Error("bubblewrap or socat cannot run here: install them (apt install bubblewrap socat)");
}

/** A port for the service that nothing else listens on, below the ephemeral range. */
function freePort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (spawnSync("sh", ["-c", `ss -ltn | grep -q ':${port} '`]).status !== 0) return port;
  }
}
