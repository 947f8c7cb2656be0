/**
 * `downscope post-tool-use` (src/cli/post-tool-use.ts, src/hook/post-tool-use.ts):
 * each agent's payload in, the masked output (or nothing) out, in that
 * agent's terms; what is masked comes from where it should (trusted slots,
 * the environment, stored slot tokens, fingerprints of what downscope-exec
 * handed out) and not from where it should not (an untrusted project's
 * slots); and every failure withholds the output rather than passing it on.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { answerPostToolUse, MaskDeadline, withheldResult, type PostToolPayload } from "../../src/hook/post-tool-use.js";
import { execSandbox, runExec } from "../exec/helpers.js";
import { fake, j, rand } from "../helpers/fake-secrets.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

const ROOT = join(import.meta.dirname, "..", "..");
const SLOT = j("env-slot-", rand(24));

function sb(policy = "") {
  const s = sandbox();
  s.write(
    join(s.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
    `version: 1\nservices:\n  gh:\n    token_slots: { ro: { env_var: GH_RO } }\n    default_slot: ro\n${policy}`,
  );
  return s;
}

const bash = (stdout: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "Bash",
    tool_input: { command: "some command" },
    tool_response: { stdout, stderr: "", interrupted: false, isImage: false, noOutputExpected: false },
    tool_use_id: "toolu_1",
    session_id: "s1",
    duration_ms: 12,
    ...extra,
  });

async function post(s: Sandbox, stdin: string, argv: string[] = [], env: Record<string, string> = {}) {
  const r = await runCli(["post-tool-use", ...argv], { env: { ...s.env, GH_RO: SLOT, ...env }, cwd: s.project, stdin });
  return { ...r, json: r.stdout === "" ? undefined : JSON.parse(r.stdout) };
}

const auditOf = (s: Sandbox) => {
  try {
    return readFileSync(join(s.env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8");
  } catch {
    return "";
  }
};

describe("post-tool-use: Claude Code", () => {
  it("replaces the output with the masked one, in the tool's own shape", async () => {
    const s = sb();
    const pat = fake.githubPat();
    const r = await post(s, bash(`slot ${SLOT} pat ${pat}`));
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      hookSpecificOutput: {
        hookEventName: "PostToolUse",
        updatedToolOutput: {
          stdout: "slot [masked:slot:ro] pat [masked:github-pat]",
          stderr: "",
          interrupted: false,
          isImage: false,
          noOutputExpected: false,
        },
      },
    });
  });

  it("answers nothing when there is nothing to mask (no identity rewrite), and records nothing ungoverned", async () => {
    const s = sb();
    const r = await post(s, bash("hello, 3f786850e387550fdab836ed7e6dc881de23001b"));
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(auditOf(s)).toBe("");
  });

  it("records a governed call (a downscope-exec rewrite) with its exit, duration, size and sha256", async () => {
    const s = sb();
    await post(s, bash("3 pull requests", { tool_input: { command: "/x/bin/downscope-exec.js gh pr list" } }));
    const rec = JSON.parse(auditOf(s).trim());
    expect(rec).toMatchObject({
      event: "tool",
      tool: "Bash",
      tool_use_id: "toolu_1",
      session: "s1",
      exit: 0,
      duration_ms: 12,
      argv: ["/x/bin/downscope-exec.js gh pr list"],
      output: { streams: { stdout: { bytes: 15 }, stderr: { bytes: 0 } } },
    });
    expect(rec.output.streams.stdout.text).toBeUndefined();
  });

  it("masks Read, MCP and any other tool's output, keys and shape untouched", async () => {
    const s = sb();
    const t = fake.awsKeyId();
    const read = await post(
      s,
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Read",
        tool_input: { file_path: "/p/.env" },
        tool_response: { type: "text", file: { filePath: "/p/.env", content: `K=${t}\n`, numLines: 1 } },
      }),
    );
    expect(read.json.hookSpecificOutput.updatedToolOutput).toEqual({
      type: "text",
      file: { filePath: "/p/.env", content: "K=[masked:aws-key-id]\n", numLines: 1 },
    });
    const mcp = await post(
      s,
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "mcp__db__query",
        tool_input: {},
        tool_response: [{ type: "text", text: `row: ${SLOT}` }],
      }),
    );
    expect(mcp.json.hookSpecificOutput.updatedToolOutput).toEqual([{ type: "text", text: "row: [masked:slot:ro]" }]);
  });

  it("PostToolUseFailure: answers nothing (Claude Code cannot replace it) and records it masked, saying it reached the model", async () => {
    const s = sb();
    const r = await post(
      s,
      JSON.stringify({
        hook_event_name: "PostToolUseFailure",
        tool_name: "Bash",
        tool_input: { command: "cat .env; false" },
        error: `Exit code 1\nK=${SLOT}`,
        tool_use_id: "toolu_2",
      }),
    );
    expect(r).toMatchObject({ code: 0, stdout: "" });
    const rec = JSON.parse(auditOf(s).trim());
    expect(rec).toMatchObject({
      event: "tool",
      exit: 1,
      output: { masked: { "slot:ro": 1 }, reached_model_unmasked: true },
    });
    expect(auditOf(s)).not.toContain(SLOT);
  });

  it("with settings.record_output: masked, the record keeps the masked text, cut at the cap", async () => {
    const s = sb();
    s.write(
      join(s.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      `version: 1\nsettings: { record_output: masked, record_output_max_bytes: 256 }\nservices:\n  gh:\n    token_slots: { ro: { env_var: GH_RO } }\n    default_slot: ro\n`,
    );
    await post(s, bash(`${SLOT} ${"é".repeat(300)}`));
    const out = JSON.parse(auditOf(s).trim()).output.streams.stdout;
    expect(out.text.startsWith("[masked:slot:ro] éé")).toBe(true);
    expect(out.truncated).toBe(true);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(256);
  });

  it("a project policy cannot turn output recording on (the audit settings are the user's and the organisation's)", async () => {
    const s = sb();
    s.write(
      join(s.project, ".claude/downscoping.yaml"),
      "version: 1\nsettings: { record_output: masked }\nservices: {}\n",
    );
    await post(s, bash(`x ${SLOT}`));
    expect(JSON.parse(auditOf(s).trim()).output.streams.stdout.text).toBeUndefined();
  });
});

describe("post-tool-use: where known secrets come from", () => {
  it("a trusted file slot, a token stored by `slot set`, the CLIs' token variables", async () => {
    const s = sandbox();
    const fileTok = j("file-slot-", rand(24));
    const stored = j("stored-", rand(24));
    const ghTok = j("ambient-", rand(24));
    const file = s.write("secrets/deploy", `${fileTok}\n`, 0o600);
    s.write(
      join(s.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      `version: 1\nservices:\n  gh:\n    token_slots: { deploy: { file: ${file} } }\n    default_slot: deploy\n`,
    );
    s.write(join(s.env.XDG_CONFIG_HOME!, "downscope/slots/ops"), `${stored}\n`, 0o600);
    const r = await post(s, bash(`${fileTok} ${stored} ${ghTok}`), [], { GITHUB_TOKEN: ghTok });
    expect(r.json.hookSpecificOutput.updatedToolOutput.stdout).toBe(
      "[masked:slot:deploy] [masked:slot:ops] [masked:token]",
    );
  });

  it("an untrusted project policy's slot file is not read (masking would answer guesses about it)", async () => {
    const s = sb();
    const hidden = j("hidden-", rand(24));
    const file = s.write("elsewhere/secret", `${hidden}\n`, 0o600);
    s.write(
      join(s.project, ".claude/downscoping.yaml"),
      `version: 1\nservices:\n  x:\n    token_slots: { probe: { file: ${file} } }\n    default_slot: probe\n`,
    );
    const r = await post(s, bash(`guess: ${hidden}`));
    expect(r.stdout).toBe("");
  });

  it("a credential downscope-exec handed out from a command source is masked later by its fingerprint", async () => {
    const s = execSandbox();
    const minted = j("from-a-password-manager-", rand(24));
    const gh = s.fake("gh", 'echo "ran"');
    const src = s.write("bin/secret-source", `#!/bin/sh\necho ${minted}\n`, 0o755);
    s.userConfig(
      `version: 1\nservices:\n  gh:\n    binary_path: ${gh}\n    token_slots: { vault: { command: [${src}] } }\n    default_slot: vault\n`,
    );
    expect((await runExec(["gh", "pr", "list"], { env: s.env, cwd: s.project })).code).toBe(0);
    const index = readFileSync(join(s.env.XDG_CACHE_HOME!, "downscope/mask/fingerprints.json"), "utf8");
    expect(index).not.toContain(minted);
    expect(index).not.toContain(minted.slice(-12));
    const r = await runCli(["post-tool-use"], { env: s.env, cwd: s.project, stdin: bash(`leaked: ${minted}`) });
    expect(JSON.parse(r.stdout).hookSpecificOutput.updatedToolOutput.stdout).toBe("leaked: [masked:credential]");
  });
});

describe("post-tool-use: fail safe", () => {
  it("a policy that cannot be loaded: the output is withheld, shape kept, and the model is told why", async () => {
    const s = sandbox();
    s.write(join(s.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), "version: 1\nservices: [\n");
    const r = await post(s, bash(`x ${fake.githubPat()}`));
    const out = r.json.hookSpecificOutput.updatedToolOutput;
    expect(out.stdout).toMatch(
      /^downscope could not check this output for secrets \(the downscope policy cannot be loaded: .*config\.yaml:\d+:\d+: invalid YAML/,
    );
    expect(out.stderr).toBe(out.stdout);
    expect(out.interrupted).toBe(false);
    expect(out.isImage).toBe(false);
    expect(JSON.parse(auditOf(s).trim()).output.withheld).toMatch(/policy cannot be loaded/);
  });

  it("the deadline: masking stops and the output is withheld", async () => {
    const s = sb();
    const p: PostToolPayload = {
      event: "PostToolUse",
      tool_name: "Bash",
      tool_input: {},
      tool_response: { stdout: `x ${SLOT}` },
    };
    await expect(answerPostToolUse(p, { env: s.env, cwd: s.project, deadline: Date.now() - 1 })).rejects.toBeInstanceOf(
      MaskDeadline,
    );
    expect(withheldResult(p, "deadline")).toMatchObject({
      kind: "withheld",
      output: { stdout: expect.stringContaining("(deadline)") },
    });
  });

  it("an output too large to scan is withheld, not passed on", async () => {
    const s = sb();
    const p: PostToolPayload = {
      event: "PostToolUse",
      tool_name: "Bash",
      tool_input: {},
      tool_response: { stdout: "x".repeat(33 * 1024 * 1024) },
    };
    await expect(answerPostToolUse(p, { env: s.env, cwd: s.project })).rejects.toBeInstanceOf(MaskDeadline);
  });

  it("input that is not a hook payload: exit 0, no answer (there is no output to withhold), the reason on stderr", async () => {
    const s = sb();
    for (const bad of ["", "{nope", "[]", JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash" })]) {
      const r = await post(s, bad);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^downscope: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("the hook's bundle cannot start: bin/downscope.js still withholds the output", () => {
    const s = sb();
    const pkg = join(s.root, "pkg");
    mkdirSync(pkg);
    cpSync(join(ROOT, "bin"), join(pkg, "bin"), { recursive: true });
    cpSync(join(ROOT, "dist"), join(pkg, "dist"), { recursive: true });
    rmSync(join(pkg, "dist", "post-tool-use.cjs"));
    const pat = fake.githubPat();
    const r = spawnSync(process.execPath, [join(pkg, "bin", "downscope.js"), "post-tool-use"], {
      input: bash(`x ${pat}`),
      env: s.env,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout).hookSpecificOutput.updatedToolOutput;
    expect(out.stdout).toMatch(/^downscope could not check this output for secrets \(the hook cannot start/);
    expect(out.isImage).toBe(false);
    expect(r.stdout).not.toContain(pat);
  });

  it("the built hook answers as the in-process one does", () => {
    const s = sb();
    const r = spawnSync(process.execPath, [join(ROOT, "bin", "downscope.js"), "post-tool-use"], {
      input: bash(`x ${SLOT}`),
      env: { ...s.env, GH_RO: SLOT },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).hookSpecificOutput.updatedToolOutput.stdout).toBe("x [masked:slot:ro]");
  });
});

describe("post-tool-use: Gemini CLI (AfterTool)", () => {
  const after = (llmContent: unknown) =>
    JSON.stringify({
      session_id: "g1",
      cwd: "/p",
      hook_event_name: "AfterTool",
      tool_name: "run_shell_command",
      tool_input: { command: "cat .env" },
      tool_response: { llmContent, returnDisplay: "shown", error: undefined },
    });

  it("an output with a secret: a deny whose reason is the masked output (Gemini CLI cannot replace it)", async () => {
    const s = sb();
    const r = await post(s, after(`Output: K=${SLOT}`), ["--agent", "gemini"]);
    expect(r.code).toBe(0);
    expect(r.json.decision).toBe("deny");
    expect(r.json.reason).toMatch(/^downscope replaced secrets in this tool's output with \[masked:<kind>\]/);
    expect(r.json.reason).toContain("Output: K=[masked:slot:ro]");
    expect(r.stdout).not.toContain(SLOT);
  });

  it("Parts are read as their text; nothing to mask: no answer", async () => {
    const s = sb();
    const r = await post(s, after([{ text: `a ${SLOT}` }, { text: "b" }]), ["--agent", "gemini"]);
    expect(r.json.reason).toContain("a [masked:slot:ro]\nb");
    expect((await post(s, after("clean"), ["--agent", "gemini"])).stdout).toBe("");
  });

  it("errors deny with the output withheld", async () => {
    const s = sandbox();
    s.write(join(s.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), "version: [\n");
    const r = await post(s, after(`K=${SLOT}`), ["--agent", "gemini"]);
    expect(r.json).toMatchObject({ decision: "deny", reason: expect.stringMatching(/could not check this output/) });
    const bad = await post(s, "{nope", ["--agent", "gemini"]);
    expect(JSON.parse(bad.stdout)).toMatchObject({ decision: "deny" });
  });
});

describe("post-tool-use: Cursor (postToolUse)", () => {
  const cursor = (tool_name: string, output: unknown) =>
    JSON.stringify({
      hook_event_name: "postToolUse",
      conversation_id: "c1",
      workspace_roots: ["/p"],
      tool_name,
      tool_input: "{}",
      tool_output: JSON.stringify(output),
    });

  it("an MCP tool's output is replaced through updated_mcp_tool_output", async () => {
    const s = sb();
    const r = await post(s, cursor("MCP:query", { content: [{ type: "text", text: `t=${SLOT}` }] }), [
      "--agent",
      "cursor",
    ]);
    expect(r.json).toEqual({ updated_mcp_tool_output: { content: [{ type: "text", text: "t=[masked:slot:ro]" }] } });
  });

  it("Shell's output cannot be replaced in Cursor: {} (recorded, not masked)", async () => {
    const s = sb();
    const r = await post(s, cursor("Shell", { output: `t=${SLOT}`, exitCode: 0 }), ["--agent", "cursor"]);
    expect(r.json).toEqual({});
    expect(JSON.parse(auditOf(s).trim()).output.masked).toEqual({ "slot:ro": 1 });
  });
});

it("an unknown --agent is a usage error on stderr, and no answer", async () => {
  const s = sb();
  const r = await post(s, bash("x"), ["--agent", "nope"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/usage: downscope post-tool-use \[--agent claude\|gemini\|cursor\]/);
});
