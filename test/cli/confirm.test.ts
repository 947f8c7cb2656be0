/**
 * Bypass: the agent runs `downscope trust` (or install/uninstall/init) itself
 * from a script the hook does not see; with no terminal and CLAUDECODE=1 it
 * used to exit 0 and pin the file (issue 13). Fix: these commands show the
 * change on the controlling terminal and go ahead only on a typed `yes`; with
 * no terminal they refuse in one line and change nothing; `--yes` and a piped
 * `yes` on stdin do not count. Proves: each refusal leaves the trust store and
 * settings untouched, the diff shown is against the last trusted version, and
 * a real pty (python's pty) is what confirms.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { runWithTty } from "../helpers/with-tty.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "downscope.js");
const POLICY =
  "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no deletes, match: { command: [repo, delete] }, action: deny }\n";
const WIDER = POLICY.replace("action: deny", "action: allow");

function project(): Sandbox & { policy: string; store: string } {
  const sb = sandbox();
  const policy = sb.write("project/.claude/downscoping.yaml", POLICY);
  return Object.assign(sb, { policy, store: join(sb.home, ".local/state/downscope/trusted.json") });
}

const storeOf = (sb: { store: string }) => (existsSync(sb.store) ? readFileSync(sb.store, "utf8") : "(none)");

describe("confirmation at the terminal", () => {
  it("trust with no terminal refuses, changes nothing, and --yes does not help", async () => {
    const sb = project();
    for (const argv of [["trust"], ["trust", "--yes"], ["trust", "-y"]]) {
      const r = await runCli(argv, { env: { ...sb.env, CLAUDECODE: "1" }, cwd: sb.project, answer: null });
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(
        /a person must confirm it at a terminal, and this process has none; nothing was changed/,
      );
      expect(
        r.stderr
          .trim()
          .split("\n")
          .filter((l) => !l.includes("--yes does not skip")),
      ).toHaveLength(1);
      expect(storeOf(sb)).toBe("(none)");
    }
  });

  it("any answer but yes refuses", async () => {
    const sb = project();
    for (const answer of ["no", "y", "YES please", ""]) {
      const r = await runCli(["trust"], { env: sb.env, cwd: sb.project, answer });
      expect([answer, r.code]).toEqual([answer, 77]);
      expect(storeOf(sb)).toBe("(none)");
    }
  });

  it("the first trust shows the whole file; the next shows the diff against the trusted version", async () => {
    const sb = project();
    const first = await runCli(["trust"], { env: sb.env, cwd: sb.project });
    expect(first.code).toBe(0);
    expect(first.prompts[0]).toContain("has not been trusted before");
    expect(first.prompts[0]).toContain(POLICY);
    sb.write(sb.policy, WIDER);
    const second = await runCli(["trust"], { env: sb.env, cwd: sb.project });
    expect(second.code).toBe(0);
    expect(second.prompts[0]).toContain("since you last trusted it");
    expect(second.prompts[0]).toMatch(/^-.*action: deny/m);
    expect(second.prompts[0]).toMatch(/^\+.*action: allow/m);
    expect(second.prompts[0]).not.toContain("has not been trusted before");
    // Unchanged: nothing to confirm.
    const third = await runCli(["trust"], { env: sb.env, cwd: sb.project, answer: null });
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/already trusted/);
  });

  it("install and uninstall claude show the settings diff and refuse without a terminal", async () => {
    const sb = project();
    const settings = join(sb.project, ".claude/settings.json");
    const refused = await runCli(["install", "claude", "--scope", "project"], {
      env: sb.env,
      cwd: sb.project,
      answer: null,
    });
    expect(refused.code).toBe(77);
    expect(existsSync(settings)).toBe(false);
    const done = await runCli(["install", "claude", "--scope", "project"], { env: sb.env, cwd: sb.project });
    expect(done.code).toBe(0);
    expect(done.prompts[0]).toMatch(/^\+.*downscope\.js'? hook/m);
    const before = readFileSync(settings, "utf8");
    const un = await runCli(["uninstall", "claude", "--scope", "project"], {
      env: sb.env,
      cwd: sb.project,
      answer: "no",
    });
    expect(un.code).toBe(77);
    expect(readFileSync(settings, "utf8")).toBe(before);
    // --dry-run asks nothing
    const dry = await runCli(["uninstall", "claude", "--scope", "project", "--dry-run"], {
      env: sb.env,
      cwd: sb.project,
      answer: null,
    });
    expect(dry.code).toBe(0);
  });

  it("init and shims install refuse without a terminal", async () => {
    const sb = sandbox();
    const init = await runCli(["init"], { env: sb.env, cwd: sb.project, answer: null });
    expect(init.code).toBe(77);
    expect(existsSync(join(sb.project, ".claude/downscoping.yaml"))).toBe(false);
    const shims = await runCli(["shims", "install", "--dir", join(sb.root, "shims")], {
      env: sb.env,
      cwd: sb.project,
      answer: null,
    });
    expect(shims.code).toBe(77);
    expect(existsSync(join(sb.root, "shims"))).toBe(false);
  });

  it("untrust only restricts and asks nothing", async () => {
    const sb = project();
    await runCli(["trust"], { env: sb.env, cwd: sb.project });
    const r = await runCli(["untrust"], { env: sb.env, cwd: sb.project, answer: null });
    expect(r.code).toBe(0);
    expect(storeOf(sb)).not.toContain(sb.policy);
  });

  /*
   * Provisioning without a terminal: only a root-owned managed file nobody else
   * may write can say so. A managed file the user (the agent) can write is ignored.
   */
  it("settings.admin_without_terminal counts only in a managed file nobody else may write", async () => {
    const sb = project();
    const managed = sb.env.DOWNSCOPE_MANAGED_CONFIG!;
    sb.write(managed, "version: 1\nsettings: { admin_without_terminal: true }\nservices: {}\n", 0o644);
    chmodSync(join(managed, ".."), 0o755);
    const ok = await runCli(["trust"], { env: sb.env, cwd: sb.project, answer: null });
    if (process.getuid?.() === 0) {
      expect(ok.code).toBe(0);
      expect(ok.stderr).toMatch(/confirmed by settings.admin_without_terminal/);
    } else expect(ok.code).toBe(77); // a file the user owns never counts
    sb.write(sb.policy, WIDER);
    chmodSync(managed, 0o666);
    const refused = await runCli(["trust"], { env: sb.env, cwd: sb.project, answer: null });
    expect(refused.code).toBe(77);
    chmodSync(managed, 0o644);
    // In the user's own config it means nothing.
    sb.write(managed, "version: 1\nservices: {}\n", 0o644);
    sb.write(
      "home/.config/downscope/config.yaml",
      "version: 1\nsettings: { admin_without_terminal: true }\nservices: {}\n",
    );
    expect((await runCli(["trust"], { env: sb.env, cwd: sb.project, answer: null })).code).toBe(77);
  });
});

describe("the real terminal", () => {
  it("a pty that types yes confirms; a piped yes on stdin with no terminal does not", () => {
    const sb = project();
    const env = { ...sb.env, PATH: process.env.PATH ?? "/usr/bin:/bin" };
    const piped = spawnSync(process.execPath, [BIN, "trust"], {
      cwd: sb.project,
      env,
      input: "yes\n",
      encoding: "utf8",
    });
    expect(piped.stderr).toMatch(/has none; nothing was changed/);
    expect(piped.status).toBe(77);
    expect(piped.stderr).toMatch(/has none; nothing was changed/);
    expect(storeOf(sb)).toBe("(none)");

    const refused = runWithTty(process.execPath, [BIN, "trust"], { cwd: sb.project, env, answer: "no" });
    expect(refused.status).toBe(77);
    expect(refused.terminal).toContain("has not been trusted before");
    expect(storeOf(sb)).toBe("(none)");

    const yes = runWithTty(process.execPath, [BIN, "trust"], { cwd: sb.project, env });
    expect(yes.status).toBe(0);
    expect(yes.terminal).toContain("no deletes");
    expect(storeOf(sb)).toContain(sb.policy);
  });
});
