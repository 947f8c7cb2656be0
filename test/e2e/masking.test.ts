/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * Masking end to end with the real Claude Code (2.1.328), offline: a
 * scripted model runs commands and tools whose output holds secrets —
 * a slot token from the environment, one handed to gh by downscope-exec,
 * a `file:` slot's token, token-shaped strings in files, an AWS key pair,
 * an MCP tool's result, a large output — after `downscope install claude`.
 * The tool results the model receives hold none of them. Control: the same
 * session without the PostToolUse entries shows every one.
 *
 * Also proven here, as docs/masking.md states: a failed command's text
 * (PostToolUseFailure) reaches the model as it was, and is recorded masked;
 * a policy that cannot be loaded withholds the output instead of passing it
 * on; the audit trail holds what each call returned, verifies, and holds no
 * secret.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { serverEntry } from "../mcp/helpers.js";
import { fake, j, rand } from "../helpers/fake-secrets.js";
import { runWithTty } from "../helpers/with-tty.js";
import { ensureClaude } from "./claude-cli.js";
import { runClaudeSandboxed, type SandboxRun, type Step } from "./sandbox-claude.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DS = join(root, "bin", "downscope.js");

const SLOT_RO = j("ro-slot-", rand(28)); // not token-shaped: only the known-value masking finds it
const SLOT_FILE = j("deploy-", rand(30));
const PAT = fake.githubPat();
const AKID = fake.awsKeyId();
const ASECRET = fake.awsSecret();
const SECRETS = { SLOT_RO, SLOT_FILE, PAT, AKID, ASECRET };

const policy = (ghPath: string, slotFile: string) => `version: 1
settings: { record_output: masked }
services:
  gh:
    binary_path: ${ghPath}
    token_slots:
      ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN }
      deploy: { file: ${slotFile}, inject_as: GH_TOKEN }
    default_slot: ro
    rules:
      - { name: deploys use the deploy slot, match: { command: [release] }, slot: deploy }
`;

/** The scripted session: one tool call per step. */
const STEPS: { name: string; step: Step; secrets: (keyof typeof SECRETS)[]; atSource?: string }[] = [
  // The hook denies `echo $GH_TOKEN_RO` itself (test/security/credential-reads.test.ts); a script it
  // cannot read through prints it, and that is what masking is for.
  { name: "a slot token from the environment (Bash)", step: "sh show-slot.sh", secrets: ["SLOT_RO"] },
  // downscope-exec masks the credential it handed gh in gh's own output, with or without the hook (ADR-031).
  {
    name: "the token downscope-exec handed to gh",
    step: "gh pr list",
    secrets: [],
    atSource: "gh pr list: token=[masked:slot:ro]",
  },
  {
    name: "a token-shaped string in a file (Read)",
    step: { tool: "Read", input: { file_path: "@PROJECT@/notes.txt" } },
    secrets: ["PAT"],
  },
  { name: "an AWS key pair printed from .env (Bash)", step: "cat .env", secrets: ["AKID", "ASECRET"] },
  { name: "JSON output (Bash)", step: "cat creds.json", secrets: ["PAT"] },
  {
    name: "a search result (Grep)",
    step: { tool: "Grep", input: { pattern: "ghp_", path: "@PROJECT@", output_mode: "content" } },
    secrets: ["PAT"],
  },
  {
    name: "an MCP tool's result",
    step: { tool: "mcp__everything__echo", input: { message: `deploy token ${SLOT_FILE}` } },
    secrets: ["SLOT_FILE"],
  },
  {
    name: "an MCP tool's environment dump",
    step: { tool: "mcp__everything__get-env", input: {} },
    secrets: ["PAT", "SLOT_RO"],
  },
  { name: "a large output (the model sees a preview)", step: "cat big.txt", secrets: ["PAT"] },
];
const FAILED_STEP: Step = "cat notes.txt; exit 3";

let claude = "";
beforeAll(() => {
  claude = ensureClaude();
});

interface Session {
  run: SandboxRun;
  results: string[];
  audit: string;
  verify: { status: number | null; stdout: string };
}

