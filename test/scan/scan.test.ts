/**
 * `downscope scan` over one fixture per place each client keeps MCP servers
 * (test/fixtures/scan/, laid out where each client looks: fixtures.ts):
 * every server found, every flag where it belongs, no secret in any output,
 * the versioned JSON valid against its shipped schema, exit codes for CI.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lazy-crypto.js";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { scanSandbox, SECRETS, type ScanSandbox } from "./fixtures.js";

const shipped = readFileSync(join(packageRoot(), "schema/scan-output.schema.json"), "utf8");
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(shipped) as object);

interface Out {
  files: { client: string; scope: string; path: string; servers: number; error: unknown }[];
  servers: {
    client: string;
    scope: string;
    file: string;
    name: string;
    line: number | null;
    proxied: boolean;
    findings: {
      kind: string;
      severity: string;
      where: string;
      secret_kind: string | null;
      fingerprint: string | null;
    }[];
  }[];
  counts: Record<string, number>;
}

async function scanJson(sb: ScanSandbox | ReturnType<typeof sandbox>, ...argv: string[]) {
  const r = await runCli(["scan", "--json", ...argv], { env: sb.env, cwd: sb.project });
  const out = JSON.parse(r.stdout) as Out;
  expect(validate(out), JSON.stringify(validate.errors)).toBe(true);
  return { code: r.code, out, stderr: r.stderr };
}

/** client/server → its flags as `kind where`, sorted. */
function flags(out: Out): Record<string, string[]> {
  return Object.fromEntries(
    out.servers.map((s) => [`${s.client}/${s.scope}/${s.name}`, s.findings.map((f) => `${f.kind} ${f.where}`).sort()]),
  );
}

