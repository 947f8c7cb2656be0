/**
 * The real `downscope hook` process reads its payload from stdin without the
 * thread pool or process.stdin (src/cli/io.ts readStdin). Bypass guarded
 * against: a payload read only in part (a slow writer), and a stdin that never
 * closes keeping the hook past Claude Code's timeout, which runs the command.
 */
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/downscope.js");

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/hook.cjs")))
    throw new Error("dist/ is missing: run `npm run build` (npm test does) first");
});

function setup() {
  const sb = sandbox();
  sb.write("etc/downscope/config.yaml", "version: 1\nservices:\n  gh:\n    default_action: deny\n");
  return sb;
}

const payload = (command: string) =>
  JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command }, session_id: "s" });

/** Runs the hook; `feed` writes to its stdin. */
function hook(sb: ReturnType<typeof setup>, feed: (stdin: NodeJS.WritableStream) => void, env = {}, stdinFd?: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [BIN, "hook"], {
      cwd: sb.project,
      env: { ...sb.env, ...env },
      stdio: [stdinFd ?? "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
    if (child.stdin) feed(child.stdin);
  });
}

describe("hook stdin", () => {
  it("reads a payload written in pieces, with pauses, to the end", async () => {
    const sb = setup();
    const text = payload(`gh repo delete ${"x".repeat(100_000)}`);
    const r = await hook(sb, (stdin) => {
      stdin.write(text.slice(0, 10));
      setTimeout(() => stdin.write(text.slice(10, 70_000)), 60);
      setTimeout(() => stdin.end(text.slice(70_000)), 160);
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
  });

  it("reads a payload from a file on stdin", async () => {
    const sb = setup();
    const f = join(sb.root, "payload.json");
    writeFileSync(f, payload("gh repo delete x"));
    const fd = openSync(f, "r");
    try {
      const r = await hook(sb, () => {}, {}, fd);
      expect(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
    } finally {
      closeSync(fd);
    }
  });

  it("answers deny at its deadline when stdin never closes", async () => {
    const sb = setup();
    let keep: NodeJS.WritableStream | undefined;
    const r = await hook(sb, (stdin) => ((keep = stdin), stdin.write('{"tool_name":')), {
      DOWNSCOPE_HOOK_DEADLINE_MS: "300",
    });
    keep?.end();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining("did not finish within 300 ms"),
    });
  });
});
