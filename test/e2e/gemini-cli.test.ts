/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * End to end with the real Gemini CLI and no network: a scripted Gemini API
 * on loopback (test/e2e/fake-gemini.ts) asks for tool calls; Gemini CLI runs
 * `downscope hook --agent gemini` from the project settings that `downscope
 * install gemini --scope project` wrote. `--approval-mode yolo` matters:
 * without it, headless Gemini CLI refuses a shell call by itself and a deny
 * proves nothing; with it, only the hook can stop a call. A fake `gh` first on
 * PATH records every call; downscope-exec (the real one) hands it the scoped token.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";
import { runWithTty } from "../helpers/with-tty.js";
import { startFakeGemini, functionResponses, type FunctionCall } from "./fake-gemini.js";
import { ensureGemini } from "./gemini-cli.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const downscopeBin = join(root, "bin", "downscope.js");

const policy = (ghPath: string) => `version: 1
services:
  gh:
    binary_path: ${ghPath}
    token_slots: { ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN } }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: deleting repositories is not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

let gemini = "";
beforeAll(() => {
  if (!existsSync(join(root, "dist", "downscope.js")))
    throw new Error("dist/downscope.js is missing: run `npm run build` (npm test does) before the end-to-end tests");
  gemini = ensureGemini();
});

const shell = (command: string): FunctionCall => ({
  name: "run_shell_command",
  args: { command, description: "scripted" },
});

async function runGemini(
  calls: FunctionCall[],
  opts: { killAfterMs?: number; files?: Record<string, string>; afterTool?: false } = {},
) {
  const api = await startFakeGemini(calls);
  const sb = sandbox();
  const log = join(sb.root, "gh.log");
  const gh = sb.write(
    "bin/gh",
    `#!/bin/sh\nprintf '%s token=%s depth=%s\\n' "gh $*" "$GH_TOKEN" "$DOWNSCOPE_EXEC_DEPTH" >> '${log}'\necho fake-gh-output\n`,
  );
  chmodSync(gh, 0o755);
  sb.write("home/.config/downscope/config.yaml", policy(gh));
  // Headless auth with an API key; the key only ever reaches the loopback API.
  sb.write("home/.gemini/settings.json", JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }));
  spawnSync("git", ["init", "-q", "."], { cwd: sb.project });
  const env: Record<string, string> = {
    ...sb.env,
    PATH: `${join(sb.root, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`,
    GOOGLE_GEMINI_BASE_URL: api.url,
    GEMINI_API_KEY: "dummy-e2e-key",
    GEMINI_CLI_TRUST_WORKSPACE: "true",
    GH_TOKEN_RO: "fake-gh-token-ro-123",
  };
  // A person installs it, confirming at a terminal.
  const inst = runWithTty(process.execPath, [downscopeBin, "install", "gemini", "--scope", "project"], {
    cwd: sb.project,
    env,
  });
  expect(inst.status, inst.stderr).toBe(0);
  for (const [name, content] of Object.entries(opts.files ?? {})) sb.write(join("project", name), content);
  if (opts.afterTool === false) {
    // The control: the same settings without the masking hook.
    const file = join(sb.project, ".gemini", "settings.json");
    const settings = JSON.parse(readFileSync(file, "utf8"));
    delete settings.hooks.AfterTool;
    sb.write(file, JSON.stringify(settings));
  }
  const args = [
    gemini,
    "-p",
    "run the scripted calls",
    "-m",
    "gemini-2.5-flash",
    "--approval-mode",
    "yolo",
    "--output-format",
    "json",
  ];
  // Its own process group: Gemini CLI relaunches itself in a child node, and a stopped run must take both down.
  const child = spawn(process.execPath, args, {
    cwd: sb.project,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  let killed = false;
  // Never left running: a run that hangs is stopped (and then fails its exit-code check) before the test times out.
  const timer = setTimeout(() => {
    killed = true;
    process.kill(-child.pid!, "SIGKILL");
  }, opts.killAfterMs ?? 40_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  await api.close();
  const ghCalls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  // What the hook decided, from the audit trail it writes for every call that involves a service.
  const auditFile = join(sb.env.XDG_STATE_HOME!, "downscope", "audit.jsonl");
  const hookEvents = existsSync(auditFile)
    ? readFileSync(auditFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e: any) => e.event === "hook")
    : [];
  return { code, killed, stdout, stderr, responses: functionResponses(api), ghCalls, hookEvents, project: sb.project };
}

const text = (r: any) => JSON.stringify(r.response);

describe("Gemini CLI end to end", () => {
  it("a denied command never runs, and the model receives the deny reason", async () => {
    const r = await runGemini([shell("gh repo delete o/r --yes")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ghCalls).toEqual([]);
    expect(r.hookEvents.map((e: any) => e.action)).toEqual(["deny"]);
    expect(r.responses).toHaveLength(1);
    expect(text(r.responses[0])).toContain('denied by rule \\"repo deletion denied\\"');
    expect(text(r.responses[0])).toContain("deleting repositories is not for agents");
  });

  it("an allowed command is rewritten to downscope-exec and gets the scoped token", async () => {
    const r = await runGemini([shell("gh pr list --limit 3")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ghCalls).toEqual(["gh pr list --limit 3 token=fake-gh-token-ro-123 depth=1"]);
    expect(text(r.responses[0])).toContain("fake-gh-output");
    expect(text(r.responses[0])).toContain("modified by a hook");
  });

  // Gemini CLI 0.61.0 headless waits for a confirmation no one can give: the call never runs.
  it("a review command waits for Gemini CLI's confirmation (ask, even in YOLO mode) and never runs unconfirmed", async () => {
    const r = await runGemini([shell("gh pr merge 12")], { killAfterMs: 8000 });
    expect(r.killed).toBe(true);
    // The hook ran and answered ask; Gemini CLI was still waiting for the confirmation when it was stopped.
    expect(r.hookEvents.map((e: any) => [e.action, e.argv])).toEqual([["ask", ["gh pr merge 12"]]]);
    expect(r.ghCalls).toEqual([]);
    expect(r.responses).toEqual([]);
  });

  it("a command that calls no service, and a file write, run untouched", async () => {
    const r = await runGemini([
      shell("echo untouched > out.txt"),
      { name: "write_file", args: { file_path: "written.txt", content: "hello\n" } },
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(r.project, "out.txt"), "utf8")).toBe("untouched\n");
    expect(readFileSync(join(r.project, "written.txt"), "utf8")).toBe("hello\n");
    expect(r.ghCalls).toEqual([]);
  });

  it("the agent cannot switch the hook off: its settings file is not written, downscope uninstall is not run", async () => {
    const r = await runGemini([
      { name: "write_file", args: { file_path: ".gemini/settings.json", content: "{}\n" } },
      shell("downscope uninstall gemini --scope project"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.responses).toHaveLength(2);
    expect(text(r.responses[0])).toContain("only the user may change");
    expect(text(r.responses[1])).toContain("is a downscope management command");
    const settings = JSON.parse(readFileSync(join(r.project, ".gemini", "settings.json"), "utf8"));
    expect(JSON.stringify(settings.hooks.BeforeTool)).toContain("hook --agent gemini");
  });
});

/*
 * Masking (docs/masking.md): Gemini CLI 0.61.0 gives an AfterTool hook no
 * field that replaces a tool's output; a deny replaces it with "Tool result
 * blocked: <reason>". So an output that holds a secret comes back as a failed
 * call whose text is the masked output. Control: without the AfterTool entry,
 * the model gets the secrets.
 */
describe("Gemini CLI masking (AfterTool)", () => {
  const pat = ["gh", "p_", "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc4Vb6N"].join("");
  // The hook denies `echo $GH_TOKEN_RO` itself (test/security/credential-reads.test.ts); a script it
  // cannot read through prints it, and that is what masking is for.
  const calls = [shell("cat notes.txt"), shell("sh show-slot.sh"), shell("gh pr list")];
  const files = { "notes.txt": `ci token: ${pat}\n`, "show-slot.sh": 'echo "slot: $GH_TOKEN_RO"\n' };

  it("no secret reaches the model; the masked output does", async () => {
    const r = await runGemini(calls, { files });
    expect(r.code, r.stderr).toBe(0);
    expect(r.responses).toHaveLength(3);
    const all = JSON.stringify(r.responses);
    expect(all).not.toContain(pat);
    expect(all).not.toContain("fake-gh-token-ro-123");
    expect(text(r.responses[0])).toContain("ci token: [masked:github-pat]");
    expect(text(r.responses[1])).toContain("slot: [masked:slot:ro]");
    // A call with nothing to mask goes through as it was.
    expect(text(r.responses[2])).toContain("fake-gh-output");
    expect(text(r.responses[2])).not.toContain("blocked");
  });

  it("control: without the AfterTool hook the model gets every secret", async () => {
    const r = await runGemini(calls, { files, afterTool: false });
    expect(r.code, r.stderr).toBe(0);
    expect(text(r.responses[0])).toContain(pat);
    expect(text(r.responses[1])).toContain("fake-gh-token-ro-123");
  });
});
