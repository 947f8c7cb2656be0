/**
 * Layers: privileges can only go down.
 * Bypass guarded against: the agent can edit files in the project, so a
 * project policy that grants a write token would be privilege escalation by
 * file edit. Only trusted (pinned sha256) project files may grant; any layer
 * may restrict. These tests prove rules 1–4 of docs/config.md "Layers".
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.js";
import { decide } from "../../src/policy/evaluate.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox } from "../helpers/sandbox.js";

const USER = `
version: 1
services:
  gh:
    token_slots: { ro: { env_var: RO }, rw: { env_var: RW } }
    default_slot: ro
    rules:
      - { name: user allows create with rw, match: { command: [pr, create] }, slot: rw }
`;
const PROJECT_WIDENING = `
version: 1
services:
  gh:
    token_slots: { rw: { env_var: RW } }
    default_slot: rw
    rules:
      - { name: project blocks merge, match: { command: [pr, merge] }, action: deny }
      - { name: project wants review on close, match: { command: [pr, close] }, action: review }
`;
const MANAGED = `
version: 1
services:
  gh:
    rules:
      - { name: org forbids delete, match: { command: [repo, delete] }, action: deny }
`;

function setup() {
  const sb = sandbox();
  sb.write(join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"), USER);
  sb.write(sb.env.DOWNSCOPE_MANAGED_CONFIG!, MANAGED);
  const projectFile = sb.write(join(sb.project, ".claude/downscoping.yaml"), PROJECT_WIDENING);
  const cli = (s: string) => ({ kind: "cli" as const, binary: "gh", args: s.split(" ") });
  const decideIn = async (cmd: string) => decide(await loadPolicy({ cwd: sb.project, env: sb.env }), cli(cmd));
  return { sb, projectFile, decideIn };
}

describe("layers", () => {
  it("1. a deny or review from any layer applies, even an untrusted one", async () => {
    const { decideIn } = setup();
    expect(await decideIn("repo delete o/r")).toMatchObject({ action: "deny", rule: { layer: "managed" } });
    expect(await decideIn("pr merge 1")).toMatchObject({ action: "deny", rule: { layer: "project" } });
    expect(await decideIn("pr close 1")).toMatchObject({ action: "review", rule: { layer: "project" } });
  });

  it("2+3. an untrusted project file cannot widen: its default_slot rw is ignored", async () => {
    const { decideIn } = setup();
    const d = await decideIn("pr list");
    expect(d.action).toBe("allow");
    expect(d.grant).toMatchObject({ layer: "user", slot: "ro" });
    expect(d.notes.join()).toContain("not trusted (never trusted)");
  });

  it("2. a trusted project file grants; modifying it withdraws the trust", async () => {
    const { sb, projectFile, decideIn } = setup();
    const r = await runCli(["trust"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    expect((await decideIn("pr list")).grant).toMatchObject({ layer: "project", slot: "rw" });
    sb.write(projectFile, PROJECT_WIDENING + "# edited by the agent\n");
    const d = await decideIn("pr list");
    expect(d.grant).toMatchObject({ layer: "user", slot: "ro" });
    expect(d.notes.join()).toContain("modified since it was trusted");
  });

  it("3. a project file alone, untrusted, grants nothing", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), PROJECT_WIDENING);
    const d = decide(await loadPolicy({ cwd: sb.project, env: sb.env }), {
      kind: "cli",
      binary: "gh",
      args: ["pr", "list"],
    });
    expect(d.action).toBe("allow");
    expect(d.grant).toBeUndefined();
    expect(d.notes.join()).toContain("no trusted layer configures a credential");
  });

  it("4. check shows which layer and rule decided, and the untrusted note", async () => {
    const { sb } = setup();
    const r = await runCli(["check", "--", "gh", "repo", "delete", "o/r"], { env: sb.env, cwd: sb.project });
    expect(r.stdout).toContain("decision: deny");
    expect(r.stdout).toContain(`layer:    managed (${sb.env.DOWNSCOPE_MANAGED_CONFIG})`);
    expect(r.stdout).toContain('rule:     #1 "org forbids delete"');
    expect(r.stdout).toContain("its rules can only restrict");
    const j = await runCli(["check", "--json", "--", "gh", "pr", "create"], { env: sb.env, cwd: sb.project });
    expect(JSON.parse(j.stdout)).toMatchObject({
      action: "allow",
      layer: "user",
      rule: "user allows create with rw",
      slot: "rw",
      credential: { kind: "token_slot", scope: "slot rw ($RW)" },
    });
  });

  it("the project file is found upward from a subdirectory", async () => {
    const { sb, decideIn } = setup();
    void sb;
    expect((await decideIn("pr merge")).rule?.layer).toBe("project");
  });

  it("bad config in any layer fails closed with file and position", async () => {
    const { sb } = setup();
    sb.write(
      sb.env.DOWNSCOPE_MANAGED_CONFIG!,
      "version: 1\nservices:\n  gh:\n    rules: [ { name: x, action: nope } ]\n",
    );
    const r = await runCli(["check", "--", "gh", "pr", "list"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/config\.yaml:4:\d+: services\.gh\.rules\[0\]\.action: expected allow \| deny \| review/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a config that is a directory, or missing DOWNSCOPE_CONFIG, is a clear error", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml/x"), "");
    let r = await runCli(["check", "--", "gh"], { env: sb.env, cwd: sb.project });
    expect(r.stderr).toContain("downscoping.yaml: is a directory");
    r = await runCli(["check", "--", "gh"], {
      env: { ...sb.env, DOWNSCOPE_CONFIG: "/nonexistent.yaml" },
      cwd: sb.project,
    });
    expect(r.stderr).toContain("/nonexistent.yaml: file not found");
    expect(r.code).toBe(78);
  });
});
