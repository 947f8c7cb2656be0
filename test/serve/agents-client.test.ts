/**
 * The sh + curl client (bin/serve-client.sh) that Cursor's and Gemini CLI's
 * hooks can run instead of `downscope hook --agent …`: for recorded payloads of
 * each agent (test/fixtures/agents/), the real script against a real service
 * answers the same stdout and exit code as the process hook, in the same
 * environment and directory. When the service is down it hands the call to the
 * process hook (same answer, nothing blocked); when the service refuses it
 * (a wrong key) or curl is missing, it denies in the agent's own terms.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isServeClientCommand, serveClientCommand } from "../../src/serve/client-command.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { testService, writeUserPolicy } from "./service-fixture.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLIENT = join(ROOT, "bin", "serve-client.sh");
const fixture = (rel: string) =>
  JSON.parse(readFileSync(join(ROOT, "test/fixtures/agents", rel), "utf8")) as Record<string, unknown>;

const POLICY = `version: 1
services:
  gh:
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

type Agent = "cursor" | "gemini";
/** A payload of `agent` running `command`, from a recorded one, with the sandbox's project as its workspace. */
function payload(agent: Agent, kind: string, command: string, sb: Sandbox): string {
  const p = fixture(`${agent}/${kind}.json`);
  const text = JSON.stringify({ ...p, ...(kind === "before-shell-execution" ? { command } : {}) })
    .replaceAll("/work/project", sb.project)
    .replaceAll('"command":"echo hi > a.txt"', `"command":${JSON.stringify(command)}`)
    .replaceAll('"command":"gh pr list"', `"command":${JSON.stringify(command)}`);
  return text;
}

function run(file: string, args: string[], stdin: string, env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const c = spawn(file, args, { env, cwd, stdio: ["pipe", "pipe", "ignore"] });
    let stdout = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    c.on("close", (code) => resolve({ code, stdout }));
    c.stdin.end(stdin);
  });
}

const normalize = (s: string) => s.replace(/DOWNSCOPE_APPROVAL=[A-Za-z0-9_-]+/g, "DOWNSCOPE_APPROVAL=N");

async function setup(): Promise<{ sb: Sandbox; port: number; env: Record<string, string> }> {
  const sb = sandbox();
  writeUserPolicy(sb, POLICY);
  const s = await testService(sb);
  mkdirSync(join(sb.home, ".config/downscope"), { recursive: true });
  writeFileSync(join(sb.home, ".config/downscope/serve.curl"), `header = "X-Downscope-Key: ${s.key}"\n`, {
    mode: 0o600,
  });
  return { sb, port: s.port, env: { ...sb.env, PATH: "/usr/bin:/bin", CLAUDE_PROJECT_DIR: sb.project } };
}

const CASES: [Agent, string, string][] = [];
for (const command of [
  "gh repo delete o/r",
  "gh pr list",
  "ls -la",
  "gh pr merge 12",
  "downscope trust",
  "bash -c 'gh pr list'",
]) {
  CASES.push(
    ["cursor", "pre-tool-use-shell", command],
    ["cursor", "before-shell-execution", command],
    ["gemini", "shell", command],
  );
}

