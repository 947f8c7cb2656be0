/** The scan's judgements, one line a case: package runners, filesystem reach, plaintext secrets. */
import { describe, expect, it } from "vitest";
import type { ServerEntry } from "../../src/scan/clients.js";
import { findingsOf, installCommand, proxiedUpstream } from "../../src/scan/findings.js";
import { isReference, namedSecret, tokenIn } from "../../src/scan/secrets.js";

const HOME = "/home/u";
const entry = (command: string, args: string[] = [], extra: Partial<ServerEntry> = {}): ServerEntry => ({
  client: "claude-code",
  scope: "project",
  file: "/p/.mcp.json",
  name: "s",
  location: "mcpServers.s",
  transport: "stdio",
  command,
  args,
  env: {},
  headers: {},
  secretFields: {},
  ...extra,
});
const kinds = (e: ServerEntry, kind: string) =>
  findingsOf(e, { HOME })
    .filter((f) => f.kind === kind)
    .map((f) => `${f.where}: ${f.message}`);

describe("unpinned package runners", () => {
  it.each<[string, string[], boolean]>([
    ["npx", ["-y", "pkg"], true],
    ["npx", ["pkg@latest"], true],
    ["npx", ["pkg@^1.2.0"], true],
    ["npx", ["-y", "@scope/pkg"], true],
    ["npx", ["-y", "@scope/pkg@1.2.3"], false],
    ["npx", ["-y", "pkg@1.2.3-beta.1", "--flag"], false],
    ["npx", ["--package=pkg@1.0.0", "cmd"], false],
    ["npx", ["-p", "pkg", "cmd"], true],
    ["npx", ["./local-server.js"], false],
    ["npx", ["github:user/repo"], true],
    ["npx", [`github:user/repo#${"a".repeat(40)}`], false],
    ["/usr/local/bin/npx", ["-y", "pkg"], true],
    ["pnpm", ["dlx", "pkg"], true],
    ["yarn", ["dlx", "pkg@1.0.0"], false],
    ["npm", ["exec", "pkg"], true],
    ["bunx", ["pkg@1.2.3"], false],
    ["bun", ["x", "pkg"], true],
    ["uvx", ["mcp-server-fetch"], true],
    ["uvx", ["mcp-server-fetch==0.6.2"], false],
    ["uvx", ["mcp-server-fetch@0.6.2"], false],
    ["uvx", ["--from", "mcp-server-git==1.0", "mcp-server-git"], false],
    ["uvx", ["--from", "mcp-server-git", "mcp-server-git"], true],
    ["uvx", ["--python", "3.12", "pkg==1.0"], false],
    ["uv", ["tool", "run", "pkg"], true],
    ["pipx", ["run", "pkg"], true],
    ["pipx", ["run", "--spec", "pkg==1.0", "cmd"], false],
    ["pipx", ["run", "pkg==1.0.0"], false],
    ["docker", ["run", "-i", "--rm", "image:1.2"], true],
    ["docker", ["run", "-i", "--rm", "-e", "X", "-v", "/a:/b", "image"], true],
    ["docker", ["run", "-i", `image@sha256:${"0".repeat(64)}`], false],
    ["podman", ["run", "img"], true],
    ["node", ["server.js"], false],
  ])("%s %j → unpinned: %s", (command, args, flagged) => {
    expect(kinds(entry(command, args), "unpinned").length > 0).toBe(flagged);
  });

  it("judges a proxied entry by the command after --", () => {
    const e = entry("downscope", ["mcp-proxy", "--server", "s", "--", "npx", "-y", "pkg"]);
    expect(kinds(e, "unpinned")).toEqual(["args (after --): `npx` runs pkg without an exact version"]);
    expect(kinds(e, "unproxied")).toEqual([]);
    expect(proxiedUpstream(e)).toEqual({
      server: "s",
      options: ["--server", "s"],
      command: "npx",
      args: ["-y", "pkg"],
    });
    expect(
      proxiedUpstream(entry("node", ["/opt/downscope/bin/downscope.js", "mcp-proxy", "--server=x", "--", "srv"])),
    ).toMatchObject({ server: "x", command: "srv" });
    expect(
      proxiedUpstream(entry("npx", ["-y", "downscope@0.1.0", "mcp-proxy", "--server", "y", "--", "srv"])),
    ).toMatchObject({ server: "y" });
    expect(proxiedUpstream(entry("downscope", ["check"]))).toBeUndefined();
  });
});

