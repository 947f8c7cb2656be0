import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/policy/load.js";
import { parseDocument } from "yaml";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

describe("downscope init", () => {
  it("writes the template, trusts it, and prints next steps", async () => {
    const sb = sandbox();
    const r = await runCli(["init", "--template", "readonly"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    const file = join(sb.project, ".claude/downscoping.yaml");
    expect(readFileSync(file, "utf8")).toContain("# downscope starter policy: readonly");
    const policy = await Promise.resolve(loadPolicy({ cwd: sb.project, env: sb.env }));
    expect(policy.layers.map((l) => [l.name, l.trusted])).toEqual([["project", true]]);
    expect(r.stderr).toContain("GITHUB_TOKEN_READONLY, KUBE_TOKEN_VIEWER");
    expect(r.stderr).toContain("downscope install claude");
    // The written file passes its own tests and the attack pack.
    expect((await runCli(["test"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    expect((await runCli(["test", "--attacks"], { env: sb.env, cwd: sb.project })).code).toBe(0);
  });

  it("refuses to overwrite without --force", async () => {
    const sb = sandbox();
    const file = sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\n");
    const r = await runCli(["init"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`${file} already exists; use --force`);
    expect(readFileSync(file, "utf8")).toBe("version: 1\n");
    expect((await runCli(["init", "--force"], { env: sb.env, cwd: sb.project })).code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("starter policy: developer");
  });

  it("--services keeps only those services and their tests; the rest is reported as not covered", async () => {
    const sb = sandbox();
    const r = await runCli(["init", "--template", "strict", "--services", "gh,filesystem"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(r.code).toBe(0);
    const doc = parseDocument(readFileSync(join(sb.project, ".claude/downscoping.yaml"), "utf8")).toJS();
    expect(Object.keys(doc.services)).toEqual(["gh", "filesystem"]);
    expect(
      doc.tests.every(
        (t: { command?: string; server?: string }) => t.server === "filesystem" || t.command?.includes("gh"),
      ),
    ).toBe(true);
    const tests = await runCli(["test"], { env: sb.env, cwd: sb.project });
    expect(tests.code).toBe(0);
    const attacks = await runCli(["test", "--attacks"], { env: sb.env, cwd: sb.project });
    expect(attacks.code).toBe(0);
    expect(attacks.stdout).toContain(
      "not covered (your policy does not configure these, so downscope does not see them): aws",
    );
  });

  it("--ci github writes a workflow running lint, test, test --attacks and mcp lock --check", async () => {
    const sb = sandbox();
    const r = await runCli(["init", "--ci", "github"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    const wf = readFileSync(join(sb.project, ".github/workflows/downscope.yml"), "utf8");
    const steps = parseDocument(wf)
      .toJS()
      .jobs.policy.steps.map((s: { run?: string }) => s.run)
      .filter(Boolean);
    expect(steps.slice(1)).toEqual([
      "downscope lint .claude/downscoping.yaml",
      "downscope test --policy .claude/downscoping.yaml",
      "downscope test --attacks --policy .claude/downscoping.yaml",
      "downscope mcp lock --check",
    ]);
    const lockStep = (parseDocument(wf).toJS().jobs.policy.steps as { run?: string; if?: string }[]).at(-1);
    expect(lockStep?.if).toBe("hashFiles('.claude/downscope-mcp.lock') != ''"); // only where a lock is committed
    expect(parseDocument(wf).toJS().on).toContain("push");
  });

  it("rejects unknown templates, services and CI targets without writing anything", async () => {
    const sb = sandbox();
    for (const args of [
      ["--template", "lax"],
      ["--services", "gh,jira"],
      ["--ci", "gitlab"],
    ]) {
      const r = await runCli(["init", ...args], { env: sb.env, cwd: sb.project });
      expect(r.code, args.join(" ")).toBe(64);
    }
    expect(existsSync(join(sb.project, ".claude"))).toBe(false);
  });
});
