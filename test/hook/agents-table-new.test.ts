/* eslint-disable @typescript-eslint/no-explicit-any -- recorded JSON of external protocols */
/**
 * The command table (test/hook/command-table.ts) through the Codex CLI,
 * Copilot CLI, OpenCode and pi adapters, as test/hook/agents-table.test.ts
 * does for Cursor and Gemini CLI: each command goes into a payload recorded
 * from that agent's real CLI (test/fixtures/agents/), through the adapter's
 * parse, the shared decision and the adapter's answer, and must come out as
 * that agent's deny, rewrite or review. Rows whose answer depends on the
 * shims being on PATH are decided with them absent, as these adapters see it.
 *
 * A review: Codex CLI and OpenCode cannot ask from a hook, so it is a deny
 * that never carries the approval (a model holding the approved command
 * could run it without a person); Copilot CLI and pi ask, with the approval
 * in the rewrite.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codexProtocol } from "../../src/hook/agents/codex.js";
import { copilotProtocol } from "../../src/hook/agents/copilot.js";
import { opencodeProtocol, piProtocol } from "../../src/hook/agents/plugin.js";
import { decideBash } from "../../src/hook/decide.js";
import type { HookProtocol } from "../../src/hook/protocol.js";
import { TABLE, type Row } from "./command-table.js";
import { tableContext } from "./fixture.js";

const fixtures = join(import.meta.dirname, "..", "fixtures", "agents");
const fixture = (rel: string) => JSON.parse(readFileSync(join(fixtures, rel), "utf8")) as Record<string, any>;
const ctx = { env: { PATH: "/usr/bin:/bin", HOME: "/home/u" }, cwd: "/work" };

function run(protocol: HookProtocol, template: Record<string, any>, argsKey: string, command: string) {
  const text = JSON.stringify({ ...template, [argsKey]: { ...template[argsKey], command } });
  const payload = protocol.parse(text, ctx);
  expect(payload.tool_name).toBe("Bash");
  expect(payload.tool_input.command).toBe(command);
  const result = decideBash(command, tableContext({ shimsOnPath: false }));
  const out = protocol.answer(result, payload, ctx);
  expect(out.code).toBe(0);
  return { result, out, json: out.stdout === undefined ? undefined : JSON.parse(out.stdout) };
}

const expectedOf = (row: Row): Row[1] => {
  const a = decideBash(row[0], tableContext());
  const b = decideBash(row[0], tableContext({ shimsOnPath: false }));
  return a.decision === b.decision ? row[1] : "ask";
};

describe("Codex CLI adapter: the command table", () => {
  const shell = fixture("codex/shell.json");
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const { json } = run(codexProtocol, shell, "tool_input", command);
    switch (expectedOf([command, answer, rewritten])) {
      case "none":
        expect(json).toBeUndefined();
        break;
      case "deny":
        expect(json).toEqual({
          hookSpecificOutput: {
            hookEventName: "PreToolUse",
            permissionDecision: "deny",
            permissionDecisionReason: expect.stringMatching(/^downscope: /),
          },
        });
        break;
      case "allow":
      case "rewrite":
        // Codex applies updatedInput only with allow; the rest of the tool input is kept.
        expect(json).toEqual({
          hookSpecificOutput: {
            hookEventName: "PreToolUse",
            permissionDecision: "allow",
            updatedInput: { command: rewritten },
          },
        });
        break;
      case "ask":
        expect(json.hookSpecificOutput.permissionDecision).toBe("deny");
        expect(json.hookSpecificOutput.permissionDecisionReason).toMatch(/ask the user to run it themselves/);
        expect(JSON.stringify(json)).not.toContain("DOWNSCOPE_APPROVAL");
        break;
    }
  });
});

describe("Copilot CLI adapter: the command table", () => {
  const bash = fixture("copilot/bash.json");
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const { result, json } = run(copilotProtocol, bash, "toolArgs", command);
    switch (expectedOf([command, answer, rewritten])) {
      case "none":
        expect(json).toBeUndefined();
        break;
      case "deny":
        expect(json).toEqual({
          permissionDecision: "deny",
          permissionDecisionReason: expect.stringMatching(/^downscope: /),
        });
        break;
      case "allow":
      case "rewrite":
        // modifiedArgs: the arguments Copilot CLI runs, the description kept.
        expect(json.modifiedArgs).toEqual({ command: rewritten, description: "x" });
        expect(json.permissionDecision).toBe(answer === "allow" ? "allow" : undefined);
        break;
      case "ask": {
        expect(json.permissionDecision).toBe("ask");
        const cmd = "command" in result ? result.command : undefined;
        if (cmd === undefined) expect(json.modifiedArgs).toBeUndefined();
        else expect(json.modifiedArgs).toEqual({ command: cmd, description: "x" });
        break;
      }
    }
  });
});

describe.each([
  ["OpenCode", opencodeProtocol, "opencode/bash.json", false],
  ["pi", piProtocol, "pi/bash.json", true],
] as const)("%s adapter: the command table", (_name, protocol, file, canAsk) => {
  const bash = fixture(file);
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const { result, json } = run(protocol, bash, "tool_input", command);
    switch (expectedOf([command, answer, rewritten])) {
      case "none":
        expect(json).toEqual({ decision: "none" });
        break;
      case "deny":
        expect(json).toEqual({ decision: "deny", reason: expect.stringMatching(/^downscope: /) });
        break;
      case "allow":
      case "rewrite":
        expect(json).toEqual({ decision: "rewrite", reason: expect.any(String), field: "command", value: rewritten });
        break;
      case "ask":
        if (canAsk) {
          const cmd = "command" in result && result.command !== undefined ? result.command : command;
          expect(json).toEqual({
            decision: "ask",
            reason: expect.stringMatching(/^downscope: /),
            field: "command",
            value: cmd,
          });
        } else {
          expect(json.decision).toBe("deny");
          expect(json.reason).toMatch(/ask the user to run it themselves/);
          expect(JSON.stringify(json)).not.toContain("DOWNSCOPE_APPROVAL");
        }
        break;
    }
  });
});
