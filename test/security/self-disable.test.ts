/**
 * Bypass: the agent switches downscope off from inside the session — runs
 * `downscope trust` on its own widened policy, uninstalls the hooks, deletes
 * the trust store or the user layer, edits Claude Code's settings with the
 * file tools (issue 13). Fix: the hook denies downscope's management commands
 * however spelled, and writes to downscope's files and hook settings by Bash
 * or by Write/Edit/MultiEdit/NotebookEdit (src/hook/self-protect.ts,
 * protected-paths.ts). Proves: each attempt below is denied with a reason that
 * tells the model to ask the user, and the everyday commands beside them pass.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

function setup(): Sandbox {
  const sb = sandbox();
  sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
  return sb;
}

async function bash(sb: Sandbox, command: string) {
  const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project };
  return answerPayload({ tool_name: "Bash", tool_input: { command }, cwd: sb.project }, { env, cwd: sb.project });
}

async function file(sb: Sandbox, tool: string, input: Record<string, unknown>) {
  const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project };
  return answerPayload({ tool_name: tool, tool_input: input, cwd: sb.project }, { env, cwd: sb.project });
}

const DENIED_COMMANDS = [
  // management commands, every spelling the hook can see
  "downscope trust",
  "downscope untrust",
  "downscope trust .claude/downscoping.yaml",
  "downscope uninstall claude",
  "downscope install claude --scope local",
  "downscope install aws --profile x --source-profile default",
  "downscope uninstall mcp --server fs",
  "downscope shims install --repin",
  "downscope init --template developer --force",
  "downscope slot set org-write",
  "downscope session-start",
  "echo '{}' | downscope hook",
  "downscope credential-process --rule admin",
  "npx downscope trust",
  "npx -y downscope@0.1.0 trust",
  "npm exec -- downscope trust",
  "pnpm dlx downscope trust",
  "node /usr/lib/node_modules/downscope/bin/downscope.js trust",
  "node ./node_modules/downscope/dist/downscope.js uninstall claude",
  "/usr/local/bin/downscope trust",
  "bash -c 'downscope trust'",
  'sh -c "cd . && downscope trust"',
  "eval 'downscope trust'",
  "script -qc 'downscope trust' /dev/null",
  "echo ok; downscope trust",
  "downscope $SUB",
  "python3 -c \"import subprocess; subprocess.run(['downscope', 'trust'])\"",
  // downscope's files
  "rm ~/.local/state/downscope/trusted.json",
  "rm -f $HOME/.local/state/downscope/trusted.json",
  "cp /dev/null ~/.config/downscope/config.yaml",
  "echo 'version: 1' > ~/.config/downscope/config.yaml",
  "tee ~/.config/downscope/config.yaml < /dev/null",
  "rm -rf ~/.config/downscope",
  "rm -rf ~/.config",
  "mv ~/.local/state ~/.local/old",
  "rm -rf ~/.local/share/downscope/shims",
  "rm ~/.local/state/downscope/trust*",
  "rm ~/.config/down*/config.yaml",
  "cd ~/.config/downscope && rm config.yaml",
  // a directory above them, named relative to a `cd` or to the project
  "cd ~ && rm -rf .config",
  "cd && rm -rf .local",
  "cd $HOME && mv .config old-config",
  "cd ${HOME}/.config && rm -rf downscope",
  "pushd ~/.local/state >/dev/null; rm -rf downscope",
  "rm -rf ~",
  "rm -rf $HOME",
  "rm -rf .",
  "rm -rf ../project",
  "sed -i s/deny/allow/ ~/.config/downscope/config.yaml",
  "python3 -c \"open('/x/.config/downscope/config.yaml'.replace('/x', __import__('os').environ['HOME']), 'w')\"",
  "cat ~/.config/downscope/audit.key",
  "cat ~/.config/downscope/slots/org-write",
  // Claude Code's settings
  "echo '{}' > .claude/settings.json",
  "rm .claude/settings.local.json",
  "rm -rf .claude",
  "jq 'del(.hooks)' ~/.claude/settings.json > /tmp/s && mv /tmp/s ~/.claude/settings.json",
  "echo 'export PATH=/usr/bin' >> ~/.claude/session-env/x/sessionstart-hook-0.sh",
];

const PASSING_COMMANDS = [
  "ls -la",
  "npm test",
  "git status && git diff",
  "cat ~/notes.txt",
  "cd ~ && ls",
  "cd .. && git clone https://example.com/x",
  "cp a.txt .",
  "rm -rf build",
  "rm -rf node_modules dist",
  "cd src && rm -rf node_modules",
  "cd /tmp && rm -rf scratch",
  "cd ~ && ls .config",
  "mv src/a.ts .",
  "find . -name '*.tmp' -delete",
  "git rm -r --cached .",
  "cat ~/.config/downscope/config.yaml",
  "grep -n deny ~/.config/downscope/config.yaml",
  "ls ~/.local/state/downscope",
  "cat .claude/settings.json",
  "cat .claude/downscoping.yaml",
  "echo 'version: 1' > .claude/downscoping.yaml",
  "downscope check -- gh pr list",
  "downscope check --json -- gh repo delete o/r",
  "downscope lint",
  "downscope lint ~/.config/downscope/config.yaml",
  "downscope audit --since 1h",
  "downscope audit verify",
  "downscope doctor",
  "downscope test --attacks",
  "downscope schema",
  "downscope --help",
  "downscope trust --help",
  "npx downscope demo",
  "downscope-exec --explain gh pr list",
  "ls ~/.cache/downscope-tests",
];

