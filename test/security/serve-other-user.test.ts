/**
 * Bypass: loopback is shared by every user of a machine. Another user could
 * connect to this user's decision service and ask for decisions (learning the
 * policy, the paths it protects) or, with a stolen key, mint approvals in
 * this user's state directory.
 * Fix: the service looks up who owns the client's end of each connection in
 * the kernel's socket table (/proc/net/tcp, src/serve/peer.ts) and closes
 * connections from any other uid before reading a request.
 * Proves: a real client running as another user (nobody, when the tests run
 * as root) gets its connection closed even with the right key; a client
 * reported as another uid is refused; this user's own client is answered.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";
import { claudePayload, HOOK_PATH, hookHeaders, post, testService, writeUserPolicy } from "../serve/service-fixture.js";

const POLICY =
  "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no, match: { command: [repo, delete] }, action: deny }\n";

describe("connections from another user", () => {
  it("are closed before a request is read (a client the socket table names as another uid)", async () => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb, { peerUid: () => 4242 });
    await expect(
      post(s.port, HOOK_PATH, claudePayload(sb, "Bash", { command: "gh repo delete x" }), hookHeaders(s.key, sb.env)),
    ).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(s.log.join("\n")).toMatch(/refused a connection from uid 4242/);
  });

  it("a client the socket table does not show (gone before the check) is refused too", async () => {
    const sb = sandbox();
    writeUserPolicy(sb, POLICY);
    const s = await testService(sb, { peerUid: () => undefined });
    await expect(post(s.port, "/v1/identity", JSON.stringify({ challenge: "c".repeat(32) }), {})).rejects.toThrow();
  });

  it.runIf(process.getuid?.() === 0)(
    "a real process of user nobody, with the right key, is refused; this user is answered",
    async () => {
      const sb = sandbox();
      writeUserPolicy(sb, POLICY);
      const s = await testService(sb);
      const body = claudePayload(sb, "Bash", { command: "gh repo delete x" });
      const script = `
      const r = require("node:http").request({ host: "127.0.0.1", port: ${s.port}, method: "POST", path: "${HOOK_PATH}",
        headers: ${JSON.stringify({ ...hookHeaders(s.key, sb.env), "content-type": "application/json" })} }, (res) => {
        let t = ""; res.on("data", (c) => (t += c)); res.on("end", () => { console.log("ANSWERED " + res.statusCode + " " + t); });
      });
      r.on("error", (e) => console.log("REFUSED " + e.code));
      r.end(${JSON.stringify(body)});`;
      // Not spawnSync: the service runs in this process and must answer meanwhile.
      const run = (file: string, args: string[]) =>
        new Promise<string>((resolve) => {
          const c = spawn(file, args, { cwd: "/", stdio: ["ignore", "pipe", "inherit"] });
          let out = "";
          c.stdout.on("data", (d: Buffer) => (out += d.toString()));
          c.on("close", () => resolve(out));
        });
      const asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script];
      expect(await run("setpriv", asNobody)).toMatch(/^REFUSED (ECONNRESET|EPIPE)/);
      expect(await run(process.execPath, ["-e", script])).toMatch(/^ANSWERED 200 .*denied by rule/);
    },
  );
});
