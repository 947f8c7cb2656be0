/**
 * The hook in contained mode (issue 13): Claude Code takes a call out of its
 * sandbox only when the whole command matches the excludedCommands entry, so
 * a service call is rewritten to the exact unquoted `<node> <downscope-exec.js>`
 * prefix and must stand alone; an approval travels as `--approval`; a project
 * settings file that could loosen the sandbox blocks every command. Proves:
 * each rewrite, each refusal, and that default mode is unchanged.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { answerPayload } from "../../src/hook/answer.js";
import { decideBash } from "../../src/hook/decide.js";
import { sandbox } from "../helpers/sandbox.js";
import { tableContext } from "./fixture.js";

const EXEC = "/usr/bin/node /opt/downscope/bin/downscope-exec.js";
const contained = () => tableContext({ contained: true, execCommand: EXEC });

describe("contained mode: the hook's rewrite", () => {
  it.each([
    ["gh pr list", `${EXEC} gh pr list`],
    ["gh pr list --limit 5 2>&1", `${EXEC} gh pr list --limit 5 2>&1`],
    ["  gh api repos/o/r", `  ${EXEC} gh api repos/o/r`],
  ])("%s stands alone and is rewritten to the excluded prefix", (command, rewritten) => {
    const r = decideBash(command, contained());
    expect(r.decision === "rewrite" || r.decision === "allow").toBe(true);
    expect((r as { command: string }).command).toBe(rewritten);
  });

  it.each([
    "gh pr list | head -3",
    "cd repo && gh pr list",
    "gh pr list > out.txt",
    "X=1 gh pr list",
    "gh pr list; echo done",
    "gh pr list &",
    "echo $(gh pr list)",
    "sudo gh pr list",
    "gh issue view $N",
  ])("%s would stay sandboxed: denied with the way to run it", (command) => {
    const r = decideBash(command, contained());
    expect(r.decision).toBe("deny");
    expect((r as { reason: string }).reason).toMatch(/as a command of its own/);
  });

  it("a review asks, with the approval as --approval (an env prefix would keep it sandboxed)", () => {
    const ctx = contained();
    const r = decideBash("gh pr merge 12", ctx);
    expect(r.decision).toBe("ask");
    expect((r as { command: string }).command).toBe(`${EXEC} --approval ${ctx.nonces[0]} gh pr merge 12`);
  });

  it("an agent-written --approval is denied, contained or not", () => {
    for (const ctx of [contained(), tableContext()]) {
      const r = decideBash(`${EXEC} --approval N1 gh pr merge 12`, ctx);
      expect(r.decision).toBe("deny");
      expect((r as { reason: string }).reason).toMatch(/passes --approval itself/);
    }
  });

  it("node …/downscope-exec.js is unwrapped like downscope-exec: a denied call under it is denied", () => {
    expect(decideBash(`${EXEC} gh repo delete o/r`, contained()).decision).toBe("deny");
  });

  it("default mode is unchanged: pipes are rewritten in place, approvals by environment", () => {
    const ctx = tableContext();
    expect((decideBash("gh pr list | head -3", ctx) as { command: string }).command).toBe(
      "downscope-exec gh pr list | head -3",
    );
    expect((decideBash("gh pr merge 12", ctx) as { command: string }).command).toBe(
      `DOWNSCOPE_APPROVAL=${ctx.nonces[0]} downscope-exec gh pr merge 12`,
    );
  });
});

describe("contained mode: what voids it", () => {
  function containedProject(exec = EXEC) {
    const sb = sandbox();
    sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
    writeContainedState(sb.env, {
      version: 1,
      settingsFile: join(sb.home, ".claude/settings.json"),
      exec,
      denyRules: [],
    });
    const bash = (command: string) =>
      answerPayload(
        { tool_name: "Bash", tool_input: { command }, cwd: sb.project },
        { env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project }, cwd: sb.project },
      );
    return { sb, bash };
  }

  it.each(["settings.json", "settings.local.json"])(
    "a sandbox key in the project's .claude/%s blocks every command",
    async (name) => {
      const { sb, bash } = containedProject();
      expect((await bash("ls")).decision).toBe("none");
      mkdirSync(join(sb.project, ".claude"), { recursive: true });
      writeFileSync(join(sb.project, ".claude", name), JSON.stringify({ sandbox: { enabled: false } }));
      const r = await bash("ls");
      expect(r.decision).toBe("deny");
      expect((r as { reason: string }).reason).toMatch(/contained mode is void here: .*"sandbox" key/);
    },
  );

  it("a project settings file that is not JSON blocks too (it cannot be checked)", async () => {
    const { sb, bash } = containedProject();
    sb.write("project/.claude/settings.json", "{ not json");
    expect((await bash("ls")).decision).toBe("deny");
  });

  it("downscope-exec inside the project (agent-writable code run outside the sandbox) blocks every command", async () => {
    const sb0 = sandbox();
    const { bash } = containedProject(`/usr/bin/node ${join(sb0.root, "x")}`);
    expect((await bash("ls")).decision).toBe("none");
    const { sb, bash: bash2 } = containedProject();
    writeContainedState(sb.env, {
      version: 1,
      settingsFile: "/x",
      exec: `/usr/bin/node ${join(sb.project, "node_modules/downscope/bin/downscope-exec.js")}`,
      denyRules: [],
    });
    const r = await bash2("ls");
    expect(r.decision).toBe("deny");
    expect((r as { reason: string }).reason).toMatch(/inside the project/);
  });
});
