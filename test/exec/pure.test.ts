import { describe, expect, it } from "vitest";
import { isEnterprise, namedHosts, normalizeHost, repoHost } from "../../src/exec/channels/gh.js";
import { serverAllowed } from "../../src/exec/channels/kubectl.js";
import { envDiff, shellQuote } from "../../src/exec/env.js";
import { parseExecArgs } from "../../src/exec/main.js";
import { signalExitCode } from "../../src/exec/spawn.js";

describe("parseExecArgs", () => {
  it.each([
    [["gh", "pr", "list"], { explain: false, help: false, binary: "gh", args: ["pr", "list"] }],
    [["--", "gh", "--explain"], { explain: false, help: false, binary: "gh", args: ["--explain"] }],
    [["--explain", "--", "gh", "--", "x"], { explain: true, help: false, binary: "gh", args: ["--", "x"] }],
    [["--explain"], { explain: true, help: false, args: [] }],
    [["gh", "--help"], { explain: false, help: false, binary: "gh", args: ["--help"] }],
    [["--help"], { explain: false, help: true, args: [] }],
  ])("%j", (argv, want) => expect(parseExecArgs(argv)).toEqual(want));
});

describe("gh hosts", () => {
  it.each([
    ["GitHub.com", "github.com"],
    ["api.github.com", "github.com"],
    ["https://ghe.example.com/api/v3", "ghe.example.com"],
    ["127.0.0.1:8443", "127.0.0.1:8443"],
  ])("normalizeHost(%s) = %s", (h, want) => expect(normalizeHost(h)).toBe(want));
  it.each([
    ["o/r", undefined],
    ["ghe.example.com/o/r", "ghe.example.com"],
    ["https://evil.example.com/o/r", "evil.example.com"],
    ["git@evil.example.com:o/r.git", "evil.example.com"],
  ])("repoHost(%s) = %s", (v, want) => expect(repoHost(v)).toBe(want));
  it.each([
    [["pr", "list"], {}, []],
    [["api", "-H", "https://x.example", "/user"], {}, []],
    [["-Rghe.example.com/o/r", "pr", "list"], {}, ["ghe.example.com"]],
    [["pr", "list"], { GH_REPO: "ghe.example.com/o/r" }, ["ghe.example.com"]],
    [["api", "--", "https://evil.example.com/x"], {}, ["evil.example.com"]],
  ])("namedHosts(%j, %j)", (args, env, want) => expect(namedHosts(args, env)).toEqual(want));
  it("isEnterprise", () => {
    expect(isEnterprise("github.com")).toBe(false);
    expect(isEnterprise("ghe.example.com")).toBe(true);
  });
});

describe("kubectl serverAllowed", () => {
  it.each([
    ["https://k8s.example.com:6443", ["k8s.example.com"], true],
    ["https://k8s.example.com:6443", ["k8s.example.com:6443"], true],
    ["https://k8s.example.com:6443", ["k8s.example.com:443"], false],
    ["https://k8s.example.com.evil.io", ["k8s.example.com"], false],
    ["https://evil.io", [], false],
    ["not a url", ["not a url"], false],
  ])("%s in %j → %s", (server, allowed, want) => expect(serverAllowed(server, allowed)).toBe(want));
});

describe("env helpers", () => {
  it("envDiff names what was set, changed and removed", () => {
    expect(envDiff({ A: "1", B: "2", C: "3" }, { A: "1", B: "x", D: "4" })).toEqual({
      set: ["D"],
      changed: ["B"],
      removed: ["C"],
    });
  });
  it.each([
    ["/usr/bin", "/usr/bin"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["$HOME", "'$HOME'"],
  ])("shellQuote(%s)", (s, want) => expect(shellQuote(s)).toBe(want));
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
    ["SIGKILL", 137],
  ] as const)("signalExitCode(%s) = %d", (s, n) => expect(signalExitCode(s)).toBe(n));
});
