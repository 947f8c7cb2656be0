/**
 * `downscope slot set NAME` (issue 13): a slot token a person pastes at the
 * terminal is kept in a 0600 file in a 0700 directory under downscope's config
 * — never from argv or stdin, never echoed, never printed. Proves: the file
 * and its modes; no terminal means nothing stored; the token appears in no
 * output and, on a real pty, not in what the terminal shows.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";
import { runWithTty } from "../helpers/with-tty.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "downscope.js");
const TOKEN = "fake-slot-token-7f3a";

describe("downscope slot set", () => {
  it("stores the pasted token privately and prints only where", async () => {
    const sb = sandbox();
    const r = await runCli(["slot", "set", "org-write"], { env: sb.env, cwd: sb.project, secret: TOKEN });
    expect(r.code).toBe(0);
    const file = join(sb.home, ".config/downscope/slots/org-write");
    expect(readFileSync(file, "utf8")).toBe(`${TOKEN}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700);
    expect(r.stderr).toContain("org-write: { file: ~/.config/downscope/slots/org-write }");
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it.each([
    [["slot", "set"], 64],
    [["slot", "set", "a", TOKEN], 64], // a token as an argument is refused, not stored
    [["slot", "set", "../x"], 64],
    [["slot", "get", "x"], 64],
  ])("%j is a usage error", async (argv, code) => {
    const sb = sandbox();
    const r = await runCli(argv, { env: sb.env, cwd: sb.project, secret: TOKEN });
    expect(r.code).toBe(code);
    expect(existsSync(join(sb.home, ".config/downscope/slots"))).toBe(false);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it("without a terminal nothing is stored, and stdin is not read", async () => {
    const sb = sandbox();
    const r = await runCli(["slot", "set", "x"], { env: sb.env, cwd: sb.project, answer: null, stdin: TOKEN });
    expect(r.code).toBe(77);
    expect(existsSync(join(sb.home, ".config/downscope/slots/x"))).toBe(false);
  });

  it("on a real terminal the token is not echoed", () => {
    const sb = sandbox();
    const r = runWithTty(process.execPath, [BIN, "slot", "set", "ro"], {
      cwd: sb.project,
      env: { ...sb.env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
      prompt: "Paste the token",
      answer: TOKEN,
    });
    expect(r.status).toBe(0);
    expect(r.terminal).toContain('Paste the token for slot "ro"');
    expect(r.terminal).not.toContain(TOKEN);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(readFileSync(join(sb.home, ".config/downscope/slots/ro"), "utf8")).toBe(`${TOKEN}\n`);
  });
});
