/**
 * With the real Claude Code CLI (pinned in test/e2e/claude/package.json),
 * offline against a scripted Messages API (issue 20, items 5 and 4).
 *
 * 1. A PreToolUse command hook that runs past its `timeout` lets the command
 *    run, unless its entry has `"onFailure": "block"`. downscope's entries
 *    had none. Proves: a hook that hangs with onFailure block blocks the Bash
 *    call; control: the same hook without it lets the call run (so the test
 *    can fail).
 * 2. Default mode: an agent read every credential store in one command and
 *    printed credential variables. Proves, with the hook that `downscope
 *    install claude` writes: `cat ~/.aws/credentials`, `cat` of gh's hosts.yml
 *    spelled through a `cd`, `echo $VAR`, a bare `env` and the Read tool on
 *    hosts.yml are denied and no secret reaches the model or the transcript,
 *    while `ls ~/.aws` and the Read tool on ~/.aws/config still work.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { ensureClaude } from "./claude-cli.js";
import { runClaudeSandboxed } from "./sandbox-claude.js";

let claude = "";
beforeAll(() => {
  claude = ensureClaude();
});

const hanging = (onFailure: boolean) => ({
  hooks: {
    PreToolUse: [
      {
        matcher: "Bash",
        hooks: [{ type: "command", command: "sleep 30", timeout: 2, ...(onFailure ? { onFailure: "block" } : {}) }],
      },
    ],
  },
});

describe("a hook that hangs past its timeout (real Claude Code)", () => {
  for (const onFailure of [true, false])
    it(
      onFailure ? "with onFailure block: the command is blocked" : "control, without it: the command runs",
      async () => {
        const run = await runClaudeSandboxed({
          claude,
          settings: hanging(onFailure),
          commands: ["touch ran-despite-the-hook"],
          timeoutMs: 120_000,
        });
        try {
          expect(run.code, run.stderr).toBe(0);
          expect(existsSync(join(run.project, "ran-despite-the-hook"))).toBe(!onFailure);
        } finally {
          run.cleanup();
        }
      },
      150_000,
    );
});

const SECRETS = {
  aws: "AWS-E2E-STORED-SECRET-1",
  gh: "GH-E2E-STORED-SECRET-2",
  env: "ghp_e2eEnvironmentTokenE2eEnvironment01",
};

describe("default mode: the agent does not casually read credentials (real Claude Code)", () => {
  it("cat, cd-relative reads, echo $VAR, env and the Read tool are denied; listing and config reads work", async () => {
    const run = await runClaudeSandboxed({
      claude,
      allowedTools: ["Bash", "Read"],
      env: { MY_DEPLOY_TOKEN: SECRETS.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
      commands: [
        "cat ~/.aws/credentials",
        "cd ~/.config/gh && cat hosts.yml",
        "echo token=$MY_DEPLOY_TOKEN",
        "env",
        { tool: "Read", input: { file_path: "@HOME@/.config/gh/hosts.yml" } },
        "ls ~/.aws",
        { tool: "Read", input: { file_path: "@HOME@/.aws/config" } },
      ],
      setup: async ({ home, project }) => {
        const put = (p: string, t: string) => {
          mkdirSync(dirname(p), { recursive: true });
          writeFileSync(p, t);
        };
        put(join(home, ".aws/credentials"), `[default]\naws_secret_access_key = ${SECRETS.aws}\n`);
        put(join(home, ".aws/config"), "[default]\nregion = eu-west-1\n");
        put(join(home, ".config/gh/hosts.yml"), `github.com:\n  oauth_token: ${SECRETS.gh}\n`);
        put(join(project, ".claude/downscoping.yaml"), "version: 1\nservices: {}\n");
        const env = {
          HOME: home,
          XDG_CONFIG_HOME: join(home, ".config"),
          XDG_STATE_HOME: join(home, ".local/state"),
          XDG_CACHE_HOME: join(home, ".cache"),
          XDG_DATA_HOME: join(home, ".local/share"),
          PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        };
        const r = await runCli(["install", "claude"], { env, cwd: project });
        expect(r.code, r.stderr).toBe(0);
      },
      timeoutMs: 180_000,
    });
    try {
      expect(run.code, run.stderr).toBe(0);
      expect(run.toolResults).toHaveLength(7);
      const seen = JSON.stringify(run.transcript) + run.stdout;
      for (const [name, value] of Object.entries(SECRETS)) expect([name, seen.includes(value)]).toEqual([name, false]);
      for (let i = 0; i < 5; i++) {
        expect(run.results[i]!.isError).toBe(true);
        expect(run.toolResults[i]).toMatch(/downscope: .*(credential|ask the user)/s);
      }
      expect(run.toolResults[5]).toContain("credentials");
      expect(run.toolResults[6]).toContain("eu-west-1");
    } finally {
      run.cleanup();
    }
  }, 240_000);
});
