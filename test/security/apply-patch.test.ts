/**
 * Bypass: Codex CLI's and OpenCode's apply_patch name the files they change
 * inside the patch text, not in a path field, so a file check that reads a
 * path field sees nothing: a patch could rewrite the hook's own settings, or
 * hide that change among harmless ones, or move a protected file away. Fix:
 * the adapters read every path the patch adds, updates, deletes or moves to
 * (src/hook/apply-patch.ts) and the hook checks each as a write; a patch it
 * cannot read is denied (fail closed). Proves: each patch below is denied
 * through the real Codex and OpenCode adapters, and an ordinary one passes.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codexProtocol } from "../../src/hook/agents/codex.js";
import { opencodeProtocol } from "../../src/hook/agents/plugin.js";
import { answerPayload } from "../../src/hook/answer.js";
import { patchPaths } from "../../src/hook/apply-patch.js";
import { isPayloadError, type HookProtocol } from "../../src/hook/protocol.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const wrap = (body: string) => `*** Begin Patch\n${body}\n*** End Patch\n`;

async function decide(sb: Sandbox, protocol: HookProtocol, patch: string) {
  const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project };
  const text =
    protocol === codexProtocol
      ? JSON.stringify({
          hook_event_name: "PreToolUse",
          cwd: sb.project,
          tool_name: "apply_patch",
          tool_input: { command: patch },
        })
      : JSON.stringify({
          tool_name: "apply_patch",
          tool_input: { patchText: patch },
          cwd: sb.project,
          project_dir: sb.project,
        });
  try {
    const payload = protocol.parse(text, { env, cwd: sb.project });
    return await answerPayload(payload, { env, cwd: sb.project });
  } catch (e) {
    // The hook's top-level catch answers an unreadable input with a deny (src/cli/hook.ts).
    if (isPayloadError(e)) return { decision: "deny" as const, reason: e.message };
    throw e;
  }
}

describe.each([
  ["Codex CLI", codexProtocol],
  ["OpenCode", opencodeProtocol],
] as const)("%s apply_patch", (_name, protocol) => {
  it.each([
    [
      "updates the hook's settings",
      (sb: Sandbox) => wrap(`*** Update File: ${join(sb.home, ".codex/config.toml")}\n@@\n-a\n+b`),
    ],
    [
      "hides that among harmless files",
      (sb: Sandbox) =>
        wrap(
          `*** Add File: notes.txt\n+x\n*** Update File: ${join(sb.home, ".claude/settings.json")}\n@@\n-a\n+b\n*** Add File: more.txt\n+y`,
        ),
    ],
    [
      "deletes the trust store",
      (sb: Sandbox) => wrap(`*** Delete File: ${join(sb.home, ".local/state/downscope/trusted.json")}`),
    ],
    [
      "moves a file onto the plugin",
      (sb: Sandbox) =>
        wrap(`*** Update File: a.js\n*** Move to: ${join(sb.home, ".config/opencode/plugin/a.js")}\n@@\n-a\n+b`),
    ],
    ["reaches a project file by a relative path", () => wrap("*** Update File: ./.claude/settings.json\n@@\n-a\n+b")],
    ["cannot be read (no end line)", () => "*** Begin Patch\n*** Add File: x.txt\n+x\n"],
    ["cannot be read (an unknown marker)", () => wrap("*** Rename File: x")],
    ["names no file", () => wrap("")],
  ])("that %s → deny", async (_what, patch) => {
    const sb = sandbox();
    expect((await decide(sb, protocol, patch(sb))).decision).toBe("deny");
  });

  it("an ordinary patch passes", async () => {
    const sb = sandbox();
    const r = await decide(
      sb,
      protocol,
      wrap("*** Add File: src/new.ts\n+export {};\n*** Update File: README.md\n@@\n-a\n+b"),
    );
    expect(r.decision).toBe("none");
  });
});

describe("patchPaths", () => {
  it.each([
    [
      wrap("*** Add File: a\n+x\n*** Delete File: b\n*** Update File: c\n*** Move to: d\n@@\n-x\n+y"),
      ["a", "b", "c", "d"],
    ],
    [
      "\n\n*** Begin Patch\r\n*** Update File:  spaced name.txt \r\n*** End of File\r\n*** End Patch",
      ["spaced name.txt"],
    ],
  ])("%j → %j", (text, paths) => expect(patchPaths(text)).toEqual(paths));
});
