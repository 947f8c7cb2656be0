/**
 * `downscope install claude --contain` (issue 13): writes Claude Code's
 * sandbox settings and the file tools' deny rules into the user settings,
 * records contained mode, and `uninstall claude` gives the file back byte
 * for byte. Proves: the entries the escape tests rely on are written (each is
 * proven against the real sandbox in test/e2e/claude-sandbox.test.ts and
 * contained.test.ts), the refusals, and what doctor then says.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { containedState } from "../../src/protection/contained-state.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const EXISTING = '{\n  "model": "opus",\n  "permissions": {\n    "deny": ["Bash(rm -rf /)"]\n  }\n}\n';

function setup(
  policy = "version: 1\nservices:\n  gh:\n    token_slots: { ro: { file: ~/.config/downscope/slots/ro } }\n    default_slot: ro\n    rules: []\n",
) {
  const sb = sandbox();
  sb.write("home/.config/downscope/config.yaml", policy);
  const settings = sb.write("home/.claude/settings.json", EXISTING);
  return { sb, settings, cli: (...argv: string[]) => runCli(argv, { env: sb.env, cwd: sb.project }) };
}

describe("install claude --contain", () => {
  it("writes the sandbox settings and deny rules, records contained mode, and uninstall restores the file", async () => {
    const { sb, settings, cli } = setup();
    const r = await cli("install", "claude", "--contain");
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(readFileSync(settings, "utf8"));
    expect(s.model).toBe("opus");
    expect(s.sandbox).toMatchObject({ enabled: true, failIfUnavailable: true, allowUnsandboxedCommands: false });
    const exec = `${process.execPath} ${join(import.meta.dirname, "..", "..", "bin", "downscope-exec.js")}`;
    expect(s.sandbox.excludedCommands).toEqual([`${exec} *`]);
    const h = sb.home;
    expect(s.sandbox.filesystem.denyRead).toEqual(
      expect.arrayContaining([
        join(h, ".aws"),
        join(h, ".config/gh"),
        join(h, ".config/gcloud"),
        join(h, ".kube"),
        join(h, ".docker/config.json"),
        join(h, ".netrc"),
        join(h, ".git-credentials"),
        join(h, ".ssh"),
        join(h, ".config/hub"),
        join(h, ".config/downscope/slots"),
        join(h, ".config/downscope/slots/ro"),
        join(h, ".config/downscope/trust.key"),
        join(h, ".cache/downscope"),
      ]),
    );
    expect(s.sandbox.filesystem.denyWrite).toEqual(
      expect.arrayContaining([
        join(h, ".config/downscope"),
        join(h, ".local/state/downscope"),
        join(h, ".cache/downscope"),
        join(h, ".local/share/downscope"),
        join(h, ".claude"),
      ]),
    );
    const vars = s.sandbox.credentials.envVars.map((v: { name: string; mode: string }) => `${v.name}:${v.mode}`);
    expect(vars).toEqual(
      expect.arrayContaining(["GH_TOKEN:deny", "GITHUB_TOKEN:deny", "AWS_SECRET_ACCESS_KEY:deny", "KUBECONFIG:deny"]),
    );
    expect(s.permissions.deny).toEqual(
      expect.arrayContaining([
        "Bash(rm -rf /)",
        "Read(~/.aws/**)",
        "Read(~/.netrc)",
        "Edit(~/.config/downscope/**)",
        "Edit(./.claude/settings.json)",
      ]),
    );
    expect(s.hooks.PreToolUse[0].matcher).toBe("Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob");
    // Directories denied for reading exist before the first session (a denyRead on a path made later misses running commands).
    expect(statSync(join(h, ".aws")).isDirectory()).toBe(true);
    expect(containedState(sb.env)?.settingsFile).toBe(settings);

    const un = await cli("uninstall", "claude");
    expect(un.code, un.stderr).toBe(0);
    expect(readFileSync(settings, "utf8")).toBe(EXISTING);
    expect(containedState(sb.env)).toBeUndefined();
  });

  it("install without --contain after --contain turns containment off and keeps the hooks", async () => {
    const { sb, settings, cli } = setup();
    await cli("install", "claude", "--contain");
    expect((await cli("install", "claude")).code).toBe(0);
    const s = JSON.parse(readFileSync(settings, "utf8"));
    expect(s.sandbox).toBeUndefined();
    expect(s.permissions.deny).toEqual(["Bash(rm -rf /)"]);
    expect(containedState(sb.env)).toBeUndefined();
    expect((await cli("uninstall", "claude")).code).toBe(0);
    expect(readFileSync(settings, "utf8")).toBe(EXISTING);
  });

  it("refuses settings that already have a sandbox of their own, and scopes other than user", async () => {
    const { sb, cli } = setup();
    sb.write("home/.claude/settings.json", '{ "sandbox": { "enabled": true } }\n');
    const r = await cli("install", "claude", "--contain");
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/already has sandbox settings/);
    const p = await cli("install", "claude", "--contain", "--scope", "project");
    expect(p.code).toBe(64);
    expect(p.stderr).toMatch(/--contain writes the sandbox settings into your user settings/);
    expect(existsSync(join(sb.project, ".claude/settings.json"))).toBe(false);
  });

  it("doctor: contained, and an env_var slot is an open road", async () => {
    const { sb, cli } = setup(
      "version: 1\nservices:\n  gh:\n    token_slots: { rw: { env_var: GITHUB_TOKEN_ORG_WRITE } }\n    default_slot: rw\n    rules: []\n",
    );
    const before = await cli("doctor");
    expect(before.stdout).toMatch(/WARN  contained: not contained/);
    await cli("install", "claude", "--contain");
    const d = await cli("doctor");
    expect(d.stdout).toMatch(/ERROR contained: gh slot rw reads \$GITHUB_TOKEN_ORG_WRITE/);
    sb.write("home/.config/downscope/config.yaml", "version: 1\nservices: {}\n");
    const ok = await cli("doctor");
    expect(ok.stdout).toMatch(/ok    contained: contained: Bash runs in Claude Code's sandbox/);
    sb.write("project/.claude/settings.local.json", '{"sandbox":{"enabled":false}}');
    expect((await cli("doctor")).stdout).toMatch(/ERROR contained: .*settings.local.json has a "sandbox" key/);
  });
});