describe("filesystem reach", () => {
  it.each<[string, string[], string[]]>([
    [
      "npx",
      ["-y", "@modelcontextprotocol/server-filesystem@1.0.0", "/"],
      ["args[2]: gives the server the root directory"],
    ],
    ["npx", ["-y", "srv@1.0.0", "~"], ["args[2]: gives the server the home directory"]],
    ["node", ["s.js", "$HOME"], ["args[1]: gives the server the home directory"]],
    ["node", ["s.js", "${HOME}"], ["args[1]: gives the server the home directory"]],
    ["node", ["s.js", "${userHome}"], ["args[1]: gives the server the home directory"]],
    ["node", ["s.js", "/home/u/"], ["args[1]: gives the server the home directory"]],
    ["node", ["s.js", "/home"], ["args[1]: gives the server /home, a directory above the home directory"]],
    ["node", ["s.js", "--root=/"], ["args[1]: gives the server the root directory"]],
    [
      "node",
      ["s.js", "/home/u/project/../.."],
      ["args[1]: gives the server /home, a directory above the home directory"],
    ],
    ["node", ["s.js", "/home/u/project", "/tmp", "./src"], []],
    [
      "docker",
      ["run", "-v", "/:/host", `i@sha256:${"0".repeat(64)}`],
      ["args[2]: mounts the root directory into the container"],
    ],
    ["docker", ["run", "--volume=~:/h", "i"], ["args[1]: mounts the home directory into the container"]],
    [
      "docker",
      ["run", "--mount", "type=bind,source=/home/u,target=/x", "i"],
      ["args[2]: mounts the home directory into the container"],
    ],
    ["docker", ["run", "-v", "/home/u/project:/x", "i"], []],
  ])("%s %j", (command, args, want) => {
    expect(kinds(entry(command, args), "filesystem")).toEqual(want);
  });
});

describe("plaintext secrets", () => {
  const GH = "ghp_" + "A1b2".repeat(9);
  it.each<[string, string, string | undefined]>([
    ["GITHUB_TOKEN", "${GITHUB_TOKEN}", undefined],
    ["GITHUB_TOKEN", "$GITHUB_TOKEN", undefined],
    ["GITHUB_TOKEN", "${env:GITHUB_TOKEN}", undefined],
    ["API_KEY", "${input:api-key}", undefined],
    ["ANY_NAME", GH, "GitHub token"],
    ["API_KEY", "abcd1234efgh", "secret-looking value"],
    ["API_KEY", "short", undefined],
    ["GITHUB_TOKEN_FILE", "abcdefghijklmnop", undefined],
    ["TOKEN_PATH", "/run/secrets/token", undefined],
    ["Authorization", "Bearer ${env:LINEAR_KEY}", undefined],
    ["Authorization", "Bearer abcdefghijkl", "secret-looking value"],
    ["DEBUG", "true", undefined],
    ["AUTHOR", "Somebody Longname", undefined],
    ["PASSWORD", "your-password-here", undefined],
    ["PASSWORD", "<password>", undefined],
    ["DATABASE_URL", "postgres://app:pw1234@db/app", "password in a URL"],
    ["LOG_LEVEL", "ERROR", undefined],
    ["AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY", "secret-looking value"],
    ["SLACK_TEAM_ID", "T01234567", undefined],
  ])("%s=%s → %s", (name, value, kind) => {
    expect(namedSecret(name, value)?.kind).toBe(kind);
  });

  it.each<[string, string | undefined]>([
    ["AKIA" + "Z".repeat(16), "AWS access key ID"],
    ["ya29." + "a".repeat(30), "Google OAuth access token"],
    ["xoxb-" + "1".repeat(12), "Slack token"],
    ["sk-ant-api03-" + "x".repeat(30), "Anthropic API key"],
    ["sk-proj-" + "x".repeat(30), "OpenAI API key"],
    ["-----BEGIN OPENSSH PRIVATE KEY-----", "private key"],
    ["glpat-" + "x".repeat(20), "GitLab token"],
    ["npm_" + "x".repeat(36), "npm token"],
    ["a normal sentence about tokens", undefined],
    ["0123456789abcdef0123456789abcdef01234567", undefined], // a git sha: no entropy guessing
  ])("token shape %#", (text, kind) => {
    expect(tokenIn(text)?.kind).toBe(kind);
  });

  it("finds secrets in args, by shape or after a secret-looking flag", () => {
    const e = entry("node", ["s.js", "--api-key", "abcdefgh1234", "--token=zyxwvuts9876", GH, "--verbose", "true"]);
    expect(
      findingsOf(e, { HOME })
        .filter((f) => f.kind === "secret")
        .map((f) => f.where),
    ).toEqual(["args[2]", "args[3]", "args[4]"]);
  });

  it("references and placeholders are not secrets", () => {
    for (const v of ["${X}", "$X", "{env:X}", "%X%", "op://vault/item/field", "xxxxxxxx", "***", "changeme", ""])
      expect(isReference(v), v).toBe(true);
    expect(isReference("hunter2hunter2")).toBe(false);
  });
});

describe("the fix names the install command that fits the file", () => {
  it.each<[Partial<ServerEntry>, string | undefined]>([
    [{}, "downscope install mcp --server s"],
    [{ client: "claude-desktop", scope: "user" }, "downscope install mcp --server s --client claude-desktop"],
    [{ client: "cursor", scope: "user" }, "downscope install mcp --server s --client cursor --scope user"],
    [{ client: "gemini", scope: "project" }, "downscope install mcp --server s --client gemini"],
    [{ client: "vscode", scope: "project", location: "servers.s" }, "downscope install mcp --server s --client vscode"],
    [{ client: "windsurf", scope: "user", file: "/h/w.json" }, "downscope install mcp --server s --path /h/w.json"],
    [{ scope: "local", location: 'projects["/p"].mcpServers.s' }, undefined],
    [{ client: "codex", scope: "user", file: "/h/.codex/config.toml", location: "mcp_servers.s" }, undefined],
    [{ client: "vscode", scope: "user", location: "mcp.servers.s" }, undefined],
  ])("%j", (over, want) => {
    expect(installCommand({ ...entry("x"), ...over })).toBe(want);
  });
});
