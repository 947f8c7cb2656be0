/**
 * Bypass (an outside corpus of tamper fixtures): terminal and process
 * wrappers that take the command as arguments ran downscope's management
 * commands past the hook — `script -q /dev/null downscope trust` (the
 * macOS/BSD form of script), `unbuffer -p downscope trust`, `screen -dm
 * downscope trust`, `setsid downscope trust` — because the analyser knew only
 * a handful of wrappers. Fix: one table of wrappers that run their argv
 * (src/shell/wrappers.ts), read by the analyser and the prefilter alike.
 * Proves: every row of the table, spelled to run `downscope trust`, is denied;
 * the same wrappers running an everyday command pass; and a service call
 * inside each is found and rewritten like a bare one.
 */
import { describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { analyzeShell } from "../../src/shell/analyze.js";
import { ARGV_WRAPPERS } from "../../src/shell/wrappers.js";
import { sandbox } from "../helpers/sandbox.js";

/** A spelling of each wrapper with its operands, before the wrapped command. */
const OPERANDS: Record<string, string> = {
  timeout: "5",
  flock: "/tmp/downscope-test.lock",
  chrt: "10",
  taskset: "0x1",
  setarch: "x86_64",
  chroot: "/",
  sg: "users",
  faketime: "'2020-01-01 00:00:00'",
};

const wrapped = (name: string, command: string) => [name, OPERANDS[name], command].filter(Boolean).join(" ");

const EXTRA_DENIED = [
  "script -q /dev/null downscope trust",
  "script -q /dev/null -- downscope trust",
  "unbuffer -p downscope trust",
  "screen -dm downscope trust",
  "screen -dmS x downscope trust",
  "setsid -f downscope trust",
  "nohup setsid timeout -s KILL 5 downscope trust",
  "flock -c 'downscope trust' /tmp/l",
  "runuser -u me -- downscope trust",
  "ionice -c 3 nice -n 19 downscope uninstall claude",
  "stdbuf -oL chronic downscope trust",
];

async function bash(command: string) {
  const sb = sandbox();
  sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
  const env = { ...sb.env, CLAUDE_PROJECT_DIR: sb.project };
  return answerPayload({ tool_name: "Bash", tool_input: { command }, cwd: sb.project }, { env, cwd: sb.project });
}

describe("wrappers that run their arguments", () => {
  it.each([...Object.keys(ARGV_WRAPPERS).map((w) => wrapped(w, "downscope trust")), ...EXTRA_DENIED])(
    "denies %s",
    async (command) => {
      const r = await bash(command);
      expect(r.decision).toBe("deny");
      expect((r as { reason: string }).reason).toMatch(/management command/);
    },
  );

  it.each(Object.keys(ARGV_WRAPPERS).map((w) => wrapped(w, "ls -la")))("lets %s through", async (command) => {
    expect((await bash(command)).decision).toBe("none");
  });

  it.each(Object.keys(ARGV_WRAPPERS))("finds a service call inside %s, with its own argv", (name) => {
    const a = analyzeShell(wrapped(name, "gh pr list --limit 5"));
    const gh = a.invocations.find((i) => i.binary === "gh");
    expect(gh?.args).toEqual(["pr", "list", "--limit", "5"]);
    // `time` is a reserved word of the shell's grammar, not a command: no wrapper is recorded for it.
    if (name !== "time") expect(gh?.wrappers).toContain(name);
  });
});

describe("false positives", () => {
  // `sh -c 'cd ~/.config; ls'` was denied as a write (the `sh` running the string counted as a writer after the cd).
  it.each(["sh -c 'cd ~/.config; ls'", "bash -lc 'cd ~/.config && cat downscope/config.yaml'", "cd ~/.config; ls"])(
    "lets %s through",
    async (command) => {
      expect((await bash(command)).decision).toBe("none");
    },
  );
  it.each(["sh -c 'cd ~/.config; rm -rf downscope'", "sh -c 'cd ~/.config' && rm -rf downscope"])(
    "still denies %s",
    async (command) => {
      expect((await bash(command)).decision).toBe("deny");
    },
  );
});
