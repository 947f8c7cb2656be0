// Real spawns of the built downscope-exec (npm test builds first) with fake
// CLIs that record their argv and environment.
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createApproval } from "../../src/approval/approval.js";
import { EXEC_BIN, execSandbox, parseEnv, run, runExec, waitFor, type ExecSandbox } from "./helpers.js";

const TOKEN = "fake-gh-token-ro-123";
const OTHER = "fake-gh-token-rw-456";

function setup(tail = ""): { sb: ExecSandbox; gh: string; env: Record<string, string> } {
  const sb = execSandbox();
  const gh = sb.fake("gh", tail);
  sb.userConfig(`
version: 1
services:
  gh:
    binary_path: ${gh}
    token_slots:
      ro: { env_var: GH_RO_SRC }
      rw: { env_var: GH_RW_SRC }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: not permitted for AI use }
`);
  return { sb, gh, env: { ...sb.env, GH_RO_SRC: TOKEN, GH_RW_SRC: OTHER, GITHUB_TOKEN: "fake-ambient-token" } };
}

/** The user config of setup(), with `gh pr merge` sent to review. */
const reviewMerge = (gh: string) => `
version: 1
services:
  gh:
    binary_path: ${gh}
    token_slots: { ro: { env_var: GH_RO_SRC } }
    default_slot: ro
    rules: [ { name: pr merge needs a human, match: { command: [pr, merge] }, action: review } ]
`;

const runDirs = (sb: ExecSandbox) => {
  const root = join(sb.runtime, "downscope");
  return existsSync(root) ? readdirSync(root).filter((n) => n.startsWith("run-")) : [];
};

