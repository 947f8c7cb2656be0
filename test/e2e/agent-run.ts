/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON */
/**
 * One end-to-end session of a real agent CLI against the scripted model API
 * (test/e2e/fake-openai.ts), shared by the Codex CLI, OpenCode, Copilot CLI
 * and pi tests:
 *   - an isolated HOME and project, a policy in the user config (deny `gh
 *     repo delete`, review `gh pr merge`, the rest of gh on the read-only
 *     slot), a fake `gh` that records each call and a fingerprint of the
 *     GH_TOKEN it got (never the token), as test/e2e/contained.test.ts does;
 *   - `downscope install <agent>` run by a person at a terminal
 *     (test/helpers/with-tty.ts), after the agent's own settings are written;
 *   - one run of the agent, killed with its process group if it outlives
 *     its time; what the model was told, the gh calls, and the hook's
 *     decisions from the audit trail.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { sha256Hex } from "../../src/lazy-crypto.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { runWithTty } from "../helpers/with-tty.js";
import { startFakeOpenAI, toolResults, type FakeOpenAI, type ToolCall } from "./fake-openai.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DOWNSCOPE = join(ROOT, "bin", "downscope.js");

/** The read-only slot's token, fake; only its fingerprint is ever compared. */
export const RO_TOKEN = "fake-gh-token-ro-e2e-7f3a";
export const RO_FP = sha256Hex(RO_TOKEN).slice(0, 16);

const policy = (ghPath: string) => `version: 1
services:
  gh:
    binary_path: ${ghPath}
    token_slots: { ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN } }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, delete] }, action: deny, reason: deleting repositories is not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
`;

export interface Session {
  sb: Sandbox;
  env: Record<string, string>;
  api: FakeOpenAI;
}

/** The sandbox, the policy, the fake gh and the model API; `settings` writes the agent's own config first. */
export async function prepare(
  agent: string,
  calls: ToolCall[],
  settings: (s: Session) => void,
  extraEnv: Record<string, string> = {},
): Promise<Session> {
  if (!existsSync(join(ROOT, "dist", "downscope.js")))
    throw new Error("dist/downscope.js is missing: run `npm run build` (npm test does) before the end-to-end tests");
  const api = await startFakeOpenAI(calls);
  const sb = sandbox();
  const log = join(sb.root, "gh.log");
  const gh = sb.write(
    "bin/gh",
    `#!/bin/sh\nfp=$(printf '%s' "$GH_TOKEN" | sha256sum | cut -c1-16)\nprintf '%s fp=%s\\n' "gh $*" "$fp" >> '${log}'\necho fake-gh-output\n`,
  );
  chmodSync(gh, 0o755);
  sb.write("home/.config/downscope/config.yaml", policy(gh));
  spawnSync("git", ["init", "-q", "."], { cwd: sb.project });
  const env: Record<string, string> = {
    ...sb.env,
    PATH: `${join(sb.root, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin`,
    GH_TOKEN_RO: RO_TOKEN,
    ...extraEnv,
  };
  const s = { sb, env, api };
  settings(s);
  // A person installs it, confirming at a terminal.
  const inst = runWithTty(process.execPath, [DOWNSCOPE, "install", agent], { cwd: sb.project, env });
  expect(inst.status, inst.stderr).toBe(0);
  return s;
}

export interface Outcome {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
  /** What the model was told each tool call did. */
  results: string[];
  ghCalls: string[];
  /** The hook's decisions on calls that involved a service: [action, command]. */
  hookEvents: [string, string | undefined][];
}

export async function runAgent(
  s: Session,
  argv: string[],
  opts: { killAfterMs?: number; env?: Record<string, string> } = {},
): Promise<Outcome> {
  // Its own process group: a stopped run takes every child (the agent's shells, the hook) down with it.
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: s.sb.project,
    env: { ...s.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    process.kill(-child.pid!, "SIGKILL");
  }, opts.killAfterMs ?? 90_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
  await s.api.close();
  const log = join(s.sb.root, "gh.log");
  const auditFile = join(s.sb.env.XDG_STATE_HOME!, "downscope", "audit.jsonl");
  const hookEvents = existsSync(auditFile)
    ? readFileSync(auditFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e: any) => e.event === "hook")
        .map((e: any): [string, string | undefined] => [e.action, e.argv?.[0]])
    : [];
  return {
    code,
    killed,
    stdout,
    stderr,
    results: toolResults(s.api),
    ghCalls: existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [],
    hookEvents,
  };
}

/**
 * Makes the hook hang for real: the user config becomes a FIFO nobody
 * writes, so the hook's first read of the policy blocks its only thread (its
 * own deadline timer cannot fire). What stops the call then is the agent's
 * terms for a failed hook, as install wrote them.
 */
export function hangTheHook(s: Session): void {
  const file = join(s.sb.env.XDG_CONFIG_HOME!, "downscope", "config.yaml");
  spawnSync("rm", ["-f", file]);
  const r = spawnSync("mkfifo", [file]);
  expect(r.status).toBe(0);
}
