/**
 * The real `downscope hook` process reads its payload from stdin without the
 * thread pool or process.stdin (src/io.ts readStdin). Bypass guarded
 * against: a payload read only in part (a slow writer), and a pipe that never
 * closes keeping the hook past Claude Code's timeout, which runs the command.
 * Claude Code gives its hooks a socket (checked against the real CLI); a
 * socket is read to its end, a pipe without blocking, a file at once.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, writeFileSync, writeSync } from "node:fs";
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
const big = payload(`gh repo delete ${"x".repeat(100_000)}`);

type Result = { code: number | null; stdout: string; stderr: string };

/** Runs the hook with `stdin` ("pipe" is a socket in Node) and lets `feed` write to it. */
function hook(
  sb: ReturnType<typeof setup>,
  stdin: "pipe" | number,
  feed: (write: (t: string) => void, end: () => void) => void,
  env = {},
) {
  return new Promise<Result>((done) => {
    const child = spawn(process.execPath, [BIN, "hook"], {
      cwd: sb.project,
      env: { ...sb.env, ...env },
      stdio: [stdin, "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
    if (child.stdin)
      feed(
        (t) => child.stdin!.write(t),
        () => child.stdin!.end(),
      );
  });
}

/** A named pipe: the read end for the child, and the write end. */
function fifo(sb: ReturnType<typeof setup>) {
  const path = join(sb.root, "stdin.fifo");
  expect(spawnSync("mkfifo", [path]).status).toBe(0);
  const r = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(path, constants.O_WRONLY);
  return { r, w };
}

/** Writes `text` in three pieces with pauses, then ends. */
function inPieces(text: string, write: (t: string) => void, end: () => void) {
  write(text.slice(0, 10));
  setTimeout(() => write(text.slice(10, 70_000)), 60);
  setTimeout(() => {
    write(text.slice(70_000));
    end();
  }, 160);
}

const decision = (r: Result) => JSON.parse(r.stdout).hookSpecificOutput.permissionDecision as string;

describe("hook stdin", () => {
  it("reads a socket written in pieces, with pauses, to the end", async () => {
    const r = await hook(setup(), "pipe", (write, end) => inPieces(big, write, end));
    expect(r.code).toBe(0);
    expect(decision(r)).toBe("deny");
  });

  it("reads a pipe written in pieces, with pauses, to the end", async () => {
    const sb = setup();
    const { r, w } = fifo(sb);
    const run = hook(sb, r, () => {});
    closeSync(r);
    inPieces(
      big,
      (t) => writeSync(w, t),
      () => closeSync(w),
    );
    const res = await run;
    expect(res.code).toBe(0);
    expect(decision(res)).toBe("deny");
  });

  it("reads a payload from a file on stdin", async () => {
    const sb = setup();
    const f = join(sb.root, "payload.json");
    writeFileSync(f, payload("gh repo delete x"));
    const fd = openSync(f, "r");
    try {
      expect(decision(await hook(sb, fd, () => {}))).toBe("deny");
    } finally {
      closeSync(fd);
    }
  });

  it("answers deny at its deadline when a pipe never closes", async () => {
    const sb = setup();
    const { r, w } = fifo(sb);
    writeSync(w, '{"tool_name":');
    const res = await hook(sb, r, () => {}, { DOWNSCOPE_HOOK_DEADLINE_MS: "300" });
    closeSync(r);
    closeSync(w);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).hookSpecificOutput).toMatchObject({
      permissionDecision: "deny",
      permissionDecisionReason: expect.stringContaining("did not finish within 300 ms"),
    });
  });
});
