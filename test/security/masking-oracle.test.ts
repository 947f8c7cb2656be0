/**
 * Bypass: the agent edits the project policy (an untrusted layer) to name a
 * file it cannot read — a key, another user's token file — as a slot source,
 * then prints guesses: whichever comes back `[masked:slot:…]` is the file's
 * content. Masking would answer questions about files the agent may not read.
 * Fix: the masking hook reads slot sources of trusted layers only
 * (src/mask/known-secrets.ts); an untrusted project layer never hands out a
 * credential, so its slots are not secrets downscope knows. Proves: a guess
 * equal to the file's content comes back unmasked while the layer is
 * untrusted, and masked once the same content is a trusted layer's slot
 * (so the check can fail).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const HIDDEN = "the-hidden-file-content-4e1d";

const payload = (stdout: string) =>
  JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "Bash",
    tool_input: { command: `echo ${stdout}` },
    tool_response: { stdout, stderr: "", interrupted: false, isImage: false },
  });

describe("masking is not an oracle for files the agent names", () => {
  it("an untrusted project policy's slot file is never read", async () => {
    const sb = sandbox();
    const file = sb.write("outside/secret", `${HIDDEN}\n`, 0o600);
    const slot = `version: 1\nservices:\n  probe:\n    token_slots: { s: { file: ${file} } }\n    default_slot: s\n`;
    sb.write(join(sb.project, ".claude/downscoping.yaml"), slot);
    const guess = await runCli(["post-tool-use"], { env: sb.env, cwd: sb.project, stdin: payload(HIDDEN) });
    expect(guess).toMatchObject({ code: 0, stdout: "" });
    // Control: the same slot in the trusted user layer is a secret downscope knows.
    sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), slot);
    const trusted = await runCli(["post-tool-use"], { env: sb.env, cwd: sb.project, stdin: payload(HIDDEN) });
    expect(JSON.parse(trusted.stdout).hookSpecificOutput.updatedToolOutput.stdout).toBe("[masked:slot:s]");
  });
});