describe("bin/serve-client.sh answers as `downscope hook --agent` does", () => {
  it.each(CASES)("%s %s: %s", async (agent, kind, command) => {
    const { sb, port, env } = await setup();
    const text = payload(agent, kind, command, sb);
    const viaClient = await run(
      CLIENT,
      [agent, String(port), process.execPath, join(ROOT, "bin/downscope.js")],
      text,
      env,
      sb.project,
    );
    const viaProcess = await run(
      process.execPath,
      [join(ROOT, "bin/downscope.js"), "hook", "--agent", agent],
      text,
      env,
      sb.project,
    );
    expect({ code: viaClient.code, out: normalize(viaClient.stdout) }).toEqual({
      code: viaProcess.code,
      out: normalize(viaProcess.stdout),
    });
    // The client's call was decided by the service (this process), not by a fallback process hook.
    if (command.startsWith("gh ")) {
      const pids = readFileSync(join(sb.home, ".local/state/downscope/audit.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { pid: number }).pid);
      expect(pids).toContain(process.pid);
    }
  });

  it("file writes and MCP calls too", async () => {
    const { sb, port, env } = await setup();
    for (const [agent, kind] of [
      ["cursor", "pre-tool-use-write"],
      ["cursor", "before-mcp-execution"],
      ["gemini", "write-file"],
      ["gemini", "mcp"],
    ] as const) {
      const text = JSON.stringify(fixture(`${agent}/${kind}.json`)).replaceAll("/work/project", sb.project);
      const a = await run(
        CLIENT,
        [agent, String(port), process.execPath, join(ROOT, "bin/downscope.js")],
        text,
        env,
        sb.project,
      );
      const b = await run(
        process.execPath,
        [join(ROOT, "bin/downscope.js"), "hook", "--agent", agent],
        text,
        env,
        sb.project,
      );
      expect([kind, a.code, a.stdout]).toEqual([kind, b.code, b.stdout]);
    }
  });
});

describe("when the service cannot answer", () => {
  it("nothing listens: the process hook decides the call (the same answer)", async () => {
    const { sb, env } = await setup();
    const text = payload("gemini", "shell", "gh repo delete o/r", sb);
    const r = await run(
      CLIENT,
      ["gemini", "1", process.execPath, join(ROOT, "bin/downscope.js")],
      text,
      env,
      sb.project,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('denied by rule \\"repo deletion denied\\"');
  });

  it.each([
    ["cursor", 2, /"permission":"deny".*HTTP 401/],
    ["gemini", 0, /"decision":"deny".*HTTP 401/],
  ] as const)("a refused request (wrong key): %s denies in its own terms", async (agent, code, out) => {
    const { sb, port, env } = await setup();
    writeFileSync(join(sb.home, ".config/downscope/serve.curl"), `header = "X-Downscope-Key: ${"A".repeat(43)}"\n`);
    const text = payload(agent, agent === "cursor" ? "before-shell-execution" : "shell", "ls", sb);
    const r = await run(
      CLIENT,
      [agent, String(port), process.execPath, join(ROOT, "bin/downscope.js")],
      text,
      env,
      sb.project,
    );
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(out);
  });

  it("no curl on PATH: deny", async () => {
    const { sb, port, env } = await setup();
    const bin = join(sb.root, "only-cat");
    mkdirSync(bin);
    const { symlinkSync } = await import("node:fs");
    symlinkSync("/bin/cat", join(bin, "cat"));
    const text = payload("cursor", "before-shell-execution", "ls", sb);
    const r = await run(
      CLIENT,
      ["cursor", String(port), process.execPath, join(ROOT, "bin/downscope.js")],
      text,
      { ...env, PATH: bin },
      sb.project,
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/"permission":"deny"/);
  });
});

describe("the hook command line an agent's install writes (src/serve/client-command.ts)", () => {
  it("runs the client through a shell, as Gemini CLI runs its hooks, and is recognised", async () => {
    const { sb, port, env } = await setup();
    const command = serveClientCommand("gemini", { port }, { node: process.execPath, root: ROOT });
    expect(isServeClientCommand(command)).toBe(true);
    expect(isServeClientCommand(serveClientCommand("cursor", { port }, { node: process.execPath, root: ROOT }))).toBe(
      true,
    );
    const r = await run(
      "/bin/sh",
      ["-c", command],
      payload("gemini", "shell", "gh repo delete o/r", sb),
      env,
      sb.project,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("repo deletion denied");
  });
});

describe("the process hook is still what the client falls back to", () => {
  it("runCli hook --agent gemini is the reference the tests above compare with", async () => {
    const { sb, env } = await setup();
    const r = await runCli(["hook", "--agent", "gemini"], {
      env,
      cwd: sb.project,
      stdin: payload("gemini", "shell", "gh repo delete o/r", sb),
    });
    expect(r.stdout).toContain("repo deletion denied");
  });
});
