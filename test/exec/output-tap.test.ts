/**
 * downscope-exec's output tap (src/exec/output-tap.ts, ADR-031) with real
 * spawns: what the command returned is recorded (exit, duration, size and
 * sha256 of each stream as delivered) and the credential handed to the
 * command is masked in its output; streaming, prompts without a newline,
 * SIGPIPE and terminals behave as without downscope-exec.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { EXEC_BIN, execSandbox, run, runExec, waitFor } from "./helpers.js";

const TOKEN = "tap-test-slot-token-0123456789";

function setup(tail: string, extra = "") {
  const sb = execSandbox();
  const gh = sb.fake("gh", tail);
  sb.userConfig(`version: 1
${extra}services:
  gh:
    binary_path: ${gh}
    token_slots: { ro: { env_var: GH_RO_SRC } }
    default_slot: ro
`);
  return { sb, env: { ...sb.env, GH_RO_SRC: TOKEN } };
}

const execRecord = (env: Record<string, string>) =>
  readFileSync(join(env.XDG_STATE_HOME!, "downscope/audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
    .filter((l) => l.event === "exec")
    .at(-1)!;

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("downscope-exec output tap", () => {
  it("records each stream's size and sha256 as delivered, and masks the handed-out credential, even split across writes", async () => {
    const { sb, env } = setup(
      `printf 'out: %s' "$(echo "$GH_TOKEN" | cut -c1-10)"; sleep 0.005; printf '%s\\n' "$(echo "$GH_TOKEN" | cut -c11-)"; echo "err: $GH_TOKEN" >&2; exit 4`,
    );
    const r = await runExec(["gh", "pr", "list"], { env, cwd: sb.project });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("out: [masked:slot:ro]\n");
    expect(r.stderr).toBe("err: [masked:slot:ro]\n");
    const rec = execRecord(env);
    expect(rec.exit).toBe(4);
    expect(rec.output).toEqual({
      streams: {
        stdout: { bytes: Buffer.byteLength(r.stdout), sha256: sha(r.stdout) },
        stderr: { bytes: Buffer.byteLength(r.stderr), sha256: sha(r.stderr) },
      },
      masked: { "slot:ro": 2 },
    });
    expect(JSON.stringify(rec)).not.toContain(TOKEN);
  });

  it("with settings.record_output: masked, keeps the masked text, cut at the cap, token shapes masked too", async () => {
    const pat = ["gh", "p_", "Zr4Tq9Lm2Xv8Nb6Hc1Kd7Wf3Ys5Pa0Ue2Gi4"].join("");
    const { sb, env } = setup(
      `echo "t=$GH_TOKEN pat=${pat}"; head -c 600 /dev/zero | tr '\\0' 'x'`,
      "settings: { record_output: masked, record_output_max_bytes: 256 }\n",
    );
    const r = await runExec(["gh", "x"], { env, cwd: sb.project });
    expect(r.code).toBe(0);
    // Delivered: the credential masked at source; the token-shaped string is the masking hook's to mask.
    expect(r.stdout.startsWith(`t=[masked:slot:ro] pat=${pat}\n`)).toBe(true);
    const out = execRecord(env).output.streams.stdout;
    expect(out.truncated).toBe(true);
    expect(out.text.startsWith("t=[masked:slot:ro] pat=[masked:github-pat]\nxxx")).toBe(true);
    expect(Buffer.byteLength(out.text)).toBeLessThanOrEqual(256);
    expect(out.bytes).toBe(Buffer.byteLength(r.stdout));
  });

  it("a large output (hashed as it passes) has the sha256 of exactly what the reader got", async () => {
    const { sb, env } = setup(`head -c 300000 /dev/zero | tr '\\0' 'z'; echo "$GH_TOKEN"`);
    const r = await runExec(["gh", "x"], { env, cwd: sb.project });
    expect(r.stdout.endsWith("[masked:slot:ro]\n")).toBe(true);
    expect(execRecord(env).output.streams.stdout).toEqual({
      bytes: Buffer.byteLength(r.stdout),
      sha256: sha(r.stdout),
    });
  });

  it("streams: the reader gets each line while the command still runs", async () => {
    const { sb, env } = setup(`echo first; while [ ! -e "${"$"}{GO}" ]; do sleep 0.02; done; echo second`);
    const go = join(sb.root, "go");
    const child = spawn(process.execPath, [EXEC_BIN, "gh", "x"], { env: { ...env, GO: go }, cwd: sb.project });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    // Only once "first" has arrived does the command go on: a tap that held output back would hang here.
    await waitFor(() => (out.includes("first") ? true : undefined), "the first line");
    writeFileSync(go, "");
    const code = await new Promise((res) => child.on("close", res));
    expect(code).toBe(0);
    expect(out).toBe("first\nsecond\n");
  });

  it("a prompt without a newline shows before the command reads its answer", async () => {
    const { sb, env } = setup(`printf 'Password: '; read -r answer; echo "got $answer"`);
    const child = spawn(process.execPath, [EXEC_BIN, "gh", "x"], {
      env,
      cwd: sb.project,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor(() => (out === "Password: " ? true : undefined), "the prompt");
    child.stdin.end("hunter22\n");
    await new Promise((res) => child.on("close", res));
    expect(out).toBe("Password: got hunter22\n");
  });

  it("a reader that goes away (| head -1) stops the command with SIGPIPE, as without downscope-exec", async () => {
    const { sb, env } = setup(`while :; do echo line; done`);
    const r = await run(
      "/bin/bash",
      ["-c", `set -o pipefail; "${process.execPath}" "${EXEC_BIN}" gh x | head -1; echo "status=$?"`],
      { env, cwd: sb.project },
    );
    expect(r.stdout).toBe("line\nstatus=141\n");
  });

  it("a terminal is handed to the command as it is, and recorded as not measured", async () => {
    const { sb, env } = setup(
      `if [ -t 1 ]; then echo "stdout is a terminal"; fi; if [ -t 2 ]; then echo "stderr is a terminal"; fi`,
    );
    const r = await run(
      "python3",
      ["-c", "import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)", process.execPath, EXEC_BIN, "gh", "x"],
      { env, cwd: sb.project },
    );
    expect(r.stdout).toContain("stdout is a terminal");
    expect(r.stdout).toContain("stderr is a terminal");
    expect(execRecord(env).output).toEqual({ streams: { stdout: { tty: true }, stderr: { tty: true } } });
  });

  it("stdin goes to the command unchanged", async () => {
    const { sb, env } = setup(`cat`);
    const child = spawn(process.execPath, [EXEC_BIN, "gh", "x"], { env, cwd: sb.project });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stdin.end("piped input\n");
    await new Promise((res) => child.on("close", res));
    expect(out).toBe("piped input\n");
    expect(execRecord(env).exit).toBe(0);
  });
});