async function session(o: { hook: boolean; steps: Step[]; brokenPolicy?: boolean }): Promise<Session> {
  let auditFile = "";
  let envOf: Record<string, string> = {};
  mkdirSync(join(homedir(), ".cache"), { recursive: true });
  const tree = mkdtempSync(join(homedir(), ".cache", "downscope-e2e-masking-"));
  const run = await runClaudeSandboxed({
    root: tree,
    claude,
    commands: o.steps,
    allowedTools: ["Bash", "Read", "Grep", "mcp__everything__echo", "mcp__everything__get-env"],
    env: { GH_TOKEN_RO: SLOT_RO },
    setup: ({ home, project }) => {
      const gh = join(tree, "bin", "gh");
      mkdirSync(dirname(gh), { recursive: true });
      writeFileSync(gh, '#!/bin/sh\necho "gh $*: token=$GH_TOKEN"\n');
      chmodSync(gh, 0o755);
      const slotFile = join(tree, "secrets", "deploy-token");
      mkdirSync(dirname(slotFile), { recursive: true });
      writeFileSync(slotFile, `${SLOT_FILE}\n`, { mode: 0o600 });
      mkdirSync(join(home, ".config", "downscope"), { recursive: true });
      const config = join(home, ".config", "downscope", "config.yaml");
      writeFileSync(config, policy(gh, slotFile));
      writeFileSync(join(project, "notes.txt"), `release notes\nci token: ${PAT}\n`);
      writeFileSync(join(project, "show-slot.sh"), 'echo "ro: $GH_TOKEN_RO"\n');
      writeFileSync(
        join(project, ".env"),
        `AWS_ACCESS_KEY_ID=${AKID}\nAWS_SECRET_ACCESS_KEY=${ASECRET}\nREGION=eu-west-1\n`,
      );
      writeFileSync(join(project, "creds.json"), JSON.stringify({ user: "ci", token: PAT, scopes: ["repo"] }, null, 2));
      writeFileSync(join(project, "big.txt"), `${PAT}\n${"filler line of text\n".repeat(3000)}`);
      envOf = {
        HOME: home,
        XDG_CONFIG_HOME: join(home, ".config"),
        XDG_STATE_HOME: join(home, ".local/state"),
        XDG_CACHE_HOME: join(home, ".cache"),
        XDG_DATA_HOME: join(home, ".local/share"),
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        GH_TOKEN_RO: SLOT_RO,
      };
      // A person installs downscope, confirming at a terminal.
      const inst = runWithTty(process.execPath, [DS, "install", "claude"], { cwd: project, env: envOf });
      if (inst.status !== 0) throw new Error(`install claude failed: ${inst.stderr}`);
      const settingsFile = join(home, ".claude", "settings.json");
      const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
      if (!o.hook) {
        delete settings.hooks.PostToolUse;
        delete settings.hooks.PostToolUseFailure;
        writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
      }
      // Broken after install (install itself refuses a policy it cannot load).
      if (o.brokenPolicy) writeFileSync(config, "version: 1\nservices: {gh: [\n");
      auditFile = join(home, ".local", "state", "downscope", "audit.jsonl");
      const mcp = join(tree, "mcp.json");
      writeFileSync(
        mcp,
        JSON.stringify({
          mcpServers: {
            everything: {
              command: process.execPath,
              args: [serverEntry("@modelcontextprotocol/server-everything")],
              env: { CI_TOKEN: PAT },
            },
          },
        }),
      );
    },
    extraArgs: ["--mcp-config", join(tree, "mcp.json"), "--strict-mcp-config"],
    timeoutMs: 240_000,
  });
  let audit = "";
  try {
    audit = readFileSync(auditFile, "utf8");
  } catch {
    // no records
  }
  const verify = spawnSync(process.execPath, [DS, "audit", "verify"], {
    cwd: run.project,
    env: envOf,
    encoding: "utf8",
  });
  run.cleanup();
  return { run, results: run.toolResults, audit, verify: { status: verify.status, stdout: verify.stdout } };
}

const leaked = (text: string, names: readonly (keyof typeof SECRETS)[]) =>
  names.filter((n) => text.includes(SECRETS[n]));

