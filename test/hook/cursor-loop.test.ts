/* eslint-disable @typescript-eslint/no-explicit-any -- JSON of Cursor's hook protocol */
/**
 * Cursor's agent loop as its documentation describes it
 * (cursor.com/docs/hooks), played by a driver against the real parts:
 * `downscope install cursor` writes ~/.cursor/hooks.json; for each shell call
 * the driver runs the preToolUse hooks whose matcher matches `Shell`, applies
 * `updated_input`, runs the beforeShellExecution hooks on the command that is
 * about to run, puts an `ask` to a scripted human, and runs what is left with
 * bash — each hook command through `sh -c` from ~/.cursor/ as Cursor runs
 * user hooks, using the built bundles; downscope-exec runs a stand-in gh that
 * records its environment.
 *
 * Cursor itself is closed source and not run here (docs/agents.md). So the
 * driver also plays the two ways Cursor could differ from its docs: showing
 * beforeShellExecution the model's command rather than the rewrite, and a
 * release without preToolUse. Neither may hand a credential to an unscoped
 * call; each costs at most a model turn.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { execSandbox, parseEnv, type ExecSandbox } from "../exec/helpers.js";

const TOKEN = "fake-gh-token-ro-123";
const AMBIENT = "fake-ambient-token-999";

interface Options {
  /** Cursor shows beforeShellExecution the rewritten command (as documented), or the model's. */
  rewriteSeenByShellHook?: boolean;
  /** A Cursor release without preToolUse (hooks arrived in 1.7; preToolUse later). */
  noPreToolUse?: boolean;
  /** The human's answer to an ask. */
  human?: "approve" | "refuse";
}

interface Outcome {
  blockedBy?: "preToolUse" | "beforeShellExecution" | "human";
  message?: string;
  /** The command bash ran. */
  ran?: string;
  exit?: number | null;
  stderr?: string;
  asked?: string;
}

function setup() {
  const sb = execSandbox();
  const gh = sb.fake("gh");
  sb.env.PATH = `${sb.bin}:${dirname(process.execPath)}:/usr/bin:/bin`;
  sb.userConfig(`
version: 1
services:
  gh:
    binary_path: ${gh}
    token_slots: { ro: { env_var: GH_RO_SRC } }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`);
  return { sb, gh };
}

async function installCursor(sb: ExecSandbox) {
  const r = await runCli(["install", "cursor", "--scope", "user"], { env: sb.env, cwd: sb.project });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(sb.home, ".cursor", "hooks.json"), "utf8")).hooks as Record<string, any[]>;
}

/** Runs one hook entry as Cursor does: `sh -c <command>` from ~/.cursor/, the payload on stdin. */
function runHook(
  sb: ExecSandbox,
  entry: any,
  payload: object,
): { permission?: string; json: any; code: number | null } {
  const r = spawnSync("sh", ["-c", entry.command], {
    cwd: join(sb.home, ".cursor"),
    env: { ...sb.env, CURSOR_PROJECT_DIR: sb.project, CLAUDE_PROJECT_DIR: sb.project },
    input: JSON.stringify(payload),
    encoding: "utf8",
    timeout: entry.timeout * 1000,
  });
  const json = r.stdout.trim() === "" ? undefined : JSON.parse(r.stdout);
  // failClosed: a crash, a timeout or invalid JSON blocks; exit 2 blocks.
  if (r.status === 2 || (entry.failClosed && (r.status !== 0 || json === undefined)))
    return { permission: "deny", json, code: r.status };
  return { permission: json?.permission, json, code: r.status };
}

const base = (sb: ExecSandbox, event: string) => ({
  conversation_id: "668320d2-2fd8-4888-b33c-2a466fec86e7",
  generation_id: "490b90b7-a2ce-4c2c-bb76-cb77b125df2f",
  model: "claude-sonnet-4-5",
  hook_event_name: event,
  workspace_roots: [sb.project],
  user_email: null,
  transcript_path: null,
});