describe("downscope-exec (built) with a fake gh", () => {
  it("runs the real binary with the exact argv and only the scoped token", async () => {
    const { sb, gh, env } = setup();
    const r = await runExec(["gh", "pr", "list", "--state", "open", "a b"], { env, cwd: sb.project });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(`${gh}.rec.argv`, "utf8")).toBe("pr\nlist\n--state\nopen\na b\n");
    const childEnv = parseEnv(readFileSync(`${gh}.rec.env`, "utf8"));
    expect(childEnv.GH_TOKEN).toBe(TOKEN);
    expect(Object.values(childEnv).filter((v) => v.includes(OTHER) || v.includes("fake-ambient-token"))).toEqual([]);
    expect(runDirs(sb)).toEqual([]);
  });

  it("deny: exit 77, message names rule, service and reason; the binary never starts", async () => {
    const { sb, gh, env } = setup();
    const r = await runExec(["--", "gh", "repo", "delete", "x", "--yes"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toBe(
      'downscope: denied by rule "repo deletion denied" (gh, user config): not permitted for AI use\n',
    );
    expect(existsSync(`${gh}.rec.argv`)).toBe(false);
  });

  it("passes on the child's exit code", async () => {
    const { sb, env } = setup("exit 3");
    expect((await runExec(["gh", "x"], { env, cwd: sb.project })).code).toBe(3);
  });

  // The record is prepared while the command runs and appended when it ends:
  // its time is the start, with the exit status, the duration and the output.
  it("records the run in the audit log: start time, exit status, duration", async () => {
    const { sb, env } = setup("sleep 0.3; exit 3");
    const before = Date.now();
    const r = await runExec(["gh", "x"], { env, cwd: sb.project });
    const after = Date.now();
    expect(r.code).toBe(3);
    const log = join(env.XDG_STATE_HOME!, "downscope/audit.jsonl");
    const rec = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === "exec")!;
    expect(rec).toMatchObject({ service: "gh", action: "allow", argv: ["gh", "x"], exit: 3 });
    const start = Date.parse(rec.time as string);
    expect(start).toBeGreaterThanOrEqual(before - 1000);
    expect(after - start).toBeGreaterThanOrEqual(300);
    expect(rec.duration_ms).toBeGreaterThanOrEqual(300);
    expect(Object.keys(rec).slice(-6)).toEqual(["exit", "duration_ms", "output", "pid", "prev", "mac"]);
  });

  it("a child killed by SIGTERM: the caller sees the signal (143 in a shell)", async () => {
    const { sb, env } = setup("kill -TERM $$");
    const direct = await runExec(["gh", "x"], { env, cwd: sb.project });
    expect(direct.signal).toBe("SIGTERM");
    const viaShell = await run("/bin/bash", ["-c", `"${process.execPath}" "${EXEC_BIN}" gh x; echo "status=$?"`], {
      env,
      cwd: sb.project,
    });
    expect(viaShell.stdout).toBe("status=143\n");
    expect(runDirs(sb)).toEqual([]);
  });

  it("forwards SIGTERM to the child and exits with its status; temp files removed", async () => {
    const { sb, gh, env } = setup(
      `trap 'echo got-term > "${"$0"}.rec.sig"; exit 42' TERM\necho $$ > "$0.rec.pid"\nwhile :; do sleep 0.05; done`,
    );
    let pid = 0;
    const p = runExec(["gh", "x"], { env, cwd: sb.project, onSpawn: (n) => (pid = n) });
    await waitFor(() => (existsSync(`${gh}.rec.pid`) ? true : undefined), "the child to start");
    expect(runDirs(sb)).toHaveLength(1);
    process.kill(pid, "SIGTERM");
    const r = await p;
    expect(r.code).toBe(42);
    expect(readFileSync(`${gh}.rec.sig`, "utf8")).toBe("got-term\n");
    expect(runDirs(sb)).toEqual([]);
  });

  it("the wrapper killed while the child runs: child dies of the forwarded signal, temp files removed", async () => {
    const { sb, gh, env } = setup(`echo $$ > "$0.rec.pid"\nexec sleep 30`);
    let pid = 0;
    const p = runExec(["gh", "x"], { env, cwd: sb.project, onSpawn: (n) => (pid = n) });
    await waitFor(() => (existsSync(`${gh}.rec.pid`) ? true : undefined), "the child to start");
    process.kill(pid, "SIGHUP");
    const r = await p;
    expect(r.signal).toBe("SIGHUP");
    expect(runDirs(sb)).toEqual([]);
  });

  it("removes temp files when planning fails after they were created", async () => {
    const { sb, env } = setup();
    const r = await runExec(["gh", "api", "--hostname", "evil.example.com", "/user"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/names host evil.example.com/);
    expect(runDirs(sb)).toEqual([]);
  });

  it("sweeps run dirs left by crashed runs (dead pid) and keeps live ones", async () => {
    const { sb, env } = setup();
    const root = join(sb.runtime, "downscope");
    mkdirSync(join(root, "run-999999-dead"), { recursive: true, mode: 0o700 });
    mkdirSync(join(root, `run-${process.pid}-live`), { mode: 0o700 });
    expect((await runExec(["gh", "x"], { env, cwd: sb.project })).code).toBe(0);
    expect(runDirs(sb)).toEqual([`run-${process.pid}-live`]);
  });

  // The token must not be visible to other processes through their command
  // lines (ps). Proves: while the child runs, no /proc/*/cmdline holds it,
  // although the child's own environment does (so the probe can see processes).
  it("no process command line contains the token while the child runs", async () => {
    const { sb, gh, env } = setup(`echo $$ > "$0.rec.pid"\nexec sleep 30`);
    let pid = 0;
    const p = runExec(["gh", "x"], { env, cwd: sb.project, onSpawn: (n) => (pid = n) });
    const childPid = await waitFor(() => {
      try {
        const t = readFileSync(`${gh}.rec.pid`, "utf8").trim();
        return t === "" ? undefined : t;
      } catch {
        return undefined;
      }
    }, "the child to start");
    await waitFor(
      () => (readFileSync(`/proc/${childPid}/cmdline`, "utf8").includes("sleep") ? true : undefined),
      "exec sleep",
    );
    expect(readFileSync(`/proc/${childPid}/environ`, "utf8").split("\0")).toContain(`GH_TOKEN=${TOKEN}`);
    const holders: string[] = [];
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(TOKEN)) holders.push(d);
      } catch {
        /* process gone */
      }
    }
    expect(holders).toEqual([]);
    process.kill(pid, "SIGTERM");
    await p;
  });

  it("--explain prints the plan with secret values redacted and runs nothing", async () => {
    const { sb, gh, env } = setup();
    const r = await runExec(["--explain", "gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("GH_TOKEN=<redacted>");
    expect(r.stdout).toContain("env del:  GITHUB_TOKEN");
    expect(r.stdout).toContain(`binary:   ${gh} (binary_path)`);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(existsSync(`${gh}.rec.argv`)).toBe(false);
    expect(runDirs(sb)).toEqual([]);
  });

  it("a loop (binary_path pointing back at a shim) ends in an error, never a run", async () => {
    const { sb, env } = setup();
    sb.userConfig(`
version: 1
services:
  gh:
    binary_path: ${join(EXEC_BIN, "../../shims/gh")}
    token_slots: { ro: { file: ${sb.write("token", TOKEN)} } }
    default_slot: ro
`);
    const r = await runExec(["gh", "x"], { env, cwd: sb.project });
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(/looks like a loop/);
  });

  it("a broken policy denies with exit 78 and file:line:col", async () => {
    const { sb, gh, env } = setup();
    const file = sb.userConfig("version: 1\nservices:\n  gh:\n    default_action: maybe\n");
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("downscope: denied: the policy cannot be loaded, so nothing runs:");
    expect(r.stderr).toMatch(new RegExp(`${file}:4:\\d+: services.gh.default_action: `));
    expect(existsSync(`${gh}.rec.argv`)).toBe(false);
  });

  it("review without an approval: exit 77, tells the human to run it", async () => {
    const { sb, gh, env } = setup();
    sb.userConfig(reviewMerge(gh));
    const r = await runExec(["gh", "pr", "merge", "1"], {
      env: { ...env, DOWNSCOPE_APPROVAL: "forged-nonce-aaaaaaaaaaaaaaaa" },
      cwd: sb.project,
    });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(
      /review required by rule "pr merge needs a human".*unknown or was already used.*run it in their own terminal/,
    );
    expect(existsSync(`${gh}.rec.argv`)).toBe(false);
  });

  it("review with the hook's approval runs once, without DOWNSCOPE_APPROVAL in the child", async () => {
    const { sb, gh, env } = setup();
    sb.userConfig(reviewMerge(gh));
    const nonce = createApproval("gh", ["pr", "merge", "1"], sb.env);
    const approved = { ...env, DOWNSCOPE_APPROVAL: nonce };
    const r = await runExec(["gh", "pr", "merge", "1"], { env: approved, cwd: sb.project });
    expect(r.code).toBe(0);
    const childEnv = parseEnv(readFileSync(`${gh}.rec.env`, "utf8"));
    expect(childEnv.GH_TOKEN).toBe(TOKEN);
    expect(childEnv.DOWNSCOPE_APPROVAL).toBeUndefined();
    expect((await runExec(["gh", "pr", "merge", "1"], { env: approved, cwd: sb.project })).code).toBe(77);
  });

  it("usage errors", async () => {
    const { sb, env } = setup();
    const r = await runExec([], { env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/usage: downscope-exec/);
  });
});