describe("self-protection: Bash", () => {
  it.each(DENIED_COMMANDS)("denies %s", async (command) => {
    const sb = setup();
    const r = await bash(sb, command);
    expect(r.decision).toBe("deny");
    const reason = (r as { reason: string }).reason;
    expect(reason).toMatch(/user/);
    // The model is told to ask the user, never to run the management command itself.
    expect(reason).toMatch(/ask (the user|them)/);
  });

  it.each(PASSING_COMMANDS)("lets %s through", async (command) => {
    const sb = setup();
    expect((await bash(sb, command)).decision).toBe("none");
  });

  it("holds even when the policy cannot be loaded", async () => {
    const sb = setup();
    sb.write("project/.claude/downscoping.yaml", "version: [\n");
    const r = await bash(sb, "downscope trust");
    expect(r.decision).toBe("deny");
    expect((r as { reason: string }).reason).toMatch(/management command/);
  });
});

describe("deny messages ask for the user", () => {
  /*
   * The eager-model failure: downscope's own message said "run `downscope
   * trust`", and the model did. Proves: the untrusted-policy note now tells
   * the model to ask the user and not to run it itself.
   */
  it("an untrusted project policy's note says to ask the user", async () => {
    const sb = setup();
    sb.write(
      "project/.claude/downscoping.yaml",
      "version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: T, inject_as: GH_TOKEN } }\n    default_slot: ro\n    rules: []\n",
    );
    const r = await runCli(["check", "--", "gh", "pr", "list"], { env: sb.env, cwd: sb.project });
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/not trusted/);
    expect(out).toMatch(/ask them; do not run it yourself/);
  });
});

describe("self-protection: file tools", () => {
  const targets = (sb: Sandbox) => [
    join(sb.home, ".config/downscope/config.yaml"),
    join(sb.home, ".local/state/downscope/trusted.json"),
    join(sb.home, ".claude/settings.json"),
    join(sb.project, ".claude/settings.json"),
    join(sb.project, ".claude/settings.local.json"),
    join(sb.home, ".local/share/downscope/shims/gh"),
  ];

  it.each(["Write", "Edit", "MultiEdit"])("%s of a protected file is denied", async (tool) => {
    const sb = setup();
    for (const t of targets(sb)) {
      const r = await file(sb, tool, { file_path: t, content: "{}", old_string: "a", new_string: "b" });
      expect([t, r.decision]).toEqual([t, "deny"]);
    }
  });

  it("NotebookEdit reads notebook_path", async () => {
    const sb = setup();
    const r = await file(sb, "NotebookEdit", { notebook_path: join(sb.home, ".claude/settings.json"), new_source: "" });
    expect(r.decision).toBe("deny");
  });

  it("a symlink in the project to a protected file is that file", async () => {
    const sb = setup();
    mkdirSync(join(sb.home, ".config/downscope"), { recursive: true });
    writeFileSync(join(sb.home, ".config/downscope/config.yaml"), "version: 1\n");
    symlinkSync(join(sb.home, ".config/downscope"), join(sb.project, "innocent"));
    const r = await file(sb, "Write", { file_path: join(sb.project, "innocent/config.yaml"), content: "" });
    expect(r.decision).toBe("deny");
  });

  it("a relative path is read against the cwd", async () => {
    const sb = setup();
    const r = await file(sb, "Edit", { file_path: ".claude/settings.json", old_string: "a", new_string: "b" });
    expect(r.decision).toBe("deny");
  });

  it("a write tool without a path is denied (cannot be checked)", async () => {
    const sb = setup();
    expect((await file(sb, "Write", { content: "x" })).decision).toBe("deny");
    expect((await file(sb, "Edit", { file_path: 42 })).decision).toBe("deny");
  });

  /*
   * Regression: a managed policy file whose directory is not downscope's own
   * (DOWNSCOPE_MANAGED_CONFIG=<dir>/managed.yaml) protected that whole
   * directory, and every edit below it was denied. Only the file is protected then.
   */
  it("a managed policy outside /etc/downscope protects the file, not its directory", async () => {
    const sb = setup();
    sb.env.DOWNSCOPE_MANAGED_CONFIG = join(sb.root, "managed.yaml");
    expect((await file(sb, "Write", { file_path: join(sb.project, "src/a.ts"), content: "" })).decision).toBe("none");
    expect((await file(sb, "Write", { file_path: join(sb.root, "managed.yaml"), content: "" })).decision).toBe("deny");
  });

  it("other files, the policy itself included, pass untouched", async () => {
    const sb = setup();
    for (const p of [
      join(sb.project, "src/a.ts"),
      join(sb.project, ".claude/downscoping.yaml"),
      join(sb.home, "notes.md"),
    ])
      expect([p, (await file(sb, "Write", { file_path: p, content: "" })).decision]).toEqual([p, "none"]);
    expect((await file(sb, "Read", { file_path: join(sb.home, ".claude/settings.json") })).decision).toBe("none");
  });
});
