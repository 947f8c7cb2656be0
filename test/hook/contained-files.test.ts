/**
 * Contained mode, round two (issue 20).
 *
 * Bypass 1: the file tools run outside the sandbox and wrote anywhere but
 * downscope's protected paths: the Write tool replaced a user-owned pinned
 * `gh` (the next `gh pr list` ran the replacement outside the sandbox with a
 * token) and created `~/.local/bin/git`. Fix: when contained, the hook denies
 * Write, Edit, MultiEdit and NotebookEdit outside the project, as the sandbox
 * denies a Bash write there; Claude Code's memory files and a trusted layer's
 * `contained_writable` stay writable.
 *
 * Bypass 2: a token the user's shell exports under a name downscope does not
 * know (`MY_GH_PAT`) sat in every sandboxed process's /proc/<pid>/environ.
 * Fix: install --contain keeps every credential variable of the installer's
 * environment out of the sandbox, and the hook denies Bash, naming the
 * variable, while another one is present.
 * Proves: each attempt is denied with the reason, each allowed write passes,
 * and default mode is unchanged (control).
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { CREDENTIAL_ENV } from "../../src/protection/secret-env.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

function setup(contained: boolean, user = "version: 1\nservices: {}\n", keptOut?: string[]): Sandbox {
  const sb = sandbox();
  sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
  sb.write("home/.config/downscope/config.yaml", user);
  if (contained)
    writeContainedState(sb.env, {
      version: 1,
      settingsFile: join(sb.home, ".claude/settings.json"),
      exec: "/usr/bin/node /x/downscope-exec.js",
      denyRules: [],
      ...(keptOut ? { keptOut } : {}),
    });
  return sb;
}

async function call(sb: Sandbox, tool: string, input: Record<string, unknown>, extraEnv: Record<string, string> = {}) {
  const env = { ...sb.env, ...extraEnv, CLAUDE_PROJECT_DIR: sb.project };
  return answerPayload({ tool_name: tool, tool_input: input, cwd: sb.project }, { env, cwd: sb.project });
}

const write = (file_path: string) => ({ file_path, content: "#!/bin/sh\necho replaced\n" });

describe("contained: the file tools write only inside the project", () => {
  it.each([
    ["Write", (sb: Sandbox) => write(join(sb.home, ".local/bin/git"))],
    ["Write", (sb: Sandbox) => write(join(sb.root, "tools/bin/gh"))],
    ["Edit", (sb: Sandbox) => ({ file_path: join(sb.home, ".bashrc"), old_string: "a", new_string: "b" })],
    ["MultiEdit", () => ({ file_path: "/tmp/x.sh", edits: [] })],
    ["NotebookEdit", (sb: Sandbox) => ({ notebook_path: join(sb.home, "n.ipynb"), new_source: "" })],
    ["Write", () => write("../outside.txt")],
    ["Write", () => write("link-out/x")],
  ] as const)("denies %s outside", async (tool, input) => {
    const sb = setup(true);
    mkdirSync(join(sb.root, "elsewhere"), { recursive: true });
    symlinkSync(join(sb.root, "elsewhere"), join(sb.project, "link-out"));
    const r = await call(sb, tool, input(sb));
    expect(r.decision).toBe("deny");
    expect((r as { reason: string }).reason).toMatch(/contained mode: .* outside the project/);
  });

  it.each([
    (sb: Sandbox) => join(sb.project, "src/new.ts"),
    () => "notes/todo.md",
    (sb: Sandbox) => join(sb.home, ".claude/CLAUDE.md"),
    (sb: Sandbox) => join(sb.home, ".claude/projects/-work-proj/memory/MEMORY.md"),
  ])("lets a write through: %s", async (path) => {
    const sb = setup(true);
    expect((await call(sb, "Write", write(path(sb)))).decision).toBe("none");
  });

  it("a trusted layer's contained_writable is writable; an untrusted project cannot add one", async () => {
    const sb = setup(true, "version: 1\nsettings: { contained_writable: [~/scratch] }\nservices: {}\n");
    expect((await call(sb, "Write", write(join(sb.home, "scratch/a.txt")))).decision).toBe("none");
    const sb2 = setup(true);
    sb2.write(
      "project/.claude/downscoping.yaml",
      "version: 1\nsettings: { contained_writable: [~/scratch] }\nservices: {}\n",
    );
    expect((await call(sb2, "Write", write(join(sb2.home, "scratch/a.txt")))).decision).toBe("deny");
  });

  it("control: in default mode a write outside the project is not the hook's to refuse", async () => {
    const sb = setup(false);
    expect((await call(sb, "Write", write(join(sb.home, ".local/bin/git")))).decision).toBe("none");
  });
});

describe("contained: credential variables the sandbox does not keep out", () => {
  it("denies every Bash command while one is present, naming it", async () => {
    const sb = setup(true);
    const r = await call(sb, "Bash", { command: "ls" }, { MY_GH_PAT: "ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(r.decision).toBe("deny");
    expect((r as { reason: string }).reason).toMatch(/MY_GH_PAT holds a credential and is not kept out of the sandbox/);
    expect((r as { reason: string }).reason).not.toContain("ghp_b");
  });

  it("passes once install kept it out, and a known name never blocks", async () => {
    const sb = setup(true, undefined, [...CREDENTIAL_ENV, "MY_GH_PAT"]);
    const r = await call(
      sb,
      "Bash",
      { command: "ls" },
      {
        MY_GH_PAT: "ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        GH_TOKEN: "x",
      },
    );
    expect(r.decision).toBe("none");
  });

  it("control: in default mode the same variable blocks nothing", async () => {
    const sb = setup(false);
    const r = await call(sb, "Bash", { command: "ls" }, { MY_GH_PAT: "ghp_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(r.decision).toBe("none");
  });
});

describe("contained: a slot's token under an innocent name (session-start recognises it by its value)", () => {
  it("is recorded for the session, and the hook then blocks that session's commands, naming it", async () => {
    const { runCli } = await import("../helpers/run-cli.js");
    const token = "plain-looking-slot-value-31337";
    const sb = setup(
      true,
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { file: ~/.config/downscope/slots/ro } }\n    default_slot: ro\n",
      [...CREDENTIAL_ENV],
    );
    sb.write("home/.config/downscope/slots/ro", `${token}\n`, 0o600);
    const envFile = sb.write("envfile", "");
    const env = { ...sb.env, CLAUDE_ENV_FILE: envFile, BUILD_CACHE_KEY_X: token, CLAUDE_PROJECT_DIR: sb.project };
    const r = await runCli(["session-start"], {
      env,
      cwd: sb.project,
      stdin: JSON.stringify({ session_id: "s-1", hook_event_name: "SessionStart" }),
    });
    expect(r.code, r.stderr).toBe(0);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(envFile, "utf8")).toMatch(/unset .*BUILD_CACHE_KEY_X/);
    const deny = await answerPayload(
      { tool_name: "Bash", tool_input: { command: "ls" }, cwd: sb.project, session_id: "s-1" },
      { env, cwd: sb.project },
    );
    expect(deny.decision).toBe("deny");
    expect((deny as { reason: string }).reason).toMatch(/BUILD_CACHE_KEY_X holds a credential/);
    expect((deny as { reason: string }).reason).not.toContain(token);
    // Another session, or the variable gone: no block.
    const other = await answerPayload(
      { tool_name: "Bash", tool_input: { command: "ls" }, cwd: sb.project, session_id: "s-2" },
      { env, cwd: sb.project },
    );
    expect(other.decision).toBe("none");
    const gone = { ...env };
    delete (gone as Record<string, string | undefined>).BUILD_CACHE_KEY_X;
    const after = await answerPayload(
      { tool_name: "Bash", tool_input: { command: "ls" }, cwd: sb.project, session_id: "s-1" },
      { env: gone, cwd: sb.project },
    );
    expect(after.decision).toBe("none");
  });
});