describe("masking with the real Claude Code", () => {
  let withHook: Session;
  let control: Session;
  beforeAll(async () => {
    const steps = [...STEPS.map((s) => s.step), FAILED_STEP];
    [withHook, control] = [await session({ hook: true, steps }), await session({ hook: false, steps })];
  }, 600_000);

  it("the control session (no PostToolUse hook) shows the model every secret", () => {
    expect(control.run.code, control.run.stderr).toBe(0);
    expect(control.results).toHaveLength(STEPS.length + 1);
    STEPS.forEach((s, i) => expect(leaked(control.results[i]!, s.secrets), s.name).toEqual(s.secrets));
    STEPS.forEach((s, i) => {
      if (s.atSource !== undefined) expect(control.results[i], s.name).toBe(s.atSource);
    });
  });

  it("with the hook, no tool result the model receives holds a secret", () => {
    expect(withHook.run.code, withHook.run.stderr).toBe(0);
    expect(withHook.results).toHaveLength(STEPS.length + 1);
    STEPS.forEach((s, i) => {
      expect(leaked(withHook.results[i]!, Object.keys(SECRETS) as (keyof typeof SECRETS)[]), s.name).toEqual([]);
      expect(withHook.results[i], s.name).toContain("[masked");
    });
  });

  it("names what it masked, and the rest of the output is as it was", () => {
    const r = withHook.results;
    expect(r[0]).toBe("ro: [masked:slot:ro]");
    expect(r[1]).toBe("gh pr list: token=[masked:slot:ro]");
    expect(r[2]).toContain("ci token: [masked:github-pat]");
    expect(r[3]).toContain("AWS_ACCESS_KEY_ID=[masked:aws-key-id]");
    expect(r[3]).toContain("AWS_SECRET_ACCESS_KEY=[masked:aws-secret-key]");
    expect(r[3]).toContain("REGION=eu-west-1");
    expect(r[6]).toBe("Echo: deploy token [masked:slot:deploy]");
  });

  it("JSON output stays valid JSON of the same shape", () => {
    expect(JSON.parse(withHook.results[4]!)).toEqual({ user: "ci", token: "[masked:github-pat]", scopes: ["repo"] });
  });

  it("a failed command's text reaches the model unmasked (Claude Code cannot replace it), and is recorded masked", () => {
    const failed = withHook.results[STEPS.length]!;
    expect(failed).toMatch(/^Exit code 3/);
    expect(failed).toContain(PAT);
    const record = records(withHook.audit).find((e) => e.event === "tool" && e.exit === 3);
    expect(record?.output?.reached_model_unmasked).toBe(true);
    expect(record?.output?.masked).toEqual({ "github-pat": 1 });
  });

  it("records what each governed or masked call returned, next to the decision that allowed it, and verifies", () => {
    expect(withHook.verify.status, withHook.verify.stdout).toBe(0);
    const all = records(withHook.audit);
    const tool = all.filter((e) => e.event === "tool");
    expect(tool.length).toBeGreaterThanOrEqual(STEPS.length);
    // The Bash call that ran gh: what the model got (masked already by downscope-exec), next to the hook's decision.
    const gh = tool.find((e) => e.argv?.[0]?.includes("downscope-exec") && e.argv[0].includes("gh pr list"));
    expect(gh).toMatchObject({ tool: "Bash", exit: 0 });
    expect(gh.output.masked).toBeUndefined();
    expect(gh.output.streams.stdout.bytes).toBe(Buffer.byteLength("gh pr list: token=[masked:slot:ro]"));
    expect(gh.output.streams.stdout.text).toBe("gh pr list: token=[masked:slot:ro]");
    const decision = all.find((e) => e.event === "hook" && e.tool_use_id === gh.tool_use_id);
    expect(decision).toMatchObject({ action: "allow" });
    // downscope-exec's own record: the decision, and gh's output as it passed, with what it masked at source.
    const exec = all.find((e) => e.event === "exec" && e.argv?.join(" ") === "gh pr list");
    expect(exec).toMatchObject({ action: "allow", slot: "ro", exit: 0, output: { masked: { "slot:ro": 1 } } });
    expect(exec.output.streams.stdout).toMatchObject({
      bytes: Buffer.byteLength("gh pr list: token=[masked:slot:ro]\n"),
    });
  });

  it("no secret reaches the audit trail", () => {
    expect(leaked(withHook.audit, Object.keys(SECRETS) as (keyof typeof SECRETS)[])).toEqual([]);
    expect(leaked(control.audit, Object.keys(SECRETS) as (keyof typeof SECRETS)[])).toEqual([]);
  });

  it("a policy that cannot be loaded withholds the output instead of passing it on", async () => {
    // (Bash is denied by the PreToolUse hook while the policy is broken; Read and Grep are not decided.)
    const s = await session({
      hook: true,
      brokenPolicy: true,
      steps: [
        { tool: "Read", input: { file_path: "@PROJECT@/notes.txt" } },
        { tool: "Grep", input: { pattern: "ci token", path: "@PROJECT@", output_mode: "content" } },
      ],
    });
    expect(s.results).toHaveLength(2);
    for (const r of s.results) {
      expect(r).not.toContain(PAT);
      expect(r).toContain("downscope could not check this output for secrets");
    }
  }, 300_000);
});

function records(text: string): any[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}
