/**
 * The agents' table (src/agents/) and the hook's hot path agree: every file
 * an agent's entry protects is named by some word of the cheap gate
 * (src/hook/self-gate.ts GATE), so that a plain Bash spelling of a write to
 * it reaches the self-protection; and the gate's list of config-directory
 * variables is the table's.
 */
import { describe, expect, it } from "vitest";
import { AGENTS } from "../../src/agents/index.js";
import { AGENT_DIR_VARS, mayTouchSelf } from "../../src/hook/self-gate.js";

describe("the agents' table and the gate", () => {
  const files = AGENTS.flatMap((a) => [
    ...a.protect.project.map((f) => [a.agent, f.path] as const),
    ...a.protect.user.map((f) => [a.agent, `~/${a.defaultDir({ HOME: "" }).slice(1)}/${f.path}`] as const),
  ]);
  it.each(files)("%s: %s passes the gate", (_agent, path) => {
    expect(mayTouchSelf(`rm ${path}`.replace("rm ", "x "), [])).toBe(true);
  });

  it("the config-directory variables are the table's", () => {
    expect([...AGENT_DIR_VARS].sort()).toEqual(AGENTS.flatMap((a) => (a.configVar ? [a.configVar.name] : [])).sort());
  });
});
