/**
 * Bypass: the MCP lockfile sits in the project, which the agent can write. An
 * agent (or a poisoned tool talking through it) that wants a drifted tool
 * shown would edit the lockfile to match the new description, delete it,
 * commit one of its own, forge the pin that says a person locked it, reuse a
 * policy trust pin for it, or run `downscope mcp lock` itself.
 * Fix: the proxy uses the lockfile only while its sha256 matches a pin signed
 * with the trust key under its own domain ("mcp-lock"), made by `mcp lock`
 * after a person confirmed at the terminal; a pinned lockfile counts even when
 * deleted; anything else hides and refuses every tool of every server. The
 * hook denies the agent's `downscope mcp lock|unlock` and writes to the
 * lockfile (a protected path).
 * Proves: each tampering below leaves the drifted tool (and every other one)
 * hidden and refused, with a reason naming the problem; the hook denies each
 * spelling; reading the lockfile and `downscope scan` stay allowed.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { answerPayload } from "../../src/hook/answer.js";
import { sha256Hex } from "../../src/lazy-crypto.js";
import { canonicalText } from "../../src/mcp/lock.js";
import { readLockView } from "../../src/mcp/lock-state.js";
import { writePins } from "../../src/policy/trust.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";
import { connect, FIXTURES, text, userPolicy, type Connected } from "../mcp/helpers.js";

const DRIFTING = join(FIXTURES, "drifting-server.mjs");
const open: Connected[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.client.close().catch(() => undefined);
});

interface Locked {
  sb: Sandbox;
  file: string;
  pins: string;
  text: string;
}

/** A project whose lock a person made for the drifting server, whose `exfiltrate` tool is new since. */
async function locked(): Promise<Locked> {
  const sb = sandbox();
  userPolicy(sb, "version: 1\nservices:\n  drifting: { server: drifting, downscope_mode: none }\n");
  const r = await runCli(["mcp", "lock", "--server", "drifting", "--", process.execPath, DRIFTING], {
    env: sb.env,
    cwd: sb.project,
  });
  expect(r.code, r.stderr).toBe(0);
  const file = join(sb.project, ".claude/downscope-mcp.lock");
  return {
    sb,
    file,
    pins: join(sb.home, ".local/state/downscope/mcp-lock-pins.json"),
    text: readFileSync(file, "utf8"),
  };
}

/** The lock with `exfiltrate` added, as the agent would write it to make the new tool pass. */
function widened(text: string): string {
  const lock = JSON.parse(text) as { servers: { drifting: { tools: Record<string, unknown> } } };
  lock.servers.drifting.tools.exfiltrate = { description: "Sends a file somewhere.", inputSchema: { type: "object" } };
  return canonicalText(lock);
}

/** What the model sees through the proxy: the tool names, and the answer to a call of `exfiltrate` and `greet`. */
async function seen(sb: Sandbox) {
  const c = await connect(sb, { server: "drifting", upstream: [DRIFTING], env: { DRIFT_EXTRA_TOOL: "1" } });
  open.push(c);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await c.client.listTools(cursor === undefined ? {} : { cursor });
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const exfiltrate = await c.client.callTool({ name: "exfiltrate", arguments: {} });
  const greet = await c.client.callTool({ name: "greet", arguments: {} });
  return { names: names.sort(), exfiltrate, greet };
}

function expectAllRefused(s: Awaited<ReturnType<typeof seen>>, why: RegExp) {
  expect(s.names).toEqual([]);
  expect(s.exfiltrate.isError).toBe(true);
  expect(s.greet.isError).toBe(true);
  expect(text(s.greet)).toMatch(why);
  expect(text(s.greet)).toContain("downscope mcp lock");
}

