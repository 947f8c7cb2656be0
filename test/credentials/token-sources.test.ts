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
