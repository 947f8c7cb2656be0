/* eslint-disable @typescript-eslint/no-unsafe-return -- recorded JSON of external protocols */
/**
 * The command table (test/hook/command-table.ts) through the Cursor and Gemini
 * CLI adapters: each command goes into a recorded payload of that agent
 * (test/fixtures/agents/), through the adapter's parse, the shared decision
 * and the adapter's answer, and comes out as that agent's deny / ask /
 * rewrite. Rows whose answer depends on the shims being on PATH (calls nested
 * in strings) are decided with them absent, as the adapters see it, and must
 * then ask.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cursorProtocol } from "../../src/hook/agents/cursor.js";
import { geminiProtocol } from "../../src/hook/agents/gemini.js";
import { decideBash } from "../../src/hook/decide.js";
import type { HookProtocol } from "../../src/hook/protocol.js";
import { TABLE, type Row } from "./command-table.js";
import { sandbox } from "../helpers/sandbox.js";
import { tableContext } from "./fixture.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "agents");
const fixture = (rel: string) => JSON.parse(readFileSync(join(fixtures, rel), "utf8")) as Record<string, unknown>;

const CURSOR_SHELL = fixture("cursor/before-shell-execution.json");
const GEMINI_SHELL = fixture("gemini/shell.json");
const ctx = { env: { PATH: "/usr/bin:/bin", HOME: "/home/u" }, cwd: "/work" };

function run(protocol: HookProtocol, template: Record<string, unknown>, command: string) {
  const text =
    protocol === cursorProtocol
      ? JSON.stringify({ ...template, command })
      : JSON.stringify({ ...template, tool_input: { ...(template.tool_input as object), command } });
  const payload = protocol.parse(text, ctx);
  expect(payload.tool_name).toBe("Bash");
  expect(payload.tool_input.command).toBe(command);
  const shared = decideBash(command, tableContext());
  const result = decideBash(command, tableContext({ shimsOnPath: false }));
  const out = protocol.answer(result, payload, ctx);
  return { shared, result, out, json: out.stdout === undefined ? undefined : JSON.parse(out.stdout) };
}

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

describe("Cursor adapter: the command table", () => {
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const { result, out, json } = run(cursorProtocol, CURSOR_SHELL, command);
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
        // No rewrite in Cursor: the agent is told the exact rewritten command, which the hook then lets through.
        expect(json.permission).toBe("deny");
        expect(json.agent_message).toContain(`Run exactly this instead: ${rewritten}`);
        expect(rerun(rewritten)).toEqual({});
        break;
      case "ask": {
        const cmd = "command" in result ? result.command : undefined;
        if (cmd === undefined) expect(json).toMatchObject({ permission: "ask" });
        else if (cmd.includes("DOWNSCOPE_APPROVAL")) {
          expect(json.permission).toBe("deny");
          expect(json.agent_message).toContain("ask the user to run it themselves");
        } else {
          expect(json.permission).toBe("deny");
          expect(json.agent_message).toContain(`Run exactly this instead: ${cmd}`);
          // Run as told, it is asked (still unreadable statically, but every service call now names downscope-exec).
          expect(rerun(cmd).permission).toBe("ask");
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

/** What the Cursor adapter answers for a command the agent runs after being told to. */
function rerun(command: string) {
  const payload = cursorProtocol.parse(JSON.stringify({ ...CURSOR_SHELL, command }), ctx);
  const result = decideBash(command, tableContext({ shimsOnPath: false }));
  return JSON.parse(cursorProtocol.answer(result, payload, ctx).stdout!);
}
