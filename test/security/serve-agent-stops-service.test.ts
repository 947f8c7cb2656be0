/**
 * Bypass: with `install claude --serve`, the decision service decides every
 * tool call. An eager agent could stop it (`pkill -f downscope`, `downscope
 * serve --stop`, from a python string) — in default mode it runs as the user
 * and can signal the user's processes — and then read its own tool calls'
 * payloads by answering on the port, or simply run with the hook gone.
 * Fix: the hook's self-protection (src/hook/self-protect.ts) denies `serve` as
 * a management command however spelled, and kill/pkill/killall naming
 * downscope or its keeper. This is default mode's casual level: a pid read at
 * run time is not seen (contained mode: the sandbox cannot signal host
 * processes, test/e2e/serve-claude.test.ts). Stopping it blocks the session's
 * calls (fail closed) until the ensure hook starts it again.
 * Proves: each spelling is denied through the process hook and the service.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { claudePayload, HOOK_PATH, hookHeaders, post, testService, writeUserPolicy } from "../serve/service-fixture.js";

const SPELLINGS = [
  "pkill -f downscope",
  "pkill -9 -f downscope-serve",
  "killall downscope-serve",
  "pkill -f serve-keeper.sh",
  "downscope serve --stop",
  "downscope serve --restart",
  "npx downscope serve --stop",
  `python3 -c "import os; os.system('downscope serve --stop')"`,
  "bash -c 'pkill -f downscope'",
];

describe("the agent stopping the decision service", () => {
  it.each(SPELLINGS)("%s is denied", async (command) => {
    const sb = sandbox();
    writeUserPolicy(sb, "version: 1\nservices: {}\n");
    const s = await testService(sb);
    const payload = claudePayload(sb, "Bash", { command });
    const viaProcess = await runCli(["hook"], {
      env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project },
      cwd: sb.project,
      stdin: payload,
    });
    const viaService = await post(s.port, HOOK_PATH, payload, hookHeaders(s.key, sb.env));
    for (const out of [viaProcess.stdout, viaService.body]) expect(out).toMatch(/"permissionDecision":"deny"/);
  });

  it("pgrep and a plain kill of a pid pass (reading is not stopping; a pid read at run time is not seen)", async () => {
    const sb = sandbox();
    writeUserPolicy(sb, "version: 1\nservices: {}\n");
    for (const command of ["pgrep -f downscope", "kill 12345"]) {
      const r = await runCli(["hook"], { env: sb.env, cwd: sb.project, stdin: claudePayload(sb, "Bash", { command }) });
      expect(r.stdout).toBe("");
    }
  });
});
