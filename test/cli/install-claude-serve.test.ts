/**
 * `install claude --serve` (src/cli/install-claude-serve.ts): the http hook
 * with onFailure "block" and the ensure hook beside it, the settings file made
 * private, the key never in a diff, the service started; what it refuses; and
 * the way back (reinstall without --serve, uninstall) stops the service and
 * gives back the exact bytes. Also the SessionStart hook's part: it starts the
 * service, and tells the user when it cannot.
 */
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readServeConfig } from "../../src/serve/config.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const EXISTING = `{
    "model": "opus",
    "hooks": { "PreToolUse": [ { "matcher": "Write", "hooks": [ { "type": "command", "command": "my-linter" } ] } ] }
}`;

const used: Sandbox[] = [];
afterEach(async () => {
  for (const sb of used.splice(0)) await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
});

function setup(): Sandbox {
  const sb = sandbox();
  used.push(sb);
  return sb;
}
const cli = (sb: Sandbox, ...argv: string[]) => runCli(argv, { env: sb.env, cwd: sb.project });
const settingsOf = (sb: Sandbox) => join(sb.home, ".claude/settings.json");

describe("downscope install claude --serve", () => {
  it("writes the http hook (onFailure block, the key, the session's variables) and the async ensure hook, privately, and starts the service", async () => {
    const sb = setup();
    const file = sb.write(settingsOf(sb), EXISTING);
    const r = await cli(sb, "install", "claude", "--serve");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/decision service: running on 127\.0\.0\.1:\d+/);
    const config = readServeConfig(sb.env)!;
    const settings = JSON.parse(readFileSync(file, "utf8"));
    expect(settings.model).toBe("opus");
    const [http, ensure] = settings.hooks.PreToolUse[1].hooks;
    expect(settings.hooks.PreToolUse[1].matcher).toBe(
      "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob",
    );
    expect(http).toEqual({
      type: "http",
      url: `http://127.0.0.1:${config.port}/v1/hook/claude/PreToolUse`,
      timeout: 10,
      onFailure: "block",
      headers: expect.objectContaining({
        "X-Downscope-Key": config.key,
        "X-Downscope-Env-HOME": "${HOME}",
        "X-Downscope-Env-PATH": "${PATH}",
        "X-Downscope-Env-DOWNSCOPE-CONFIG": "${DOWNSCOPE_CONFIG}",
      }),
      allowedEnvVars: expect.arrayContaining(["HOME", "PATH", "XDG_CONFIG_HOME", "DOWNSCOPE_CONFIG"]),
    });
    // The URL carries no secret: Claude Code shows it to the model when the hook fails.
    expect(http.url).not.toContain(config.key);
    expect(ensure).toMatchObject({
      type: "command",
      async: true,
      command: expect.stringMatching(/bin\/serve-ensure\.sh$/),
    });
    expect(settings.hooks.SessionStart[0].hooks[0].command).toMatch(/downscope\.js session-start \|\| exit 2$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(sb.home, ".config/downscope/serve.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(sb.home, ".config/downscope/serve.key")).mode & 0o777).toBe(0o600);
    expect((await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout).toMatch(/^running/);
    // Idempotent: the same port and key, the same bytes.
    const once = readFileSync(file, "utf8");
    expect((await cli(sb, "install", "claude", "--serve")).code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(once);
  });

  it("--dry-run writes nothing and never shows the key", async () => {
    const sb = setup();
    await cli(sb, "install", "claude", "--serve");
    const key = readServeConfig(sb.env)!.key;
    await cli(sb, "uninstall", "claude");
    const r = await cli(sb, "install", "claude", "--serve", "--dry-run");
    expect(r.stdout).toContain("X-Downscope-Key");
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).toContain("(the request key in ~/.config/downscope/serve.json)");
  });

  it.each([
    [["--serve", "--scope", "project"], /--serve writes the decision service's request key into your user settings/],
    [["--serve", "--scope", "local"], /--serve writes the decision service's request key into your user settings/],
    [["--serve", "--contain"], /--serve and --contain do not go together/],
  ])("refuses install claude %j", async (args, message) => {
    const sb = setup();
    const r = await cli(sb, "install", "claude", ...args);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
    expect(readServeConfig(sb.env)).toBeUndefined();
  });

  it("back to the process hook: a reinstall without --serve, or uninstall, stops the service; uninstall gives back the bytes", async () => {
    const sb = setup();
    const file = sb.write(settingsOf(sb), EXISTING);
    await cli(sb, "install", "claude", "--serve");
    const back = await cli(sb, "install", "claude");
    expect(back.stderr).toMatch(/decision service is stopped/);
    const pre = JSON.parse(readFileSync(file, "utf8")).hooks.PreToolUse[1].hooks;
    expect(pre).toEqual([
      {
        type: "command",
        command: expect.stringMatching(/downscope\.js hook \|\| exit 2$/),
        timeout: 10,
        onFailure: "block",
      },
    ]);
    expect((await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout).toMatch(/^not running/);
    await cli(sb, "install", "claude", "--serve");
    const un = await cli(sb, "uninstall", "claude");
    expect(un.code).toBe(0);
    expect(un.stderr).toMatch(/decision service is stopped/);
    expect(readFileSync(file, "utf8")).toBe(EXISTING);
  });
});

describe("downscope session-start with the service set up", () => {
  it("starts the service when it is not running", async () => {
    const sb = setup();
    await cli(sb, "install", "claude", "--serve");
    await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
    const r = await runCli(["session-start"], {
      env: { ...sb.env, CLAUDE_ENV_FILE: join(sb.root, "env") },
      cwd: sb.project,
      stdin: "{}",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect((await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout).toMatch(/^running/);
  });

  it("tells the user (systemMessage) when another program holds the port, and still exits 0", async () => {
    const sb = setup();
    await cli(sb, "install", "claude", "--serve");
    await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
    const other = createServer((_q, res) => res.end("{}")).listen(readServeConfig(sb.env)!.port, "127.0.0.1");
    await new Promise((r) => other.once("listening", r));
    try {
      const r = await runCli(["session-start"], {
        env: { ...sb.env, CLAUDE_ENV_FILE: join(sb.root, "env") },
        cwd: sb.project,
        stdin: "{}",
      });
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { systemMessage: string };
      expect(out.systemMessage).toMatch(/held by another program.*blocks every tool call/s);
    } finally {
      other.close();
    }
  });
});
