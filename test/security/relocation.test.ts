/**
 * Bypass: the agent sets HOME, XDG_STATE_HOME, XDG_CONFIG_HOME or
 * DOWNSCOPE_MANAGED_CONFIG for a command (or in a script that calls a shim) so
 * that downscope reads a "trusted" user/managed policy, trust store, pins or
 * approvals the agent wrote itself in /tmp or in the project.
 * Fix: relocations into temp dirs or the project are refused (fail closed).
 * Proves: the wrapper's policy load refuses each variable; a normal sandbox works.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.js";
import { ConfigError } from "../../src/errors.js";
import { sandbox } from "../helpers/sandbox.js";

describe("relocating downscope's own files", () => {
  const cases: [string, (sb: ReturnType<typeof sandbox>) => Record<string, string>][] = [
    ["XDG_STATE_HOME into /tmp", () => ({ XDG_STATE_HOME: "/tmp/agent-state" })],
    ["XDG_CONFIG_HOME into /tmp", () => ({ XDG_CONFIG_HOME: "/tmp/agent-config" })],
    ["HOME into /dev/shm", () => ({ HOME: "/dev/shm/x", XDG_CONFIG_HOME: "", XDG_STATE_HOME: "", XDG_CACHE_HOME: "" })],
    ["DOWNSCOPE_MANAGED_CONFIG into /var/tmp", () => ({ DOWNSCOPE_MANAGED_CONFIG: "/var/tmp/evil.yaml" })],
    ["XDG_STATE_HOME into the project", (sb) => ({ XDG_STATE_HOME: join(sb.project, ".state") })],
  ];
  it.each(cases)("%s is refused", async (_name, override) => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: {}\n");
    const env = { ...sb.env, ...override(sb) };
    await expect(loadPolicy({ cwd: sb.project, env })).rejects.toThrow(ConfigError);
    await expect(loadPolicy({ cwd: sb.project, env })).rejects.toThrow(/refuses to read its trusted files from there/);
  });

  it("a sandbox outside temp dirs and the project loads", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), "version: 1\nservices:\n  gh: {}\n");
    expect((await loadPolicy({ cwd: sb.project, env: sb.env })).layers).toHaveLength(1);
  });
});