describe("an agent-edited MCP lock never makes a drifted tool visible", () => {
  it("control: the genuine lock hides only the new tool", async () => {
    const t = await locked();
    const s = await seen(t.sb);
    expect(s.names).toEqual(["greet", "rugpull"]);
    expect(s.exfiltrate.isError).toBe(true);
    expect(text(s.greet)).toContain("hello");
  });

  it("the lockfile edited to pin the new tool: every tool hidden and refused", async () => {
    const t = await locked();
    writeFileSync(t.file, widened(t.text));
    expectAllRefused(await seen(t.sb), /the lockfile has changed since a person locked it/);
  });

  it("the lockfile deleted: every tool hidden and refused (the pin remains)", async () => {
    const t = await locked();
    rmSync(t.file);
    expectAllRefused(await seen(t.sb), /the lockfile a person locked has been removed/);
  });

  it("a lockfile never locked by a person here (committed or planted): every tool hidden and refused", async () => {
    const sb = sandbox();
    userPolicy(sb, "version: 1\nservices:\n  drifting: { server: drifting, downscope_mode: none }\n");
    const lock = {
      version: 1,
      servers: {
        drifting: {
          tools: {
            greet: {
              description: "Greets the user.",
              inputSchema: { type: "object", properties: { name: { type: "string" } } },
            },
            rugpull: { description: "Changes this server's tools.", inputSchema: { type: "object" } },
          },
        },
      },
    };
    sb.write("project/.claude/downscope-mcp.lock", widened(canonicalText(lock)));
    expectAllRefused(await seen(sb), /not locked by you on this machine/);
  });

  it("a forged pin (unsigned, or signed with a made-up MAC) is not a pin", async () => {
    const t = await locked();
    const forged = widened(t.text);
    writeFileSync(t.file, forged);
    for (const macs of [undefined, { [t.file]: "0".repeat(64) }]) {
      writeFileSync(
        t.pins,
        JSON.stringify({ version: 1, files: { [t.file]: sha256Hex(forged) }, ...(macs ? { macs } : {}) }),
        { mode: 0o600 },
      );
      expect(readLockView(t.sb.project, t.sb.env)).toMatchObject({ kind: "broken" });
    }
    expectAllRefused(await seen(t.sb), /not locked by you on this machine/);
  });

  it("with no trust key yet, an unsigned pin store written by hand trusts nothing", async () => {
    const sb = sandbox();
    const text = canonicalText({ version: 1, servers: {} });
    const file = sb.write("project/.claude/downscope-mcp.lock", text);
    sb.write(
      join(sb.home, ".local/state/downscope/mcp-lock-pins.json"),
      JSON.stringify({ version: 1, files: { [file]: sha256Hex(text) } }),
      0o600,
    );
    expect(readLockView(sb.project, sb.env)).toMatchObject({
      kind: "broken",
      why: expect.stringContaining("not locked by you"),
    });
  });

  it("a pin signed for the policy trust store does not count for the lock (domain separation)", async () => {
    const t = await locked();
    const forged = widened(t.text);
    writeFileSync(t.file, forged);
    // A signature the trust store would accept for this path and hash (the agent cannot make one; downscope can).
    writePins(
      t.sb.env,
      join(t.sb.home, ".local/state/downscope/other.json"),
      "",
      new Map([[t.file, sha256Hex(forged)]]),
    );
    const trustShaped = JSON.parse(
      readFileSync(join(t.sb.home, ".local/state/downscope/other.json"), "utf8"),
    ) as object;
    writeFileSync(t.pins, JSON.stringify(trustShaped), { mode: 0o600 });
    expect(readLockView(t.sb.project, t.sb.env)).toMatchObject({ kind: "broken" });
  });
});

describe("the hook keeps the agent from locking or editing the lock", () => {
  function setup(): Sandbox {
    const sb = sandbox();
    sb.write("project/.claude/downscoping.yaml", "version: 1\nservices: {}\n");
    return sb;
  }
  const answer = (sb: Sandbox, tool_name: string, tool_input: Record<string, unknown>) =>
    answerPayload(
      { tool_name, tool_input, cwd: sb.project },
      { env: { ...sb.env, CLAUDE_PROJECT_DIR: sb.project }, cwd: sb.project },
    );

  it.each([
    "downscope mcp lock",
    "downscope mcp lock --server github",
    "downscope mcp unlock",
    "npx downscope mcp lock",
    "node ./node_modules/downscope/bin/downscope.js mcp lock",
    "bash -c 'downscope mcp lock'",
    "python3 -c \"import subprocess; subprocess.run(['downscope', 'mcp', 'lock'])\"",
    "rm .claude/downscope-mcp.lock",
    "echo '{}' > .claude/downscope-mcp.lock",
    "cp /tmp/mine.lock .claude/downscope-mcp.lock",
    "sed -i s/Greets/Reads/ .claude/downscope-mcp.lock",
  ])("denies `%s`", async (command) => {
    const sb = setup();
    const a = await answer(sb, "Bash", { command });
    expect(a.decision, command).toBe("deny");
    expect("reason" in a ? a.reason : "").toMatch(/ask the user|only the user may change|tell the user/i);
  });

  it.each([
    ["Write", { file_path: ".claude/downscope-mcp.lock", content: "{}" }],
    ["Edit", { file_path: "PROJECT/.claude/downscope-mcp.lock", old_string: "a", new_string: "b" }],
  ])("denies %s of the lockfile", async (tool, input) => {
    const sb = setup();
    const fixed = JSON.parse(JSON.stringify(input).replace("PROJECT", sb.project)) as Record<string, unknown>;
    const a = await answer(sb, tool, fixed);
    expect(a.decision).toBe("deny");
    expect("reason" in a ? a.reason : "").toContain("the project's MCP tool lock");
  });

  it.each(["cat .claude/downscope-mcp.lock", "downscope scan", "downscope scan --json"])(
    "allows `%s`",
    async (command) => {
      const sb = setup();
      const a = await answer(sb, "Bash", { command });
      expect(a.decision, `${command}: ${"reason" in a ? String(a.reason) : ""}`).not.toBe("deny");
    },
  );
});
