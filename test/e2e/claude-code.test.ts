/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * End to end with the real Claude Code CLI and no network: a scripted
 * Anthropic Messages API on loopback asks for one Bash command; Claude Code
 * runs `downscope hook` from the project settings that `downscope install
 * claude --scope project` wrote. `--allowedTools Bash` matters: without it
 * `-p` refuses every Bash call by itself and a deny proves nothing; with it,
 * only the hook can stop a command. A fake `gh` first on PATH records every
 * call; downscope-exec (the real one) hands it the scoped token.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";
import { runWithTty } from "../helpers/with-tty.js";
import { ensureClaude } from "./claude-cli.js";
import { startFakeApi } from "./fake-anthropic.js";

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

let claude = "";
beforeAll(() => {
  if (!existsSync(join(root, "dist", "downscope.js")))
    throw new Error("dist/downscope.js is missing: run `npm run build` (npm test does) before the end-to-end tests");
  claude = ensureClaude();
});

async function runClaude(command: string, how: { plugin?: boolean } = {}) {
  const api = await startFakeApi(command);
  const sb = sandbox();
  const log = join(sb.root, "gh.log");
  const gh = sb.write(
    "bin/gh",
    `#!/bin/sh\nprintf '%s token=%s depth=%s\\n' "gh $*" "$GH_TOKEN" "$DOWNSCOPE_EXEC_DEPTH" >> '${log}'\necho fake-gh-output\n`,
  );
  chmodSync(gh, 0o755);
  // The fake gh lives in a temp dir, which downscope-exec never trusts by
  // itself: the trusted user config names it as the real binary.
  sb.write("home/.config/downscope/config.yaml", policy(gh));
  const env: Record<string, string> = {
    ...sb.env,
    PATH: `${join(sb.root, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: "dummy-e2e-key",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    GH_TOKEN_RO: "fake-gh-token-ro-123",
  };
  const args = ["-p", "run the scripted command", "--allowedTools", "Bash", "--output-format", "json"];
  if (how.plugin) args.push("--plugin-dir", root);
  else {
    // A person installs it, confirming at a terminal.
    const inst = runWithTty(process.execPath, [downscopeBin, "install", "claude", "--scope", "project"], {
      cwd: sb.project,
      env,
    });
    expect(inst.status, inst.stderr).toBe(0);
  }
  const child = spawn(claude, args, {
    cwd: sb.project,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  await api.close();
  expect(code, `claude exited ${code}: ${stderr}\n${stdout}`).toBe(0);
  const result = JSON.parse(stdout);
  const main = api.requests.filter(
    (r) => Array.isArray(r.body.tools) && r.body.tools.some((t: any) => t.name === "Bash"),
  );
  const toolResults = main
    .flatMap((r) => r.body.messages ?? [])
    .flatMap((m: any) => (Array.isArray(m.content) ? m.content : []))
    .filter((c: any) => c.type === "tool_result");
  const ghCalls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { result, toolResults, ghCalls, project: sb.project };
}

const text = (r: any) => (typeof r.content === "string" ? r.content : JSON.stringify(r.content));

describe("Claude Code end to end", () => {
  it("a denied command never runs, and the model receives the deny reason", async () => {
    const r = await runClaude("gh repo delete o/r --yes");
    expect(r.ghCalls).toEqual([]);
    expect(r.toolResults).toHaveLength(1);
    expect(r.toolResults[0].is_error).toBe(true);
    expect(text(r.toolResults[0])).toContain('denied by rule "repo deletion denied"');
    expect(text(r.toolResults[0])).toContain("deleting repositories is not for agents");
  });

  it("an allowed command runs through downscope-exec", async () => {
    const r = await runClaude("gh pr list --limit 3");
    // Only downscope-exec sets GH_TOKEN (the agent's environment has GH_TOKEN_RO, the slot's source).
    expect(r.ghCalls).toEqual(["gh pr list --limit 3 token=fake-gh-token-ro-123 depth=1"]);
    expect(text(r.toolResults[0])).toContain("fake-gh-output");
    expect(r.result.permission_denials).toEqual([]);
  });

  it("a review command is not run in -p mode and shows up in permission_denials with its approval-bound rewrite", async () => {
    const r = await runClaude("gh pr merge 12");
    expect(r.ghCalls).toEqual([]);
    expect(r.result.permission_denials).toHaveLength(1);
    expect(r.result.permission_denials[0].tool_input.command).toMatch(
      /^DOWNSCOPE_APPROVAL=[A-Za-z0-9_-]+ \S+downscope-exec\.js gh pr merge 12$/,
    );
    expect(text(r.toolResults[0])).toContain('review required by rule "pr merge needs a human"');
  });

  it("a command that calls no service runs untouched", async () => {
    const r = await runClaude("echo untouched > out.txt");
    expect(readFileSync(join(r.project, "out.txt"), "utf8")).toBe("untouched\n");
    expect(r.ghCalls).toEqual([]);
  });

  it("as a plugin (--plugin-dir, nothing in settings): a denied command never runs", async () => {
    const r = await runClaude("gh repo delete o/r --yes", { plugin: true });
    expect(r.ghCalls).toEqual([]);
    expect(text(r.toolResults[0])).toContain('denied by rule "repo deletion denied"');
  });

  it("as a plugin: an allowed command runs through downscope-exec", async () => {
    const r = await runClaude("gh pr list", { plugin: true });
    expect(r.ghCalls).toEqual(["gh pr list token=fake-gh-token-ro-123 depth=1"]);
  });

  it("the SessionStart PATH line is in force: the shims come first, and a call inside bash -c goes through them", async () => {
    const r = await runClaude(`echo "$PATH" > path.txt; bash -c 'gh pr view 7'`);
    const first = readFileSync(join(r.project, "path.txt"), "utf8").split(":")[0]!;
    expect(existsSync(join(first, ".downscope-shims"))).toBe(true);
    expect(r.ghCalls).toEqual(["gh pr view 7 token=fake-gh-token-ro-123 depth=1"]);
  });

  it("a denied call inside bash -c is refused by the hook before the shims see it", async () => {
    const r = await runClaude(`bash -c 'gh repo delete o/r --yes'`);
    expect(r.ghCalls).toEqual([]);
    expect(text(r.toolResults[0])).toContain('denied by rule "repo deletion denied"');
  });
});
