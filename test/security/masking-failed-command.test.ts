/**
 * Bypass: Claude Code (2.1.328) sends a command that exits non-zero to
 * PostToolUseFailure, whose text no hook can replace, so an agent that wants
 * a credential in plain text appends `; false` to the command that prints it
 * (`gh api … --verbose; false`). Fix: downscope-exec masks the credentials it
 * handed the command in the command's own output, as it passes, whatever the
 * exit status (src/exec/output-tap.ts, ADR-031). Proves: through bash, as the
 * agent's tool runs it, a service call that prints its token and fails
 * delivers no token — and the same call without downscope-exec (control:
 * the fake gh run directly with the token) does show it.
 */
import { describe, expect, it } from "vitest";
import { EXEC_BIN, execSandbox, run } from "../exec/helpers.js";

const TOKEN = "slot-token-for-the-failed-call-0123456789";

describe("a failed service call does not carry its credential to the model", () => {
  it("downscope-exec masks the handed-out token in the output of a command that then fails", async () => {
    const sb = execSandbox();
    const gh = sb.fake(
      "gh",
      'echo "Authorization: token $GH_TOKEN" >&2; echo "{\\"token\\": \\"$GH_TOKEN\\"}"; exit 1',
    );
    sb.userConfig(
      `version: 1\nservices:\n  gh:\n    binary_path: ${gh}\n    token_slots: { ro: { env_var: GH_RO } }\n    default_slot: ro\n`,
    );
    const env = { ...sb.env, GH_RO: TOKEN };
    const r = await run("/bin/bash", ["-c", `"${process.execPath}" "${EXEC_BIN}" gh api user --verbose; false`], {
      env,
      cwd: sb.project,
    });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(r.stdout).toBe('{"token": "[masked:slot:ro]"}\n');
    expect(r.stderr).toBe("Authorization: token [masked:slot:ro]\n");
    // Control: the same program, given the token without downscope-exec, prints it.
    const direct = await run("/bin/bash", ["-c", `GH_TOKEN=${TOKEN} "${gh}" api user; false`], {
      env,
      cwd: sb.project,
    });
    expect(direct.stdout).toContain(TOKEN);
  });
});
