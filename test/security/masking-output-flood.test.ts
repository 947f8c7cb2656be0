/**
 * Bypass: Claude Code shows a tool's output as it was when the PostToolUse
 * hook times out or fails, so an agent that wants a secret through makes the
 * output too large or too slow to mask (a huge file with the token at the
 * end). Fix: the hook never runs into Claude Code's timeout: an output over
 * 32 MiB is withheld without scanning, and masking checks its own deadline
 * (settings.hook_deadline_ms, 4 s by default, below the 10 s timeout) between
 * steps and withholds the output when it passes (src/hook/post-tool-use.ts).
 * Proves: with the built hook, a large output under a short deadline comes
 * back withheld (shape kept), not unmasked, and the process ends normally.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";

const ROOT = join(import.meta.dirname, "..", "..");
const PAT = ["gh", "p_", "Flood0utput1s2Withheld3Not4Passed5On6"].join("");

describe("an output too large or slow to mask is withheld", () => {
  it("past the deadline: withheld, not passed on", () => {
    const sb = sandbox();
    sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), "version: 1\nservices: {}\n");
    // Many keyword hits make every rule work; the token sits at the very end.
    const stdout = `${"AKIA token ghp_ xoxb- ey sk_live_ aiza ".repeat(400_000)}${PAT}`;
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "downscope.js"), "post-tool-use"], {
      input: JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Bash",
        tool_input: { command: "cat big" },
        tool_response: { stdout, stderr: "", interrupted: false, isImage: false },
      }),
      env: { ...sb.env, DOWNSCOPE_HOOK_DEADLINE_MS: "100" },
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain(PAT);
    const out = JSON.parse(r.stdout).hookSpecificOutput.updatedToolOutput;
    expect(out.stdout).toMatch(
      /^downscope could not check this output for secrets \(masking did not finish within the hook's deadline\)/,
    );
    expect(out.isImage).toBe(false);
  });
});
