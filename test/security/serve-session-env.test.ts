/**
 * Bypass: an http hook request carries the session's environment as headers
 * (src/serve/request-env.ts). A request forged by a key holder could point
 * HOME or XDG_STATE_HOME at a directory it wrote (a "trusted" policy, its own
 * approvals), or name other variables (GH_TOKEN, LD_PRELOAD, NODE_OPTIONS) to
 * change what the service does.
 * Fix: only the session variables are read from headers, and the policy load
 * refuses relocations into temp directories and the project exactly as for
 * the process hook (src/paths.ts relocationProblem).
 * Proves: relocating headers get the process hook's deny; headers for other
 * names set nothing (the decision is the one of a request without them).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envHeader } from "../../src/serve/request-env.js";
import { sandbox } from "../helpers/sandbox.js";
import { claudePayload, HOOK_PATH, hookHeaders, post, testService, writeUserPolicy } from "../serve/service-fixture.js";

const POLICY =
  "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no, match: { command: [repo, delete] }, action: deny }\n";

describe("the session's environment in headers", () => {
  it.each([
    ["XDG_STATE_HOME", "/tmp/agent-state"],
    ["XDG_CONFIG_HOME", "/dev/shm/agent-config"],
    ["DOWNSCOPE_MANAGED_CONFIG", "/var/tmp/evil.yaml"],
    ["XDG_STATE_HOME", "PROJECT/.state"],
  ])("%s=%s is refused as by the process hook", async (name, value) => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb);
    const h = { ...hookHeaders(s.key, sb.env), [envHeader(name)]: value.replace("PROJECT", sb.project) };
    const r = await post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh pr list" }), h);
    expect(r.body).toMatch(/"permissionDecision":"deny".*refuses to read its trusted files from there/);
  });

  it("headers for other variables change nothing", async () => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb);
    const payload = claudePayload(sb, "Bash", { command: "gh repo delete o/r" });
    const plain = await post(s.port, HOOK_PATH, payload, hookHeaders(s.key, sb.env));
    const extra = await post(s.port, HOOK_PATH, payload, {
      ...hookHeaders(s.key, sb.env),
      "X-Downscope-Env-GH-TOKEN": "ghp_x",
      "X-Downscope-Env-LD-PRELOAD": join(sb.project, "evil.so"),
      "X-Downscope-Env-NODE-OPTIONS": "--require /tmp/evil.js",
    });
    expect(extra.body).toBe(plain.body);
    expect(plain.body).toContain('denied by rule \\"no\\"');
  });
});