function cursorShell(sb: ExecSandbox, hooks: Record<string, any[]>, model: string, opts: Options = {}): Outcome {
  let command = model;
  if (!opts.noPreToolUse) {
    for (const entry of hooks.preToolUse ?? []) {
      if (entry.matcher !== undefined && !new RegExp(`^(?:${entry.matcher})$`).test("Shell")) continue;
      const r = runHook(sb, entry, {
        ...base(sb, "preToolUse"),
        tool_name: "Shell",
        tool_input: { command, working_directory: sb.project },
        tool_use_id: "toolu_01",
        cwd: sb.project,
      });
      if (r.permission === "deny") return { blockedBy: "preToolUse", message: r.json?.agent_message };
      if (r.json?.updated_input !== undefined) {
        expect(r.json.updated_input.working_directory).toBe(sb.project);
        command = r.json.updated_input.command;
      }
    }
  }
  const shown = opts.rewriteSeenByShellHook === false ? model : command;
  let asked: string | undefined;
  for (const entry of hooks.beforeShellExecution ?? []) {
    const r = runHook(sb, entry, {
      ...base(sb, "beforeShellExecution"),
      command: shown,
      cwd: sb.project,
      sandbox: false,
    });
    if (r.permission === "deny") return { blockedBy: "beforeShellExecution", message: r.json?.agent_message };
    if (r.permission === "ask") {
      asked = r.json.user_message;
      if (opts.human !== "approve") return { blockedBy: "human", asked };
    }
  }
  const run = spawnSync("bash", ["-c", command], {
    cwd: sb.project,
    env: { ...sb.env, GH_RO_SRC: TOKEN, GH_TOKEN: AMBIENT, GITHUB_TOKEN: AMBIENT },
    encoding: "utf8",
  });
  return { ran: command, exit: run.status, stderr: run.stderr, ...(asked !== undefined ? { asked } : {}) };
}

/** The command downscope's preToolUse hook alone makes of the model's (what the agent could copy out of it). */
function preToolUseRewrite(sb: ExecSandbox, hooks: Record<string, any[]>, model: string): string {
  const pre = runHook(sb, hooks.preToolUse![0], {
    ...base(sb, "preToolUse"),
    tool_name: "Shell",
    tool_input: { command: model, working_directory: sb.project },
    cwd: sb.project,
  });
  return pre.json.updated_input.command as string;
}

/** What the stand-in gh got: its argv and the token in its environment; undefined if it never ran. */
function ghSaw(gh: string) {
  if (!existsSync(`${gh}.rec.argv`)) return undefined;
  const env = parseEnv(readFileSync(`${gh}.rec.env`, "utf8"));
  const seen = {
    argv: readFileSync(`${gh}.rec.argv`, "utf8").trim().split("\n"),
    token: env.GH_TOKEN,
    ambient: Object.values(env).some((v) => v.includes(AMBIENT)),
  };
  rmSync(`${gh}.rec.argv`);
  return seen;
}

