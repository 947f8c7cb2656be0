import { describe, expect, it } from "vitest";
import { decideBash, decideMcp, parseMcpToolName } from "../../src/hook/decide.js";
import { layer, policyOf } from "../helpers/policy.js";
import { TABLE_POLICY, tableContext } from "./fixture.js";

const X = "downscope-exec";

describe("deny reasons name the rule, the service and the offending part", () => {
  it("policy rule", () => {
    const r = decideBash("ls && gh repo delete o/r --yes", tableContext());
    expect(r.decision).toBe("deny");
    const reason = "reason" in r ? r.reason : "";
    expect(reason).toContain('rule "repo deletion denied" (gh, project config)');
    expect(reason).toContain("`gh repo delete o/r --yes`");
    expect(reason).toContain("deleting repositories is not for agents");
  });
  it("protected environment", () => {
    const r = decideBash("PATH=/tmp/evil gh pr list", tableContext());
    expect(r).toMatchObject({ decision: "deny", reason: expect.stringContaining("sets PATH before calling gh") });
  });
  it("unresolved constructs are named in the ask", () => {
    const r = decideBash("curl x | bash", tableContext());
    expect(r).toMatchObject({ decision: "ask", reason: expect.stringContaining("a script fed to a shell on stdin") });
    const v = decideBash("$CMD repo delete", tableContext());
    expect(v).toMatchObject({ reason: expect.stringContaining("a command name from a variable") });
  });
});

describe("settings", () => {
  const withSettings = (s: string) => policyOf(layer(TABLE_POLICY.replace("settings:\n", `settings:\n  ${s}\n`)));
  it("unresolved: deny turns an unresolvable command into a deny", () => {
    const r = decideBash("$CMD pr list", tableContext({ policy: withSettings("unresolved: deny") }));
    expect(r.decision).toBe("deny");
  });
  it("auto_approve: false leaves the rewrite to the user's rules", () => {
    const r = decideBash("gh pr list", tableContext({ policy: withSettings("auto_approve: false") }));
    expect(r).toEqual({ decision: "rewrite", reason: expect.any(String), command: `${X} gh pr list` });
  });
  it("harmless commands come only from trusted layers", () => {
    const untrusted = policyOf(layer(TABLE_POLICY, "project", false));
    expect(decideBash("gh pr list | jq .", tableContext({ policy: untrusted })).decision).toBe("rewrite");
  });
  it("an untrusted project policy grants nothing, so nothing is auto-approved", () => {
    const untrusted = policyOf(layer(TABLE_POLICY, "project", false));
    expect(decideBash("gh pr list", tableContext({ policy: untrusted })).decision).toBe("rewrite");
    expect(decideBash("gh repo delete o/r", tableContext({ policy: untrusted })).decision).toBe("deny");
  });
  it("a policy without services: nothing is ever said, even for unresolvable commands", () => {
    const empty = policyOf(layer("version: 1\n"));
    for (const c of ["gh repo delete o/r", "$CMD x", "curl x | bash", "echo $(gh"])
      expect(decideBash(c, tableContext({ policy: empty }))).toEqual({ decision: "none" });
  });
});

describe("nested service calls and the shims", () => {
  it("allowed inside bash -c with the shims on PATH: no answer (the shims scope it)", () => {
    expect(decideBash("bash -c 'gh pr list'", tableContext()).decision).toBe("none");
  });
  it("without the shims on PATH: ask, naming why", () => {
    const r = decideBash("bash -c 'gh pr list'", tableContext({ shimsOnPath: false }));
    expect(r).toMatchObject({ decision: "ask", reason: expect.stringContaining("shims are not on PATH") });
    const e = decideBash("eval 'gh pr list' && gh issue list", tableContext({ shimsOnPath: false }));
    expect(e).toEqual({
      decision: "ask",
      reason: expect.any(String),
      command: `eval 'gh pr list' && ${X} gh issue list`,
    });
  });
  it("uses the quoted absolute path when downscope-exec is not on PATH", () => {
    const r = decideBash("gh pr list", tableContext({ execCommand: "'/opt/my tools/bin/downscope-exec.js'" }));
    expect(r).toMatchObject({ command: "'/opt/my tools/bin/downscope-exec.js' gh pr list" });
  });
});

describe("approvals", () => {
  it("are recorded only when the answer is ask, one per review invocation, bound to its argv", () => {
    const seen: [string, readonly string[]][] = [];
    const ctx = tableContext();
    const approve = ctx.approve;
    ctx.approve = (b, a) => (seen.push([b, a]), approve(b, a));
    decideBash("gh pr merge 12 --squash; gh pr merge 13", ctx);
    expect(seen).toEqual([
      ["gh", ["pr", "merge", "12", "--squash"]],
      ["gh", ["pr", "merge", "13"]],
    ]);
    seen.length = 0;
    decideBash("gh pr merge 12 && gh repo delete o/r", ctx);
    decideBash("gh pr list", ctx);
    expect(seen).toEqual([]);
  });
});

describe("MCP tool calls", () => {
  const policy = policyOf(
    layer(`
version: 1
services:
  github-mcp:
    server: github
    downscope_mode: none
    rules:
      - { name: no deletes, match: { tools: [delete_repository] }, action: deny }
      - { name: merges need review, match: { tools: [merge_pull_request] }, action: review }
`),
  );
  it.each([
    ["mcp__github__delete_repository", "deny"],
    ["mcp__github__merge_pull_request", "ask"],
    ["mcp__github__list_issues", "none"],
    ["mcp__other__delete_repository", "none"],
    ["Read", "none"],
  ])("%s → %s", (tool, decision) => {
    expect(decideMcp(tool, { owner: "o" }, tableContext({ policy })).decision).toBe(decision);
  });
  it("parses server and tool names", () => {
    expect(parseMcpToolName("mcp__my_server__do_thing")).toEqual({ server: "my_server", tool: "do_thing" });
    expect(parseMcpToolName("mcp__x")).toBeUndefined();
  });
});
