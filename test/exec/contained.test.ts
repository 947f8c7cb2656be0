/**
 * downscope-exec in contained mode (issue 13): Claude Code runs the hook's
 * rewrite outside its sandbox, so what runs there is held to more than the
 * policy. Proves, with the real wrapper and the real bubblewrap: inside the
 * sandbox (SANDBOX_RUNTIME=1) nothing is handed out and the message says how
 * to run the call; env_var slots and passthrough are refused; it runs only
 * from the project; and the real CLI can write the project but nothing
 * outside it, while it still gets its token.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeContainedState } from "../../src/protection/contained-state.js";
import { execSandbox, runExec } from "./helpers.js";

const TOKEN = "fake-contained-ro-token";

function setup(slot = `{ file: ~/tok, inject_as: GH_TOKEN }`, extra = "") {
  const sb = execSandbox();
  sb.write(join(sb.home, "tok"), `${TOKEN}\n`, 0o600);
  const gh = sb.write(
    "fakebin/gh",
    [
      "#!/bin/sh",
      'echo "token=$GH_TOKEN"',
      'echo inside > "$PWD/written-by-gh" && echo project-write-ok',
      'echo x > "$HOME/pwned" 2>/dev/null',
      `echo y > '${sb.root}/outside' 2>/dev/null`,
      // What the namespace must not show: the slot's token file, the real home, any procfs.
      `cat '${sb.home}/tok' 2>/dev/null && echo READ-SLOT-FILE`,
      `ls -A '${sb.home}' | tr '\\n' ' ' | sed 's/^/home-sees: /'; echo`,
      "test -e /proc/self/environ && echo PROC-VISIBLE",
      "exit 0",
    ].join("\n") + "\n",
    0o755,
  );
  sb.userConfig(
    `version: 1\nservices:\n  gh:\n    binary_path: ${gh}\n    token_slots: { ro: ${slot} }\n    default_slot: ro\n${extra}    rules: []\n`,
  );
  sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
  writeContainedState(sb.env, {
    version: 1,
    settingsFile: join(sb.home, ".claude/settings.json"),
    exec: "/usr/bin/node /x/downscope-exec.js",
    denyRules: [],
  });
  const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project, GITHUB_TOKEN_ORG_WRITE: "fake-env-secret" };
  return { sb, env };
}

describe("downscope-exec, contained", () => {
  it("outside the sandbox: the token reaches gh, gh writes the project and nothing outside it, and sees no home, no /proc", async () => {
    const { sb, env } = setup();
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    // gh printed the slot's token; downscope-exec masks the credential it handed out in its output (ADR-031),
    // which it can only do where the exact token was printed.
    expect(r.stdout).toContain("token=[masked:slot:ro]");
    expect(r.stdout).not.toContain(TOKEN);
    expect(r.stdout).toContain("project-write-ok");
    // The real home is not there: an empty, private one stands in for it, and writes to it vanish with it.
    expect(r.stdout).not.toContain("READ-SLOT-FILE");
    expect(r.stdout).toMatch(/^home-sees: pwned $/m);
    expect(r.stdout).not.toContain("PROC-VISIBLE");
    expect(readFileSync(join(sb.project, "written-by-gh"), "utf8")).toBe("inside\n");
    expect(existsSync(join(sb.home, "pwned"))).toBe(false);
    expect(existsSync(join(sb.root, "outside"))).toBe(false);
  });

  it("inside the sandbox nothing is handed out, and the message says how to run the call", async () => {
    const { sb, env } = setup();
    const r = await runExec(["gh", "pr", "list"], { env: { ...env, SANDBOX_RUNTIME: "1" }, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/inside the sandbox.*Run it as a command of its own/s);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it("an env_var slot is refused (the agent's environment holds it), with how to move it", async () => {
    const { sb, env } = setup("{ env_var: GITHUB_TOKEN_ORG_WRITE, inject_as: GH_TOKEN }");
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(
      /contained mode: slot "ro" reads the environment variable GITHUB_TOKEN_ORG_WRITE.*downscope slot set ro/,
    );
    expect(r.stdout + r.stderr).not.toContain("fake-env-secret");
  });

  it("passthrough of the ambient credential does not apply", async () => {
    const { sb, env } = setup("{ file: ~/missing, inject_as: GH_TOKEN }", "    on_missing_credential: passthrough\n");
    const r = await runExec(["gh", "pr", "list"], { env: { ...env, GH_TOKEN: "fake-ambient" }, cwd: sb.project });
    expect(r.code).toBe(77);
    expect(r.stdout).not.toContain("fake-ambient");
  });

  it("runs only from inside the project", async () => {
    const { sb, env } = setup();
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.home });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/only from inside the project/);
  });
});
