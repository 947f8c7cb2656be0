/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * Escape tests of Claude Code's own sandbox (bubblewrap + seccomp on Linux),
 * with the real CLI and no network: each test runs one session that plays
 * several scripted tool calls and checks what the model saw. Copy this file,
 * sandbox-claude.ts and fake-anthropic-multi.ts into test/e2e/.
 *
 * Each sandbox setting contained mode relies on is proven here against the
 * real sandbox; test/e2e/contained.test.ts then runs downscope's own
 * `install claude --contain` settings against escape attempts. Needs
 * bubblewrap and socat (.ci/install-system-deps installs them): without them
 * these tests fail, saying so, rather than skip. Ubuntu 24.04 runners need
 * `sysctl kernel.apparmor_restrict_unprivileged_userns=0` for bwrap.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureClaude } from "./claude-cli.js";
import { runClaudeSandboxed, type SandboxRun, type SandboxRunOptions } from "./sandbox-claude.js";

const bwrapWorks =
  process.platform === "linux" &&
  spawnSync("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--proc", "/proc", "true"]).status ===
    0 &&
  spawnSync("socat", ["-V"]).status === 0;
let claude = "";
beforeAll(() => {
  if (!bwrapWorks)
    throw new Error(
      "bubblewrap or socat cannot run here, so Claude Code's sandbox cannot start: install them (apt install bubblewrap socat; .ci/install-system-deps does)",
    );
  claude = ensureClaude();
});
const runs: SandboxRun[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
});

const DS_DIRS = ["~/.config/downscope", "~/.local/state/downscope", "~/.cache/downscope", "~/.local/share/downscope"];
/**
 * The sandbox part of what a contained install would write. Bash escape tests
 * use it alone: with the permission rules of contained() on top, Claude Code
 * already refuses a Bash command that names a denied path (a text check), and
 * the test would pass without ever reaching the sandbox.
 */
function sandboxOnly(extra: { excluded?: string[]; denyEnv?: string[] } = {}) {
  return {
    sandbox: {
      enabled: true,
      failIfUnavailable: true,
      allowUnsandboxedCommands: false,
      ...(extra.excluded ? { excludedCommands: extra.excluded } : {}),
      filesystem: {
        denyRead: ["~/.aws", "~/.config/gh", "~/.netrc", "~/.docker/config.json"],
        denyWrite: [...DS_DIRS, "~/.claude"],
      },
      ...(extra.denyEnv ? { credentials: { envVars: extra.denyEnv.map((name) => ({ name, mode: "deny" })) } } : {}),
    },
  };
}

/** The sandbox plus the permission rules the file tools need (they do not run in the sandbox). */
function contained(extra: { excluded?: string[]; denyEnv?: string[] } = {}) {
  return {
    ...sandboxOnly(extra),
    permissions: {
      deny: [
        ...DS_DIRS.map((d) => `Edit(${d}/**)`),
        "Edit(~/.claude/**)",
        "Edit(./.claude/**)",
        ...["~/.aws", "~/.config/gh"].map((d) => `Read(${d}/**)`),
        "Read(~/.netrc)",
        "Read(~/.docker/config.json)",
      ],
    },
  };
}

function put(path: string, text: string, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
}

/** Credentials and downscope files in the fresh HOME, a stub downscope-exec in root/bin. */
function seed({ root, home }: { root: string; home: string }) {
  put(join(home, ".aws/credentials"), "AWS-SECRET\n");
  put(join(home, ".config/gh/hosts.yml"), "GH-SECRET\n");
  put(join(home, ".netrc"), "NETRC-SECRET\n");
  put(join(home, ".docker/config.json"), "DOCKER-SECRET\n");
  for (const d of DS_DIRS) put(join(home, d.slice(2), "file"), "ORIG\n");
  put(
    join(root, "bin/downscope-exec"),
    `#!/bin/sh\necho "[stub $(grep Seccomp: /proc/self/status | tr -d '\\t')] GH_TOKEN_RO=\${GH_TOKEN_RO:-unset} args: $*"\n`,
    0o755,
  );
}

async function run(o: Omit<SandboxRunOptions, "claude"> & { allowDenials?: boolean }) {
  const r = await runClaudeSandboxed({
    claude,
    ...o,
    setup: async (t) => {
      seed(t);
      await o.setup?.(t);
    },
  });
  runs.push(r);
  expect(r.code, `claude exited ${r.code}: ${r.stderr}`).toBe(0);
  expect(r.toolResults, JSON.stringify(r.toolResults)).toHaveLength(o.commands.length);
  // A permission denial means the command never reached the sandbox.
  if (!o.allowDenials) expect(r.permissionDenials).toEqual([]);
  return r;
}

