/* eslint-disable @typescript-eslint/no-unsafe-return -- recorded JSON of external protocols */
/**
 * The command table (test/hook/command-table.ts) through the Cursor and Gemini
 * CLI adapters: each command goes into a recorded payload of that agent
 * (test/fixtures/agents/), through the adapter's parse, the shared decision
 * and the adapter's answer, and comes out as that agent's deny / ask /
 * rewrite. Rows whose answer depends on the shims being on PATH (calls nested
 * in strings) are decided with them absent, as the adapters see it, and must
 * then ask.
 *
 * Cursor has two shell hooks: preToolUse rewrites (and cannot ask),
 * beforeShellExecution enforces (and cannot rewrite). Each row goes through
 * both as Cursor's documentation says they run: preToolUse on the model's
 * command, then beforeShellExecution on the command preToolUse made — and
 * beforeShellExecution alone on the model's command, for a Cursor that does
 * not apply (or does not show it) the rewrite. Approvals are the real gated
 * ones (src/approval/approval.ts) in a sandboxed state directory.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { consumeApproval, createApproval, openGatedApproval } from "../../src/approval/approval.js";
import { cursorProtocol } from "../../src/hook/agents/cursor.js";
import { geminiProtocol } from "../../src/hook/agents/gemini.js";
import { decideBash } from "../../src/hook/decide.js";
import type { HookProtocol } from "../../src/hook/protocol.js";
import { TABLE, type Row } from "./command-table.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { tableContext } from "./fixture.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "agents");
const fixture = (rel: string) => JSON.parse(readFileSync(join(fixtures, rel), "utf8")) as Record<string, unknown>;

const CURSOR_SHELL = fixture("cursor/before-shell-execution.json");
const CURSOR_PRETOOL = fixture("cursor/pre-tool-use-shell.json");
const GEMINI_SHELL = fixture("gemini/shell.json");
const ctx = { env: { PATH: "/usr/bin:/bin", HOME: "/home/u" }, cwd: "/work" };

function run(protocol: HookProtocol, template: Record<string, unknown>, command: string, env?: Sandbox["env"]) {
  const text =
    template === CURSOR_SHELL
      ? JSON.stringify({ ...template, command })
      : JSON.stringify({ ...template, tool_input: { ...(template.tool_input as object), command } });
  const payload = protocol.parse(text, ctx);
  expect(payload.tool_name).toBe("Bash");
  expect(payload.tool_input.command).toBe(command);
  const shared = decideBash(command, tableContext());
  const result = decideBash(command, tableContext({ shimsOnPath: false, ...(env ? gated(env) : {}) }));
  const out = protocol.answer(result, payload, ctx);
  return { shared, result, out, json: out.stdout === undefined ? undefined : JSON.parse(out.stdout) };
}

/** The approvals Cursor's adapter uses (HookProtocol.gatedApprovals), real, in env's state directory. */
function gated(env: Sandbox["env"]) {
  return {
    approve: (b: string, a: readonly string[]) => createApproval(b, a, env, Date.now(), true),
    openApproval: (n: string, b: string, a: readonly string[]) => openGatedApproval(n, b, a, env),
  };
}

/** A review the gated context can ask for: one call standing alone (see askGated in src/hook/decide.ts). */
const standsAlone = (command: string) => /^gh pr merge [^&|;$()]*$/.test(command);

const shimsIndependent = (row: Row) => {
  const a = decideBash(row[0], tableContext());
  const b = decideBash(row[0], tableContext({ shimsOnPath: false }));
  return a.decision === b.decision;
};

describe("Gemini CLI adapter: the command table", () => {
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const { result, out, json } = run(geminiProtocol, GEMINI_SHELL, command);
    expect(out.code).toBe(0);
    const row: Row = [command, answer, rewritten];
    const expected = shimsIndependent(row) ? answer : "ask";
    if (!shimsIndependent(row)) expect(result.decision).toBe("ask");
    switch (expected) {
      case "none":
        expect(out.stdout).toBeUndefined();
        break;
      case "deny":
        expect(json).toEqual({ decision: "deny", reason: expect.stringMatching(/^downscope: /) });
        break;
      case "allow":
      case "rewrite":
        expect(json).toEqual({
          hookSpecificOutput: { hookEventName: "BeforeTool", tool_input: { command: rewritten } },
        });
        break;
      case "ask": {
        expect(json.decision).toBe("ask");
        expect(json.reason).toMatch(/^downscope: /);
        const cmd = "command" in result ? result.command : undefined;
        if (cmd === undefined) expect(json.hookSpecificOutput).toBeUndefined();
        else expect(json.hookSpecificOutput.tool_input).toEqual({ command: cmd });
        if (shimsIndependent(row) && rewritten !== "") expect(cmd).toBe(rewritten);
        break;
      }
    }
  });
});

