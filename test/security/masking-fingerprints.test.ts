/**
 * Bypass: the agent empties or replaces the fingerprints the masking hook
 * finds handed-out credentials by ($XDG_CACHE_HOME/downscope/mask/
 * fingerprints.json), so a credential from a `command:` or keyring slot goes
 * through unmasked; or plants a file of its own there. Fix: the file lives in
 * downscope's cache directory, which the hook protects from Bash and the file
 * tools (and contained mode makes read-only and hidden); a file that is not a
 * private (0600) file of the user is ignored, never trusted; entries that
 * could match ordinary words (under 8 characters) are ignored; it holds keyed
 * fingerprints only, never a value. Proves: the plain writes are denied, a
 * planted group-readable file is not read, and the file holds no value.
 */
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { fingerprintsPath, knownSecrets, rememberSecrets } from "../../src/mask/known-secrets.js";
import { maskText } from "../../src/mask/mask.js";
import { sandbox } from "../helpers/sandbox.js";

const MINTED = "minted-by-a-password-manager-93c1a";

describe("the masking fingerprints", () => {
  it("the agent's plain writes to them are denied", async () => {
    const sb = sandbox();
    sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
    const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project };
    const file = fingerprintsPath(sb.env);
    for (const command of [`echo '{}' > ${file}`, `rm -f ${file}`, "rm -rf ~/.cache/downscope/mask"]) {
      const r = await answerPayload(
        { tool_name: "Bash", tool_input: { command }, cwd: sb.project },
        { env, cwd: sb.project },
      );
      expect([command, r.decision]).toEqual([command, "deny"]);
    }
    const w = await answerPayload(
      { tool_name: "Write", tool_input: { file_path: file, content: "{}" }, cwd: sb.project },
      { env, cwd: sb.project },
    );
    expect(w.decision).toBe("deny");
  });

  it("hold no value, and a file that is not private to the user is not read", () => {
    const sb = sandbox();
    rememberSecrets([MINTED], sb.env);
    const file = fingerprintsPath(sb.env);
    expect(readFileSync(file, "utf8")).not.toContain(MINTED.slice(0, 8));
    expect(maskText(`x ${MINTED}`, knownSecrets(undefined, sb.env))).toBe("x [masked:credential]");
    // Loosened (as a planted file would be): ignored, not trusted.
    chmodSync(file, 0o644);
    expect(maskText(`x ${MINTED}`, knownSecrets(undefined, sb.env))).toBe(`x ${MINTED}`);
    // Entries that would mask ordinary words are ignored even in a private file.
    writeFileSync(file, JSON.stringify({ version: 1, entries: [{ len: 2, roll: 0, mac: "x", at: "" }] }), {
      mode: 0o600,
    });
    chmodSync(file, 0o600);
    expect(maskText("ab ab", knownSecrets(undefined, sb.env))).toBe("ab ab");
    expect(join(file)).toContain("/downscope/mask/");
  });
});
