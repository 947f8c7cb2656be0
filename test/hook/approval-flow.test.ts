/*
 * Bypass: an approved review command is a plain string; the agent could run
 * it again, or with other arguments, or write DOWNSCOPE_APPROVAL itself.
 * Fix: the hook binds a single-use, expiring approval to the exact argv and
 * the real downscope-exec consumes it. Proves: the rewritten command the
 * human approves runs once through the real wrapper; the same command again,
 * a changed argv, or an agent-written approval do not reach gh.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("review approval: hook → human → downscope-exec", () => {
  it("the approved command runs exactly once, for exactly that argv", async () => {
    if (!existsSync(join(root, "dist", "downscope-exec.cjs")))
      throw new Error("dist/ is missing: run `npm run build` (npm test does) first");
    const sb = sandbox();
    const log = join(sb.root, "gh.log");
    const gh = sb.write("bin/gh", `#!/bin/sh\necho "gh $* token=$GH_TOKEN" >> '${log}'\n`);
    chmodSync(gh, 0o755);
    sb.write(
      "etc/downscope/config.yaml",
      `version: 1
services:
  gh:
    binary_path: ${gh}
    token_slots: { ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN } }
    default_slot: ro
    rules:
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`,
    );
    const env = { ...sb.env, GH_TOKEN_RO: "fake-gh-token-ro-123", PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const hook = await runCli(["hook"], {
      env,
      cwd: sb.project,
      stdin: JSON.stringify({ tool_name: "Bash", tool_input: { command: "gh pr merge 12" }, cwd: sb.project }),
    });
    const out = JSON.parse(hook.stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe("ask");
    const approved: string = out.updatedInput.command;
    const sh = (command: string) => spawnSync("/bin/sh", ["-c", command], { cwd: sb.project, env, encoding: "utf8" });
    const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);

    // Claude Code runs the approved command.
    expect(sh(approved).status).toBe(0);
    expect(calls()).toEqual(["gh pr merge 12 token=fake-gh-token-ro-123"]);
    // Again: the approval was used up.
    const again = sh(approved);
    expect(again.status).toBe(77);
    expect(calls()).toHaveLength(1);
    // A fresh approval does not stretch to other arguments.
    const hook2 = await runCli(["hook"], {
      env,
      cwd: sb.project,
      stdin: JSON.stringify({ tool_name: "Bash", tool_input: { command: "gh pr merge 12" }, cwd: sb.project }),
    });
    const other = (JSON.parse(hook2.stdout).hookSpecificOutput.updatedInput.command as string).replace(
      "merge 12",
      "merge 13 --admin",
    );
    expect(sh(other).status).toBe(77);
    expect(calls()).toHaveLength(1);
    // Without the hook's approval, the wrapper refuses the review command.
    expect(sh(`${join(root, "bin", "downscope-exec.js")} gh pr merge 12`).status).toBe(77);
    expect(calls()).toHaveLength(1);
  });
});