describe("Cursor's documented loop: preToolUse rewrites, beforeShellExecution checks what runs", () => {
  it("install cursor: downscope's hooks first in each list, fail closed, 10 s, preToolUse for Shell", async () => {
    const { sb } = setup();
    const hooks = await installCursor(sb);
    expect(hooks.preToolUse![0]).toMatchObject({
      matcher: expect.stringMatching(/^Shell\|/),
      failClosed: true,
      timeout: 10,
    });
    expect(hooks.beforeShellExecution![0]).toMatchObject({ failClosed: true, timeout: 10 });
  });

  it("a service call is rewritten and runs with only the scoped token (ambient GH_TOKEN and GITHUB_TOKEN stripped)", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const o = cursorShell(sb, hooks, "gh pr list --state open");
    expect(o.blockedBy).toBeUndefined();
    expect(o.ran).toMatch(/downscope-exec(\.js'?)? gh pr list --state open$/);
    expect(o.exit, o.stderr).toBe(0);
    expect(ghSaw(gh)).toEqual({ argv: ["pr", "list", "--state", "open"], token: TOKEN, ambient: false });
  });

  it("a denied call is stopped by preToolUse with the rule's reason; gh never starts", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const o = cursorShell(sb, hooks, "gh repo delete o/r");
    expect(o).toMatchObject({ blockedBy: "preToolUse", message: expect.stringContaining("not for agents") });
    expect(ghSaw(gh)).toBeUndefined();
  });

  it("a review is put to the human by beforeShellExecution; approved, it runs once with the scoped token", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const o = cursorShell(sb, hooks, "gh pr merge 12", { human: "approve" });
    expect(o.asked).toMatch(/gh pr merge 12.*review/);
    expect(o.ran).toMatch(/^DOWNSCOPE_APPROVAL=[A-Za-z0-9_-]{20,} .*downscope-exec(\.js'?)? gh pr merge 12$/);
    expect(o.exit, o.stderr).toBe(0);
    expect(ghSaw(gh)).toEqual({ argv: ["pr", "merge", "12"], token: TOKEN, ambient: false });
    // The same approved command again: the approval was single use.
    const again = spawnSync("bash", ["-c", o.ran!], { cwd: sb.project, env: { ...sb.env, GH_RO_SRC: TOKEN } });
    expect(again.status).toBe(77);
    expect(ghSaw(gh)).toBeUndefined();
  });

  it("a review the human refuses does not run", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const o = cursorShell(sb, hooks, "gh pr merge 12", { human: "refuse" });
    expect(o.blockedBy).toBe("human");
    expect(ghSaw(gh)).toBeUndefined();
  });

  /*
   * Bypass: the agent takes the approval out of preToolUse's rewrite and runs
   * it where beforeShellExecution cannot see it (a script), so no human is
   * asked. Fix: the rewrite's approval is gated, worth nothing until the
   * asking hook has seen exactly that command. Proves: downscope-exec refuses
   * it and gh never starts.
   */
  it("attack: the rewrite's approval smuggled into a script, past the asking hook → refused", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const rewritten = preToolUseRewrite(sb, hooks, "gh pr merge 12");
    expect(rewritten).toContain("DOWNSCOPE_APPROVAL=");
    writeFileSync(join(sb.project, "merge.sh"), `${rewritten}\n`);
    const o = cursorShell(sb, hooks, "bash merge.sh");
    expect(o.blockedBy).toBeUndefined(); // the hooks see no service call in `bash merge.sh`
    expect(o.exit).toBe(77);
    expect(o.stderr).toMatch(/never put to a human/);
    expect(ghSaw(gh)).toBeUndefined();
  });

  /*
   * Bypass: the agent writes the approval form itself (a made-up nonce, or
   * one for other arguments) hoping the asking hook waves it through. Proves:
   * beforeShellExecution denies, nobody is asked, gh never starts.
   */
  it("attack: an agent-written approval is denied, not asked", async () => {
    const { sb, gh } = setup();
    const hooks = await installCursor(sb);
    const rewritten = preToolUseRewrite(sb, hooks, "gh pr merge 12");
    const other = rewritten.replace("gh pr merge 12", "gh pr merge 13");
    const forged = rewritten.replace(/=[A-Za-z0-9_-]+/, `=${"A".repeat(32)}`);
    for (const command of [other, forged]) {
      const o = cursorShell(sb, hooks, command, { noPreToolUse: true, human: "approve" });
      expect(o).toMatchObject({ blockedBy: "beforeShellExecution" });
      expect(o.message).toMatch(/approvals are created by the hook/);
    }
    expect(ghSaw(gh)).toBeUndefined();
  });

  it.each([
    ["beforeShellExecution is shown the model's command", { rewriteSeenByShellHook: false }],
    ["a release without preToolUse", { noPreToolUse: true }],
  ] as const)(
    "if Cursor differs from its docs (%s): denied with the command to run, which then runs scoped",
    async (_, opts) => {
      const { sb, gh } = setup();
      const hooks = await installCursor(sb);
      const o = cursorShell(sb, hooks, "gh pr list", opts);
      expect(o.blockedBy).toBe("beforeShellExecution");
      expect(ghSaw(gh)).toBeUndefined();
      const told = /Run exactly this instead: (.*)$/.exec(o.message!)![1]!;
      const again = cursorShell(sb, hooks, told, opts);
      expect(again.exit, again.stderr).toBe(0);
      expect(ghSaw(gh)).toEqual({ argv: ["pr", "list"], token: TOKEN, ambient: false });
      // A review cannot be asked then: the human is told to run it.
      const review = cursorShell(sb, hooks, "gh pr merge 12", { ...opts, human: "approve" });
      expect(review.blockedBy).toBe("beforeShellExecution");
      expect(review.message).toMatch(/ask the user to run it themselves/);
      expect(ghSaw(gh)).toBeUndefined();
    },
  );
});
