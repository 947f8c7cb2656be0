// Secret leak through the audit trail. The bug guarded against: a credential
// on the command line, in MCP arguments or in a reason string being written in
// clear to the log (or any other file downscope writes). The fix: every record
// is redacted in recordFields() before it is sealed. This test writes fake
// tokens of every known shape through appendAudit and then searches every file
// under the sandbox for them. (The lead extends it to the hook, exec,
// credential-process and mcp paths after merging.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendAudit } from "../../src/audit/log.js";
import { auditSettingsOf } from "../../src/audit/settings.js";
import { sandbox } from "../helpers/sandbox.js";

const FAKE = {
  gh: "ghp_fake0token0for0tests0only",
  pat: "github_pat_fake0token0for0tests",
  slack: "xoxb-fake-slack-token-for-tests",
  aws: "AKIAFAKE0TEST0ONLY",
  google: "ya29.EXAMPLE-fake-google-token",
  gitlab: "glpat-fake0token0for0tests",
  sk: "sk-fake0token0for0tests",
  flagOnly: "fake-gh-token-ro-123",
  assigned: "fake-aws-secret-456",
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("no secret reaches the audit log", () => {
  it("fake tokens in argv, MCP arguments and reasons appear in no file", () => {
    const sb = sandbox();
    const settings = auditSettingsOf(undefined, sb.env);
    const opts = { env: sb.env, settings };
    appendAudit(
      {
        event: "exec",
        service: "gh",
        argv: ["gh", "api", "-H", `Authorization: token ${FAKE.flagOnly}`, "--token", FAKE.flagOnly, FAKE.gh, FAKE.pat],
        action: "allow",
        reason: `retry with ${FAKE.sk}`,
      },
      opts,
    );
    appendAudit(
      {
        event: "hook",
        argv: ["env", `AWS_SECRET_ACCESS_KEY=${FAKE.assigned}`, "aws", "s3", "ls", `--access-key=${FAKE.aws}`],
        action: "deny",
      },
      opts,
    );
    appendAudit(
      {
        event: "mcp",
        service: "slack",
        tool: "post_message",
        arguments: {
          token: FAKE.slack,
          text: `see ${FAKE.google}`,
          nested: [{ password: "hunter2-fake" }],
          url: `https://x:${FAKE.gitlab}@h/`,
        },
        action: "allow",
      },
      opts,
    );
    appendAudit(
      {
        event: "credential",
        service: "aws",
        argv: ["aws", "s3", "ls"],
        action: "allow",
        fingerprint: "sha256:0123456789ab",
      },
      opts,
    );
    const files = filesUnder(sb.root);
    expect(files.length).toBeGreaterThan(1);
    const log = readFileSync(settings.path, "utf8");
    expect(log.split("\n").filter(Boolean)).toHaveLength(4);
    for (const f of files) {
      const text = readFileSync(f, "utf8");
      for (const secret of [...Object.values(FAKE), "hunter2-fake"])
        expect(text, `${secret} in ${f}`).not.toContain(secret);
    }
  });
});
