import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tokenSlotProvider } from "../../src/credentials/token-slot.js";
import { fingerprint, readSlotToken } from "../../src/credentials/token-sources.js";
import { CredentialUnavailable } from "../../src/errors.js";
import type { Grant } from "../../src/policy/evaluate.js";
import { sandbox } from "../helpers/sandbox.js";

const T = "fake-gh-token-ro-123";

describe("readSlotToken", () => {
  it("env_var, file (with ~) and command (argv, no shell) sources, trimmed", () => {
    const sb = sandbox();
    sb.write(join(sb.home, "tok"), `  ${T}\n`);
    expect(readSlotToken("a", { env_var: "SRC" }, { SRC: `${T}\n` }, sb.project).value).toBe(T);
    expect(readSlotToken("a", { file: "~/tok" }, sb.env, sb.project).value).toBe(T);
    expect(readSlotToken("a", { command: ["printf", "%s\n", T] }, sb.env, sb.project)).toEqual({
      value: T,
      fingerprint: fingerprint(T),
    });
    // No shell: metacharacters are plain argv words.
    expect(readSlotToken("a", { command: ["echo", "$(id)"] }, sb.env, sb.project).value).toBe("$(id)");
  });

  /*
   * keyring sources run the system keyring's lookup (argv, no shell). The
   * real secret-tool needs a running Secret Service (a desktop session's
   * gnome-keyring), which this machine's CI cannot start headless, so a
   * stand-in secret-tool on PATH records the exact lookup it was asked for.
   */
  it("keyring: secret-tool lookup service S account A (macOS: security find-generic-password)", () => {
    const sb = sandbox();
    const log = join(sb.root, "argv.log");
    const bin = sb.write(
      "bin/secret-tool",
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\nprintf '%s\\n' '${T}'\n`,
      0o755,
    );
    const env = { ...sb.env, PATH: `${join(bin, "..")}:/usr/bin:/bin` };
    const got = readSlotToken("a", { keyring: { service: "downscope", account: "gh-ro" } }, env, sb.project);
    expect(got.value).toBe(T);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(
      process.platform === "darwin"
        ? ["find-generic-password", "-s", "downscope", "-a", "gh-ro", "-w"]
        : ["lookup", "service", "downscope", "account", "gh-ro"],
    );
    // A missing entry (secret-tool exits 1, prints nothing) is one clear line, no value.
    sb.write("bin/secret-tool", "#!/bin/sh\nexit 1\n", 0o755);
    expect(() => readSlotToken("a", { keyring: { service: "x", account: "y" } }, env, sb.project)).toThrow(
      /slot "a": token command secret-tool exited with status 1/,
    );
  });

  it.each([
    ["an unset variable", { env_var: "NOPE" }, /slot "s": environment variable NOPE is not set/],
    ["a missing file", { file: "/nonexistent/tok" }, /cannot read token file \/nonexistent\/tok \(ENOENT\)/],
    ["a missing command", { command: ["/nonexistent/cmd"] }, /cannot run token command \/nonexistent\/cmd: ENOENT/],
    [
      "a failing command",
      { command: ["sh", "-c", `echo ${T}-leaked >&2; exit 3`] },
      /token command sh exited with status 3/,
    ],
    ["an empty source", { command: ["true"] }, /the token source is empty/],
    ["a multi-line token", { command: ["printf", "a\\nb"] }, /line breaks/],
  ])("fails closed on %s, naming the source and never the value", (_n, slot, msg) => {
    const sb = sandbox();
    let err: unknown;
    try {
      readSlotToken("s", slot, sb.env, sb.project);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CredentialUnavailable);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).not.toContain(T);
  });
});

describe("tokenSlotProvider", () => {
  const grant = (slot: string | undefined): Grant => ({
    service: "gh",
    mode: "token_slot",
    layer: "user",
    file: "/u.yaml",
    config: { token_slots: { ro: { env_var: "SRC" } } } as unknown as Grant["config"],
    ...(slot !== undefined ? { slot } : {}),
  });
  const ctx = { env: { SRC: T }, cwd: "/", now: () => new Date() };
  it("reads the grant's slot", async () => {
    expect((await tokenSlotProvider.obtain(grant("ro"), ctx)).value).toBe(T);
  });
  it("no slot selected or an unknown slot is CredentialUnavailable", async () => {
    await expect(tokenSlotProvider.obtain(grant(undefined), ctx)).rejects.toThrow(/no token slot selected/);
    await expect(tokenSlotProvider.obtain(grant("rw"), ctx)).rejects.toThrow(/slot "rw" is not defined/);
  });
});
