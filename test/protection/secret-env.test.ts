/**
 * Which variables hold a credential (src/protection/secret-env.ts): the names
 * contained mode keeps out, the hook refuses to print, doctor lists. The name
 * shapes are string tests for speed; the regular expression they replaced is
 * the oracle here, over every name built from the parts that matter.
 */
import { describe, expect, it } from "vitest";
import { isSecretName, isSecretVar, secretVars } from "../../src/protection/secret-env.js";

const ORACLE =
  /(^|_)(TOKEN|TOKENS)($|_)|SECRET|PASSWORD|PASSWD|PASSPHRASE|(^|_)(API_?KEY|KEY|KEY_ID|PRIVATE_KEY|ACCESS_KEY)$|(^|_)(PAT|CREDENTIALS?)($|_)|(^|_)AUTH_TOKEN/i;

const PARTS = [
  "",
  "TOKEN",
  "TOKENS",
  "TOKENIZER",
  "MYTOKEN",
  "SECRET",
  "secrets",
  "PASSWORD",
  "passwd",
  "PASSPHRASE",
  "PASS",
  "KEY",
  "key",
  "KEYS",
  "KEYMAP",
  "ID",
  "API",
  "APIKEY",
  "PRIVATE",
  "ACCESS",
  "PAT",
  "PATH",
  "path",
  "CREDENTIAL",
  "CREDENTIALS",
  "CRED",
  "AUTH",
  "AUTHOR",
  "GITHUB",
  "X",
];

describe("secret-looking names", () => {
  it("agrees with the regular expression on every name of up to three parts", () => {
    let n = 0;
    for (const a of PARTS)
      for (const b of PARTS)
        for (const c of PARTS)
          for (const name of [`${a}_${b}_${c}`, `${a}_${b}`, `${a}${b}_${c}`, `${a}_${b}${c}`, a]) {
            n++;
            expect(isSecretName(name), name).toBe(ORACLE.test(name));
          }
    expect(n).toBeGreaterThan(100_000);
  });

  it.each([
    ["GITHUB_TOKEN_READONLY", true],
    ["MY_SERVICE_API_KEY", true],
    ["OPENAI_APIKEY", true],
    ["DB_PASSWORD", true],
    ["STRIPE_SECRET", true],
    ["AWS_ACCESS_KEY_ID", true],
    ["GITLAB_PAT", true],
    ["BUILD_CREDENTIALS", true],
    ["X_AUTH_TOKENVALUE", true],
    ["PATH", false],
    ["KEYMAP", false],
    ["SSH_AUTH_SOCK", false],
    ["GPG_TTY", false],
    ["AUTHOR_NAME", false],
    ["HOME", false],
  ])("%s → %s", (name, secret) => expect(isSecretName(name)).toBe(secret));
});

describe("variables that hold a credential", () => {
  it("by name, by a token format's prefix, or by a value downscope knows; never an empty one", () => {
    const env = {
      GH_TOKEN: "x",
      KUBECONFIG: "/home/me/.kube/config",
      SAFE_LOOKING: "ghp_" + "a".repeat(36),
      AKID_HERE: "AKIA" + "A".repeat(16),
      INNOCENT: "slot-token-value",
      DB_PASSWORD: "",
      TOKENIZERS_PARALLELISM: "false",
      SSH_AUTH_SOCK: "/tmp/agent.sock",
      EDITOR: "vim",
      GREETING: "good morning",
    };
    expect(secretVars(env, new Set(["slot-token-value"]))).toEqual([
      "AKID_HERE",
      "GH_TOKEN",
      "INNOCENT",
      "KUBECONFIG",
      "SAFE_LOOKING",
    ]);
    expect(secretVars(env)).not.toContain("INNOCENT");
    expect(isSecretVar("EDITOR", undefined)).toBe(false);
  });
});
