/**
 * The process hook and the decision service cannot drift: every command of
 * the hook's command table (test/hook/command-table.ts), and a list of file
 * tool, MCP, self-protection and error payloads, goes through `downscope
 * hook` (stdin → stdout) and through the service (an HTTP POST as Claude
 * Code's http hook sends it), in one sandboxed home, and the two answers must
 * be the same bytes (approval nonces aside, which are random). The process
 * hook gets CLAUDE_PROJECT_DIR as Claude Code gives command hooks; the
 * service must find the same project from the payload alone.
 *
 * So that the two cannot agree by both being broken, the decision each
 * answer carries must also be the one the table expects.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE } from "../hook/command-table.js";
import { TABLE_POLICY } from "../hook/fixture.js";
import { runCli } from "../helpers/run-cli.js";
import type { Sandbox } from "../helpers/sandbox.js";
import {
  claudePayload,
  HOOK_PATH,
  hookHeaders,
  lastingSandbox,
  post,
  testService,
  writeUserPolicy,
} from "./service-fixture.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** Nonces are random: the same approval has another one on each path. */
const normalize = (s: string) =>
  s
    .replace(/DOWNSCOPE_APPROVAL=[A-Za-z0-9_-]+/g, "DOWNSCOPE_APPROVAL=N")
    .replace(/--approval [A-Za-z0-9_-]+/g, "--approval N");

type Kind = "none" | "allow" | "rewrite" | "ask" | "deny";
function kindOf(stdout: string): Kind {
  if (stdout.trim() === "") return "none";
  const o = (JSON.parse(stdout) as { hookSpecificOutput: { permissionDecision?: Kind; updatedInput?: unknown } })
    .hookSpecificOutput;
  return o.permissionDecision ?? (o.updatedInput !== undefined ? "rewrite" : "none");
}

interface Paths {
  sb: Sandbox;
  /** The environment Claude Code runs in (and gives command hooks, with CLAUDE_PROJECT_DIR). */
  env: Record<string, string>;
  viaProcess(payload: string): Promise<string>;
  viaService(payload: string): Promise<string>;
  close(): Promise<void>;
}

let paths: Paths;

