/**
 * Starting and stopping the decision service with real processes
 * (src/serve/lifecycle.ts, bin/serve-keeper.sh, bin/serve-ensure.sh): the
 * SessionStart path is idempotent and safe when several sessions start at
 * once, a port held by another program is reported and never used, the
 * service's environment holds no credential, and the keeper restarts a
 * killed service while connections wait.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureServeConfig } from "../../src/serve/config.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { claudePayload, HOOK_PATH, hookHeaders, post, writeUserPolicy } from "./service-fixture.js";

const ROOT = join(import.meta.dirname, "..", "..");
const started: Sandbox[] = [];
afterEach(async () => {
  for (const sb of started.splice(0)) await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
});

/** A user with the service set up (as install claude --serve leaves it), not yet running. */
async function setUp(): Promise<{ sb: Sandbox; port: number; key: string }> {
  const sb = sandbox();
  started.push(sb);
  writeUserPolicy(
    sb,
    "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no, match: { command: [repo, delete] }, action: deny }\n",
  );
  const config = await ensureServeConfig(sb.env, () => Promise.resolve(freePort()));
  return { sb, port: config.port, key: config.key };
}

const status = async (sb: Sandbox) => (await runCli(["serve", "--status"], { env: sb.env, cwd: "/" })).stdout;
const pidsOf = (pattern: string) =>
  spawnSync("pgrep", ["-f", pattern], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).map(Number);

describe("downscope serve --ensure", () => {
  it("five sessions starting at once start one service", async () => {
    const { sb } = await setUp();
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        Promise.resolve(
          spawnSync(process.execPath, [join(ROOT, "bin/downscope.js"), "serve", "--ensure"], {
            env: sb.env,
            encoding: "utf8",
          }),
        ),
      ),
    );
    // spawnSync runs them one after another; run them truly at once as well:
    const { spawn } = await import("node:child_process");
    const parallel = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<number>((resolve) =>
            spawn(process.execPath, [join(ROOT, "bin/downscope.js"), "serve", "--ensure"], { env: sb.env }).on(
              "close",
              (c) => resolve(c ?? -1),
            ),
          ),
      ),
    );
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 0, 0]);
    expect(parallel).toEqual([0, 0, 0, 0, 0]);
    const keeper = Number(readFileSync(join(sb.home, ".local/state/downscope/serve/serve.pid"), "utf8").split(" ")[0]);
    // One keeper, one service, for this home.
    expect(pidsOf(`serve-keeper.sh`).filter((p) => p === keeper)).toHaveLength(1);
    const children = spawnSync("pgrep", ["-g", String(keeper)], { encoding: "utf8" })
      .stdout.trim()
      .split("\n");
    expect(children).toHaveLength(2);
    expect(await status(sb)).toMatch(/^running on 127\.0\.0\.1:\d+ \(pid \d+, /);
  });

  it("a port held by another program is reported, and that program is left alone", async () => {
    const { sb, port } = await setUp();
    const other = createServer((_q, r) => r.end("{}")).listen(port, "127.0.0.1");
    await new Promise((r) => other.once("listening", r));
    const r = await runCli(["serve", "--ensure"], { env: sb.env, cwd: "/" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is held by another program/);
    expect(other.listening).toBe(true);
    other.close();
  });

  it("the service's environment has none of the starter's credentials", async () => {
    const { sb } = await setUp();
    const env = {
      ...sb.env,
      GITHUB_TOKEN: "ghp_secret_1",
      AWS_SECRET_ACCESS_KEY: "aws_secret_2",
      DOWNSCOPE_CONFIG: "x.yaml",
    };
    expect(spawnSync(process.execPath, [join(ROOT, "bin/downscope.js"), "serve", "--ensure"], { env }).status).toBe(0);
    const pid = Number(/pid (\d+)/.exec(await status(sb))?.[1]);
    const keeper = Number(readFileSync(join(sb.home, ".local/state/downscope/serve/serve.pid"), "utf8").split(" ")[0]);
    for (const p of [pid, keeper]) {
      const environ = readFileSync(`/proc/${p}/environ`, "utf8");
      expect(environ).not.toMatch(/ghp_secret_1|aws_secret_2|DOWNSCOPE_CONFIG/);
      expect(environ).toContain(`HOME=${sb.home}`);
    }
  });

  it("the keeper starts a killed service again, and a call sent meanwhile waits and is decided", async () => {
    const { sb, port, key } = await setUp();
    expect((await runCli(["serve", "--ensure"], { env: sb.env, cwd: "/" })).code).toBe(0);
    const pid = Number(/pid (\d+)/.exec(await status(sb))?.[1]);
    process.kill(pid, "SIGKILL");
    // At once, while nothing accepts: the connection waits in the keeper's socket.
    const r = await post(
      port,
      HOOK_PATH,
      claudePayload(sb, "Bash", { command: "gh repo delete o/r" }),
      hookHeaders(key, sb.env),
    );
    expect(r.body).toContain('denied by rule \\"no\\"');
    expect(Number(/pid (\d+)/.exec(await status(sb))?.[1])).not.toBe(pid);
  });

  it("the ensure hook (sh) does nothing while the keeper lives, and starts it when it is gone", async () => {
    const { sb } = await setUp();
    const ensure = () =>
      spawnSync(join(ROOT, "bin/serve-ensure.sh"), [process.execPath, join(ROOT, "bin/downscope.js")], {
        env: sb.env,
        encoding: "utf8",
      });
    expect(ensure().status).toBe(0);
    const keeper = readFileSync(join(sb.home, ".local/state/downscope/serve/serve.pid"), "utf8");
    expect(ensure().status).toBe(0);
    expect(readFileSync(join(sb.home, ".local/state/downscope/serve/serve.pid"), "utf8")).toBe(keeper);
    process.kill(-Number(keeper.split(" ")[0]), "SIGKILL");
    await until(async () => !(await status(sb)).startsWith("running"));
    const again = ensure();
    expect(again.status, again.stderr).toBe(0);
    expect(await status(sb)).toMatch(/^running/);
    expect(readFileSync(join(sb.home, ".local/state/downscope/serve/serve.pid"), "utf8")).not.toBe(keeper);
  });

  it("stop ends the keeper and the service, and the log is in the state directory", async () => {
    const { sb } = await setUp();
    expect((await runCli(["serve", "--ensure"], { env: sb.env, cwd: "/" })).code).toBe(0);
    const r = await runCli(["serve", "--stop"], { env: sb.env, cwd: "/" });
    expect(r.stderr).toContain("stopped");
    expect(await status(sb)).toMatch(/^not running/);
    expect(readFileSync(join(sb.home, ".local/state/downscope/serve/serve.log"), "utf8")).toMatch(
      /listening on 127\.0\.0\.1/,
    );
  });
});

async function until(what: () => Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
    if (await what()) return;
}

function freePort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (spawnSync("sh", ["-c", `ss -ltn | grep -q ':${port} '`]).status !== 0) return port;
  }
}