const EXEC = "@ROOT@/bin/downscope-exec";
const SECRETS = /AWS-SECRET|GH-SECRET|NETRC-SECRET|DOCKER-SECRET/;

describe("Claude Code's sandbox, as downscope's contained mode sets it", () => {
  it("is in force: seccomp on, home read-only, the project writable", async () => {
    const r = await run({
      settings: sandboxOnly(),
      commands: ["grep Seccomp: /proc/self/status", "touch ~/x", "echo ok > inproject.txt && cat inproject.txt"],
    });
    expect(r.toolResults[0]).toMatch(/Seccomp:\s+2/);
    expect(r.toolResults[1]).toContain("Read-only file system");
    expect(r.toolResults[2]).toContain("ok");
  });

  it("denyRead hides credential directories and files from every way of reading them", async () => {
    const r = await run({
      settings: sandboxOnly(),
      commands: [
        "cat ~/.aws/credentials",
        `python3 -c "print(open('$HOME/.aws/credentials').read())"`,
        "ls -la ~/.aws ~/.config/gh",
        "ln -s ~/.aws/credentials link; cat link; ln -s ~/.aws d; cat d/credentials",
        "cat /proc/self/root$HOME/.aws/credentials",
        "ln ~/.aws/credentials hard; cat hard",
        "cp -r ~/.aws copy; cat copy/credentials; tar cf - -C ~ .aws | tar xOf -",
        "cat ~/.netrc ~/.docker/config.json ~/.config/gh/hosts.yml",
      ],
    });
    for (const t of r.toolResults) expect(t).not.toMatch(SECRETS);
  });

  it("downscope's own directories cannot be written, removed or renamed", async () => {
    const r = await run({
      settings: sandboxOnly(),
      commands: DS_DIRS.map(
        (d) =>
          `echo x >> ${d}/file; rm -f ${d}/file; mv ${d} ${d}.old; python3 -c "open('${d.replace("~", "$HOME")}/new','w')"`,
      ),
    });
    for (const t of r.toolResults) expect(t).toContain("Read-only file system");
    for (const d of DS_DIRS) expect(readFileSync(join(r.home, d.slice(2), "file"), "utf8")).toBe("ORIG\n");
  });

  it("the project's .claude settings and .mcp.json cannot be created or changed, even when absent", async () => {
    const r = await run({
      settings: sandboxOnly(),
      // Claude Code refuses some of these itself (a permission denial), the sandbox the rest.
      allowDenials: true,
      commands: [
        "mkdir -p .claude; echo '{}' > .claude/settings.local.json", // refused by Claude Code's own check
        // the same, hidden from that text check: only the sandbox stops these
        "D=.cl; D=${D}aude; mkdir -p $D; echo '{}' > $D/settings.local.json",
        "D=.cl; D=${D}aude; echo '{}' > $D/settings.json",
        "python3 -c \"open('.cl'+'aude/settings.local.json','w').write('{}')\"",
        "F=.mc; echo '{}' > ${F}p.json",
      ],
    });
    expect(r.toolResults[0]).toMatch(/denied|require approval/);
    for (const t of r.toolResults.slice(1)) expect(t).toMatch(/Permission denied|Read-only/);
    for (const f of [".claude/settings.json", ".claude/settings.local.json", ".mcp.json"])
      expect(existsSync(join(r.project, f)) ? readFileSync(join(r.project, f), "utf8") : "").toBe("");
  });

  it("dangerouslyDisableSandbox is ignored", async () => {
    const r = await run({
      settings: sandboxOnly(),
      commands: [
        {
          tool: "Bash",
          input: {
            command: "cat ~/.aws/credentials; grep Seccomp: /proc/self/status",
            dangerouslyDisableSandbox: true,
          },
        },
      ],
    });
    expect(r.toolResults[0]).not.toMatch(SECRETS);
    expect(r.toolResults[0]).toMatch(/Seccomp:\s+2/);
  });

  it("credentials.envVars deny removes a slot source from sandboxed commands, not from an excluded downscope-exec", async () => {
    const r = await run({
      settings: sandboxOnly({ excluded: [`${EXEC} *`], denyEnv: ["GH_TOKEN_RO"] }),
      env: { GH_TOKEN_RO: "ghp-ro-secret" },
      commands: [
        "env | grep GH_TOKEN_RO; grep -l ghp-ro-secret /proc/*/environ 2>/dev/null; true",
        `${EXEC} gh pr list`,
      ],
    });
    expect(r.toolResults[0]).not.toContain("ghp-ro-secret");
    expect(r.toolResults[1]).toContain("GH_TOKEN_RO=ghp-ro-secret");
    expect(r.toolResults[1]).toMatch(/Seccomp:0/);
  });

  it("excludedCommands takes only a lone call out of the sandbox: chains, substitutions, redirects and env prefixes stay in", async () => {
    const r = await run({
      settings: sandboxOnly({ excluded: [`${EXEC} *`] }),
      commands: [
        `${EXEC} gh pr list`,
        `${EXEC} x && cat ~/.aws/credentials`,
        `${EXEC} $(cat ~/.aws/credentials)`,
        `${EXEC} x | cat ~/.aws/credentials`,
        `${EXEC} x > out.txt; cat out.txt`,
        `FOO=1 ${EXEC} x`,
        "downscope-exec x",
      ],
    });
    expect(r.toolResults[0]).toMatch(/Seccomp:0/);
    for (const t of r.toolResults.slice(1)) {
      expect(t).not.toMatch(SECRETS);
      expect(t).not.toMatch(/Seccomp:0/);
    }
  });

  it("file tools obey the Edit(...)/Read(...) deny rules (the sandbox does not cover them)", async () => {
    const r = await run({
      settings: contained(),
      allowedTools: ["Bash", "Read", "Edit", "Write"],
      allowDenials: true,
      commands: [
        { tool: "Read", input: { file_path: "@HOME@/.aws/credentials" } },
        { tool: "Write", input: { file_path: "@HOME@/.config/downscope/new.yaml", content: "EVIL" } },
        { tool: "Write", input: { file_path: "@PROJECT@/.claude/settings.local.json", content: "{}" } },
      ],
    });
    for (const t of r.toolResults) expect(t).toContain("denied by your permission settings");
    expect(r.permissionDenials.map((d: any) => d.tool_name)).toEqual(["Read", "Write", "Write"]);
  });

  it("without Edit(...) rules the file tools ignore the sandbox's denyWrite and denyRead", async () => {
    const r = await run({
      settings: sandboxOnly(),
      allowedTools: ["Bash", "Read", "Edit"],
      commands: [
        { tool: "Read", input: { file_path: "@HOME@/.aws/credentials" } },
        { tool: "Read", input: { file_path: "@HOME@/.config/downscope/file" } },
        { tool: "Edit", input: { file_path: "@HOME@/.config/downscope/file", old_string: "ORIG", new_string: "EVIL" } },
      ],
    });
    expect(r.toolResults[0]).toContain("AWS-SECRET");
    expect(readFileSync(join(r.home, ".config/downscope/file"), "utf8")).toBe("EVIL\n");
  });

  it("the permission rules also refuse Bash commands that name a denied path (a text check; the sandbox is the boundary)", async () => {
    const r = await run({
      settings: contained(),
      allowDenials: true,
      commands: ["cat ~/.aws/credentials", "echo x > ~/.config/downscope/file", "cat ~/.a''ws/credentials"],
    });
    expect(r.toolResults[0]).toMatch(/has been denied/);
    expect(r.toolResults[1]).toMatch(/has been denied/);
    expect(r.toolResults[2]).not.toMatch(SECRETS);
  });

  it("Unix sockets and the host's loopback are out of reach", async () => {
    const r = await run({
      settings: sandboxOnly(),
      commands: [
        `python3 -c "import socket; socket.socket(socket.AF_UNIX)"`,
        `python3 -c "import socket; socket.create_connection(('127.0.0.1', 22), 2)"`,
      ],
    });
    expect(r.toolResults[0]).toContain("Operation not permitted");
    expect(r.toolResults[1]).toMatch(/refused|unreachable|timed out/i);
  });

  it("KNOWN HAZARD: project settings can switch off a sandbox that user settings turn on, but not one from --settings", async () => {
    const loosen = { sandbox: { enabled: false } };
    const viaUser = await run({
      settings: sandboxOnly(),
      projectSettings: loosen,
      commands: ["cat ~/.aws/credentials"],
    });
    expect(viaUser.toolResults[0]).toContain("AWS-SECRET"); // flip this when Claude Code fixes it
    const viaFlag = await run({
      flagSettings: sandboxOnly(),
      projectSettings: loosen,
      commands: ["cat ~/.aws/credentials"],
    });
    expect(viaFlag.toolResults[0]).not.toMatch(SECRETS);
  });
});