/** One home, project and policy for both paths: downscope-exec and the shims on PATH, as the table assumes. */
async function setup(): Promise<Paths> {
  const sb = lastingSandbox();
  writeUserPolicy(sb, TABLE_POLICY);
  const bin = join(sb.root, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(join(ROOT, "bin", "downscope-exec.js"), join(bin, "downscope-exec"));
  const shims = join(sb.home, ".local/share/downscope/shims");
  mkdirSync(shims, { recursive: true });
  writeFileSync(join(shims, ".downscope-shims"), "");
  const env = { ...sb.env, PATH: `${bin}:/usr/bin:/bin`, GH_TOKEN_RO: "t" };
  const service = await testService(sb, {}, true);
  return {
    sb,
    env,
    viaProcess: async (payload) =>
      (await runCli(["hook"], { env: { ...env, CLAUDE_PROJECT_DIR: sb.project }, cwd: sb.project, stdin: payload }))
        .stdout,
    viaService: async (payload) => {
      const r = await post(service.port, HOOK_PATH, payload, hookHeaders(service.key, env));
      expect(r.status).toBe(200);
      return r.body;
    },
    close: async () => {
      await service.close();
      sb.remove();
    },
  };
}

describe("the process hook and the decision service give the same answers", () => {
  beforeAll(async () => {
    paths = await setup();
  });
  afterAll(() => paths.close());

  it.each(TABLE)("%j → %s", async (command, answer) => {
    const payload = claudePayload(paths.sb, "Bash", { command, description: "table" });
    const [p, s] = [await paths.viaProcess(payload), await paths.viaService(payload)];
    expect(normalize(s)).toBe(normalize(p));
    expect(kindOf(p)).toBe(answer);
  });
});

/** Beyond the table: file tools, MCP, self-protection, policy states and bad input, each with the answer expected. */
const EXTRA: { what: string; payload: (sb: Sandbox) => string; kind: Kind; contains?: string }[] = [
  {
    what: "Write to the user config",
    payload: (sb) =>
      claudePayload(sb, "Write", { file_path: join(sb.home, ".config/downscope/config.yaml"), content: "x" }),
    kind: "deny",
    contains: "only the user may change",
  },
  {
    what: "Edit of the project's Claude Code settings, by a relative path from a subdirectory",
    payload: (sb) =>
      claudePayload(
        sb,
        "Edit",
        { file_path: "../.claude/settings.json", old_string: "a", new_string: "b" },
        { cwd: join(sb.project, "src") },
      ),
    kind: "deny",
    contains: "Claude Code settings",
  },
  {
    what: "Write of a project file",
    payload: (sb) => claudePayload(sb, "Write", { file_path: join(sb.project, "src/a.ts"), content: "x" }),
    kind: "none",
  },
  {
    what: "Bash writing the project's settings from a subdirectory",
    payload: (sb) =>
      claudePayload(sb, "Bash", { command: "echo '{}' > ../.claude/settings.json" }, { cwd: join(sb.project, "src") }),
    kind: "deny",
    contains: "Claude Code settings",
  },
  {
    what: "the agent trusts its own policy",
    payload: (sb) => claudePayload(sb, "Bash", { command: "downscope trust" }),
    kind: "deny",
    contains: "management command",
  },
  {
    what: "the agent stops the decision service",
    payload: (sb) => claudePayload(sb, "Bash", { command: "pkill -f downscope" }),
    kind: "deny",
    contains: "decision service",
  },
  {
    what: "reading the service's identity key",
    payload: (sb) => claudePayload(sb, "Bash", { command: "cat ~/.config/downscope/serve.key" }),
    kind: "deny",
    contains: "identity key",
  },
  {
    what: "an MCP tool call",
    payload: (sb) => claudePayload(sb, "mcp__files__read", { path: "/etc/passwd" }),
    kind: "none",
  },
  {
    what: "a tool downscope does not look at",
    payload: (sb) => claudePayload(sb, "Read", { file_path: "/etc/hosts" }),
    kind: "none",
  },
  {
    what: "a payload that is not JSON",
    payload: () => "{not json",
    kind: "deny",
    contains: "not JSON",
  },
  {
    what: "a payload without tool_name",
    payload: (sb) => JSON.stringify({ hook_event_name: "PreToolUse", cwd: sb.project, tool_input: {} }),
    kind: "deny",
    contains: "no tool_name",
  },
];

describe("beyond the table", () => {
  beforeAll(async () => {
    paths = await setup();
    mkdirSync(join(paths.sb.project, "src"), { recursive: true });
  });
  afterAll(() => paths.close());

  it.each(EXTRA)("$what", async ({ payload, kind, contains }) => {
    const text = payload(paths.sb);
    const [p, s] = [await paths.viaProcess(text), await paths.viaService(text)];
    expect(normalize(s)).toBe(normalize(p));
    expect(kindOf(p)).toBe(kind);
    if (contains !== undefined) expect(p).toContain(contains);
  });

  it("an untrusted project policy, then a broken one: the same answers", async () => {
    const { sb } = paths;
    mkdirSync(join(sb.project, ".claude"), { recursive: true });
    writeFileSync(
      join(sb.project, ".claude/downscoping.yaml"),
      "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no issues, match: { command: [issue] }, action: deny }\n",
    );
    for (const command of ["gh issue list", "gh pr list"]) {
      const text = claudePayload(sb, "Bash", { command });
      expect(normalize(await paths.viaService(text))).toBe(normalize(await paths.viaProcess(text)));
    }
    expect(await paths.viaService(claudePayload(sb, "Bash", { command: "gh issue list" }))).toContain("no issues");
    writeFileSync(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: [\n");
    const text = claudePayload(sb, "Bash", { command: "gh pr list" });
    const [p, s] = [await paths.viaProcess(text), await paths.viaService(text)];
    expect(s).toBe(p);
    expect(p).toContain("the policy cannot be loaded");
  });
});