describe("downscope scan: every client's config format", () => {
  it("finds every server of every client and flags each risk where it is", async () => {
    const sb = scanSandbox();
    const { code, out } = await scanJson(sb);
    expect(code).toBe(1);
    expect(out.files.map((f) => `${f.client}/${f.scope} ${f.servers}`).sort()).toEqual(
      [
        "claude-code/user 5",
        "claude-code/project 2",
        "claude-code/managed 1",
        "claude-desktop/user 2",
        "cursor/user 2",
        "cursor/project 1",
        "vscode/user 1",
        "vscode/user 1",
        "vscode/project 2",
        "windsurf/user 2",
        "gemini/user 2",
        "gemini/project 1",
        "codex/user 4",
      ].sort(),
    );
    expect(flags(out)).toEqual({
      // Claude Code: ~/.claude.json (user and local scope), .mcp.json, managed-mcp.json
      "claude-code/user/github": ["secret env.GITHUB_PERSONAL_ACCESS_TOKEN", "unpinned command", "unproxied command"],
      "claude-code/user/memory": ["unproxied command"],
      "claude-code/local/fetch": ["unpinned command", "unproxied command"],
      "claude-code/local/files": ["filesystem args[2]", "unproxied command"],
      "claude-code/local/db": ["secret args[2]", "unproxied command"],
      "claude-code/project/proxied": [],
      "claude-code/project/remote": ["secret headers.Authorization", "unproxied url"],
      "claude-code/managed/company-tools": ["filesystem args[4]", "unpinned command", "unproxied command"],
      // Claude Desktop
      "claude-desktop/user/filesystem": ["filesystem args[3]", "unpinned command", "unproxied command"],
      "claude-desktop/user/slack": ["secret env.SLACK_BOT_TOKEN", "unpinned command", "unproxied command"],
      // Cursor: ${env:…} references are not secrets; a docker image by digest is pinned
      "cursor/user/linear": ["unproxied url"],
      "cursor/user/openai-helper": ["secret env.OPENAI_API_KEY", "unpinned command", "unproxied command"],
      "cursor/project/pinned-container": ["unproxied command"],
      // VS Code: JSON with comments and trailing commas; ${input:…} is not a secret; settings.json's mcp.servers
      "vscode/project/perplexity": ["unproxied command"],
      "vscode/project/aws-docs": ["secret env.AWS_ACCESS_KEY_ID", "unproxied command"],
      "vscode/user/git": ["filesystem args[3]", "unpinned command", "unproxied command"],
      "vscode/user/legacy-time": ["unproxied command"],
      // Windsurf: serverUrl is a remote server
      "windsurf/user/brave-search": ["secret env.BRAVE_API_KEY", "unproxied command"],
      "windsurf/user/remote-docs": ["unproxied url"],
      // Gemini CLI: a key in an argument; $VAR is a reference; a proxied server is judged by what it runs
      "gemini/user/anthropic-bridge": ["secret args[1]", "unproxied command"],
      "gemini/user/remote-api": ["unproxied url"],
      "gemini/project/proxied-fs": [],
      // Codex: [mcp_servers.x.env] tables, a docker bind mount, an inline bearer_token, a quoted name
      "codex/user/context7": ["secret env.CONTEXT7_API_KEY", "unpinned command", "unproxied command"],
      "codex/user/shell": ["filesystem args[4]", "unproxied command"],
      "codex/user/figma": ["secret bearer_token", "unproxied url"],
      "codex/user/quoted.name": [],
    });
    const kinds = out.servers.flatMap((s) => s.findings.filter((f) => f.kind === "secret").map((f) => f.secret_kind));
    expect(new Set(kinds)).toEqual(
      new Set([
        "GitHub token",
        "password in a URL",
        "secret-looking value",
        "Slack token",
        "OpenAI API key",
        "AWS access key ID",
        "Anthropic API key",
      ]),
    );
    expect(out.servers.find((s) => s.name === "github")?.line).toBe(6);
    expect(out.servers.find((s) => s.name === "context7")?.line).toBe(3);
  });

  /*
   * Bug to avoid: a scan meant to find leaked secrets prints them (into a CI
   * log, a report, the agent's transcript).
   * Fix: a finding carries the kind, the place and a 12-hex sha256 fingerprint.
   * Proves: no fake secret appears in the text, the JSON or the stderr, and
   * each fingerprint is the secret's sha256.
   */
  it("never prints a secret: kind, place and fingerprint only", async () => {
    const sb = scanSandbox();
    const text = await runCli(["scan"], { env: sb.env, cwd: sb.project });
    const { out, stderr } = await scanJson(sb);
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const where of [text.stdout, text.stderr, JSON.stringify(out), stderr]) {
        expect(where, name).not.toContain(secret);
        expect(where, name).not.toContain(secret.slice(4, 20));
      }
    }
    const gh = out.servers.find((s) => s.name === "github")!.findings.find((f) => f.kind === "secret")!;
    expect(gh.fingerprint).toBe(`sha256:${sha256Hex(SECRETS.GITHUB_TOKEN!).slice(0, 12)}`);
    expect(text.stdout).toContain(`[${gh.fingerprint}]`);
    expect(text.stdout).toContain(
      "fix: move it into a downscope slot: `downscope install mcp --move-secrets --server slack --client claude-desktop`",
    );
  });

  it("honours CLAUDE_CONFIG_DIR for Claude Code and CODEX_HOME for Codex", async () => {
    const sb = scanSandbox({ codexHome: true });
    const moved = join(sb.root, "claude-config");
    sb.write(join(moved, ".claude.json"), readFileSync(sb.files["claude-code/claude.json"]!, "utf8"));
    sb.write(sb.files["claude-code/claude.json"]!, '{"mcpServers":{"ignored":{"command":"x"}}}');
    const { out } = await scanJson({ ...sb, env: { ...sb.env, CLAUDE_CONFIG_DIR: moved } });
    const claudeUser = out.files.find((f) => f.client === "claude-code" && f.scope === "user")!;
    expect(claudeUser.path).toBe(join(moved, ".claude.json"));
    expect(out.servers.map((s) => s.name)).not.toContain("ignored");
    expect(out.files.find((f) => f.client === "codex")!.path).toBe(join(sb.home, "codex-home/config.toml"));
  });

  it("the text report names each file, server and flag", async () => {
    const sb = scanSandbox();
    const r = await runCli(["scan"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^downscope scan: 13 MCP config files, 26 servers; \d+ high, \d+ medium, \d+ low$/m);
    expect(r.stdout).toContain("~/.claude.json (Claude Code, user)");
    expect(r.stdout).toContain("~/.codex/config.toml (Codex, user)");
    expect(r.stdout).toMatch(/ {2}files {2}\(projects\[".*\/project"\]\.mcpServers\.files, line 40\)/);
    expect(r.stdout).toContain("high    filesystem  args[2]: gives the server the home directory");
    expect(r.stdout).toContain(
      "medium  unpinned    command: `npx` runs @modelcontextprotocol/server-slack@latest without an exact version",
    );
    expect(r.stdout).toContain("proxied-fs  (mcpServers.proxied-fs, line 3): nothing flagged");
  });
});