describe("Cursor adapter: the command table, preToolUse then beforeShellExecution", () => {
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const sb = sandbox();
    const pre = run(cursorProtocol, CURSOR_PRETOOL, command, sb.env);
    expect(pre.out.code).toBe(0);
    const row: Row = [command, answer, rewritten];
    const expected = shimsIndependent(row) ? answer : "ask";
    const P = pre.json;
    if (
      expected === "deny" ||
      (expected === "ask" && rewritten.includes("DOWNSCOPE_APPROVAL") && !standsAlone(command))
    ) {
      expect(P).toMatchObject({ permission: "deny", agent_message: expect.stringMatching(/^downscope: /) });
      expect(P.updated_input).toBeUndefined();
      return;
    }
    // What Cursor runs: the rewrite, with the rest of the tool input as it was.
    if (P.updated_input !== undefined) expect(P.updated_input.working_directory).toBe("/work/project");
    const runs: string = P.updated_input?.command ?? command;
    const B = shellAnswer(runs, sb.env);
    switch (expected) {
      case "none":
        expect(P).toEqual({});
        expect(B).toEqual({});
        break;
      case "allow":
      case "rewrite":
        expect(P).toEqual({
          ...(expected === "allow" ? { permission: "allow" } : {}),
          updated_input: { command: rewritten, working_directory: "/work/project" },
        });
        expect(B).toEqual({}); // the rewritten command names downscope-exec: it passes
        break;
      case "ask": {
        if (rewritten.includes("DOWNSCOPE_APPROVAL")) {
          // A review: the rewrite carries a gated approval, worth nothing until beforeShellExecution asks.
          const m = /^DOWNSCOPE_APPROVAL=([A-Za-z0-9_-]+) downscope-exec (gh .*)$/.exec(runs);
          expect(m, runs).not.toBeNull();
          expect(`DOWNSCOPE_APPROVAL=N1 downscope-exec ${m![2]}`).toBe(rewritten);
          expect(B).toMatchObject({ permission: "ask", user_message: expect.stringMatching(/^downscope: .*review/) });
          const argv = m![2]!.split(" ");
          expect(consumeApproval(m![1], "gh", argv.slice(1), sb.env)).toEqual({ ok: true });
        } else {
          // Asked because it cannot be read statically: beforeShellExecution asks (or names the command to run, which it asks).
          expect(P.permission).toBeUndefined();
          if (B.permission === "ask") break;
          expect(B.permission).toBe("deny");
          const told = /Run exactly this instead: ([\s\S]*)$/.exec(B.agent_message as string);
          expect(told, B.agent_message).not.toBeNull();
          expect(shellAnswer(told![1]!, sb.env).permission).toBe("ask");
        }
        break;
      }
    }
  });
});

describe("Cursor adapter: the command table, beforeShellExecution alone (the rewrite not applied)", () => {
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const sb = sandbox();
    const { result, out, json } = run(cursorProtocol, CURSOR_SHELL, command, sb.env);
    expect(out.code).toBe(0);
    const row: Row = [command, answer, rewritten];
    const expected = shimsIndependent(row) ? answer : "ask";
    switch (expected) {
      case "none":
        expect(json).toEqual({});
        break;
      case "deny":
        expect(json).toMatchObject({ permission: "deny", agent_message: expect.stringMatching(/^downscope: /) });
        expect(json.user_message).toBe(json.agent_message);
        break;
      case "allow":
      case "rewrite":
        // Not rewritten: the agent is told the exact rewritten command, which the hook then lets through.
        expect(json.permission).toBe("deny");
        expect(json.agent_message).toContain(`Run exactly this instead: ${rewritten}`);
        expect(shellAnswer(rewritten, sb.env)).toEqual({});
        break;
      case "ask": {
        const cmd = "command" in result ? result.command : undefined;
        if (rewritten.includes("DOWNSCOPE_APPROVAL")) {
          expect(json.permission).toBe("deny");
          expect(json.agent_message).toMatch(
            standsAlone(command) ? /ask the user to run it themselves/ : /must be a command of its own/,
          );
        } else if (cmd === undefined) expect(json).toMatchObject({ permission: "ask" });
        else {
          expect(json.permission).toBe("deny");
          expect(json.agent_message).toContain(`Run exactly this instead: ${cmd}`);
          // Run as told, it is asked (still unreadable statically, but every service call now names downscope-exec).
          expect(shellAnswer(cmd, sb.env).permission).toBe("ask");
        }
        break;
      }
    }
  });

  it("with the shims on the hook's PATH, a call the Claude Code hook would rewrite is allowed (the shim scopes it)", () => {
    const sb = sandbox();
    const shims = join(sb.root, "shims");
    sb.write(join(shims, ".downscope-shims"), "");
    const r = decideBash("gh pr list", tableContext({ shimsOnPath: true }));
    const payload = { tool_name: "Bash", tool_input: { command: "gh pr list" } };
    const withShims = cursorProtocol.answer(r, payload, { env: { PATH: `${shims}:/usr/bin` } });
    expect(JSON.parse(withShims.stdout!)).toEqual({ permission: "allow" }); // auto-approved, as in Claude Code
    const mixed = decideBash("gh pr list > prs.txt", tableContext({ shimsOnPath: true }));
    const rewrite = cursorProtocol.answer(mixed, payload, { env: { PATH: `${shims}:/usr/bin` } });
    expect(JSON.parse(rewrite.stdout!)).toEqual({}); // a rewrite without a decision: Cursor's own settings decide
    const without = cursorProtocol.answer(r, payload, { env: { PATH: "/usr/bin" } });
    expect(JSON.parse(without.stdout!)).toMatchObject({ permission: "deny" });
  });
});

/** What Cursor's beforeShellExecution hook answers for the command that is about to run. */
function shellAnswer(command: string, env: Sandbox["env"]) {
  const payload = cursorProtocol.parse(JSON.stringify({ ...CURSOR_SHELL, command }), ctx);
  const result = decideBash(command, tableContext({ shimsOnPath: false, ...gated(env) }));
  return JSON.parse(cursorProtocol.answer(result, payload, ctx).stdout!);
}