describe("downscope scan: output and exit codes for CI", () => {
  it("the shipped JSON Schema is the one generated from the zod schema", async () => {
    const sb = sandbox();
    const r = await runCli(["schema", "--scan-output"], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toBe(shipped); // regenerate with: node bin/downscope.js schema --scan-output > schema/scan-output.schema.json
  });

  const CLEAN = JSON.stringify({
    mcpServers: {
      ok: { command: "downscope", args: ["mcp-proxy", "--server", "ok", "--", "npx", "-y", "pkg@1.2.3"] },
    },
  });
  const ONLY_LOW = JSON.stringify({ mcpServers: { plain: { command: "node", args: ["server.js"] } } });

  it.each<[string, string | undefined, string[], number]>([
    ["nothing found anywhere", undefined, [], 0],
    ["a clean, proxied, pinned server", CLEAN, [], 0],
    ["a low finding fails by default", ONLY_LOW, [], 1],
    ["--fail-on high lets it pass", ONLY_LOW, ["--fail-on", "high"], 0],
    ["--fail-on none never fails on findings", ONLY_LOW, ["--fail-on", "none"], 0],
    ["a broken file", '{\n  "mcpServers": {\n    "a": { "command": }\n  }\n}', [], 78],
  ])("%s → exit %i", async (_name, mcp, argv, code) => {
    const sb = sandbox();
    if (mcp !== undefined) sb.write("project/.mcp.json", mcp);
    const r = await runCli(["scan", ...argv], { env: sb.env, cwd: sb.project });
    expect(r.code, r.stdout + r.stderr).toBe(code);
    if (code === 78) expect(r.stdout).toMatch(/\.mcp\.json:3:\d+: not valid JSON \(ValueExpected\)/);
    if (mcp === undefined) expect(r.stdout).toContain("No MCP config was found");
  });

  it("--path scans only the named files, and says when one is missing", async () => {
    const sb = scanSandbox();
    const { code, out } = await scanJson(sb, "--path", sb.files["windsurf/mcp_config.json"]!, "--path", "nope.json");
    expect(code).toBe(78);
    expect(out.files.map((f) => [f.client, f.scope, f.servers])).toEqual([
      ["windsurf", "path", 2],
      ["other", "path", 0],
    ]);
    expect(out.files[1]!.error).toMatchObject({ message: "file not found" });
  });

  it.each<[string[], RegExp]>([
    [["--fail-on", "critical"], /--fail-on must be high, medium, low or none/],
    [["--nope"], /Unknown option '--nope'/],
    [["extra"], /Unexpected argument 'extra'/],
  ])("usage errors exit 64: %j", async (argv, message) => {
    const sb = sandbox();
    const r = await runCli(["scan", ...argv], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
  });
});
