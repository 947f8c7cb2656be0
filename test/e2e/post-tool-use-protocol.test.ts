/**
 * What Claude Code (2.1.328, run for real and offline) does with a
 * PostToolUse hook's answer — the facts the masking hook is built on
 * (docs/masking.md, docs/adr/ADR-032-post-tool-hooks-fail-safe.md). A small
 * scripted hook answers each call as the test tells it; the model's view is
 * read from the scripted API. If a later release changes any of this, a test
 * here fails and the masking hook's design must be looked at again.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { serverEntry } from "../mcp/helpers.js";
import { j, rand } from "../helpers/fake-secrets.js";
import { ensureClaude } from "./claude-cli.js";
import { runClaudeSandboxed, type Step } from "./sandbox-claude.js";

const SECRET = j("probe-secret-", rand(20));

/** The scripted hook: answers the n-th call as modes[n] says (default: mask, keeping the output's shape). */
const HOOK = `
const fs = require("fs");
const dir = process.env.PROBE_DIR;
const p = JSON.parse(fs.readFileSync(0, "utf8"));
fs.appendFileSync(dir + "/calls", p.hook_event_name + "\\n");
const n = fs.readFileSync(dir + "/calls", "utf8").trim().split("\\n").length;
const mode = JSON.parse(fs.readFileSync(dir + "/modes.json", "utf8"))[n] ?? "shape";
const mask = (v) => typeof v === "string" ? v.split(process.env.PROBE_SECRET).join("MASKED") : Array.isArray(v) ? v.map(mask) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)])) : v;
const out = (o) => process.stdout.write(JSON.stringify(o));
const event = p.hook_event_name;
if (mode === "shape") out({ hookSpecificOutput: { hookEventName: event, updatedToolOutput: mask(p.tool_response ?? p.error) } });
if (mode === "string") out({ hookSpecificOutput: { hookEventName: event, updatedToolOutput: "REPLACED" } });
if (mode === "block") out({ decision: "block", reason: "withheld", hookSpecificOutput: { hookEventName: event, updatedToolOutput: "REPLACED" } });
if (mode === "exit1") process.exit(1);
if (mode === "exit2") { process.stderr.write("failed"); process.exit(2); }
if (mode === "badjson") process.stdout.write("{not json");
if (mode === "sleep") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 8000);
`;

let claude = "";
beforeAll(() => {
  claude = ensureClaude();
});

async function probe(o: {
  steps: Step[];
  modes?: Record<number, string>;
  scope?: "user" | "project" | "local" | "flag";
  onFailure?: "block";
  timeout?: number;
  mcp?: boolean;
  keep?: (home: string) => void;
}) {
  const entry: Record<string, unknown> = {
    type: "command",
    command: `PROBE_DIR=@ROOT@ PROBE_SECRET=${SECRET} node @ROOT@/hook.cjs`,
    timeout: o.timeout ?? 10,
    ...(o.onFailure ? { onFailure: o.onFailure } : {}),
  };
  const hooks = {
    hooks: {
      PostToolUse: [{ matcher: "*", hooks: [entry] }],
      PostToolUseFailure: [{ matcher: "*", hooks: [entry] }],
    },
  };
  const scope = o.scope ?? "user";
  mkdirSync(join(homedir(), ".cache"), { recursive: true });
  const tree = mkdtempSync(join(homedir(), ".cache", "downscope-e2e-posttool-"));
  const r = await runClaudeSandboxed({
    claude,
    root: tree,
    commands: o.steps,
    ...(scope === "user"
      ? { settings: hooks }
      : scope === "project"
        ? { projectSettings: hooks }
        : scope === "local"
          ? { localSettings: hooks }
          : { flagSettings: hooks }),
    allowedTools: ["Bash", "Read", "mcp__everything__echo"],
    setup: ({ root, project }) => {
      writeFileSync(join(root, "hook.cjs"), HOOK);
      writeFileSync(join(root, "modes.json"), JSON.stringify(o.modes ?? {}));
      writeFileSync(join(project, "secret.txt"), `the secret: ${SECRET}\n`);
      if (o.mcp)
        writeFileSync(
          join(root, "mcp.json"),
          JSON.stringify({
            mcpServers: {
              everything: { command: process.execPath, args: [serverEntry("@modelcontextprotocol/server-everything")] },
            },
          }),
        );
    },
    ...(o.mcp ? { extraArgs: ["--strict-mcp-config", "--mcp-config", join(tree, "mcp.json")] } : {}),
    timeoutMs: 180_000,
  });
  o.keep?.(r.home);
  r.cleanup();
  return r;
}

const echo = `echo "out: ${SECRET}"`;
const read: Step = { tool: "Read", input: { file_path: "@PROJECT@/secret.txt" } };

describe("Claude Code's PostToolUse, as the masking hook relies on it", () => {
  it.each(["user", "project", "local", "flag"] as const)(
    "updatedToolOutput in the tool's shape replaces what the model sees (%s settings)",
    async (scope) => {
      const r = await probe({ steps: [echo, read], scope });
      expect(r.toolResults[0]).toBe("out: MASKED");
      expect(r.toolResults[1]).toContain("the secret: MASKED");
      expect(r.toolResults.join()).not.toContain(SECRET);
    },
    200_000,
  );

  it("a value without the tool's shape (a string) is dropped for built-in tools: the original shows", async () => {
    const r = await probe({ steps: [echo, read], modes: { 1: "string", 2: "string" } });
    expect(r.toolResults[0]).toContain(SECRET);
    expect(r.toolResults[1]).toContain(SECRET);
  }, 200_000);

  it("a failing hook leaves the output as it was, onFailure: block or not", async () => {
    for (const onFailure of [undefined, "block"] as const) {
      const r = await probe({
        steps: [echo, echo, echo, echo],
        modes: { 1: "exit1", 2: "exit2", 3: "badjson", 4: "sleep" },
        timeout: 2,
        ...(onFailure ? { onFailure } : {}),
      });
      expect(r.toolResults, String(onFailure)).toHaveLength(4);
      for (const t of r.toolResults) expect(t, String(onFailure)).toContain(SECRET);
    }
  }, 400_000);

  it("a command that exits non-zero: PostToolUseFailure's text is not replaced by any answer", async () => {
    const fail = `echo "out: ${SECRET}"; exit 3`;
    const r = await probe({ steps: [fail, fail, fail], modes: { 1: "shape", 2: "string", 3: "block" } });
    expect(r.results.map((x) => x.isError)).toEqual([true, true, true]);
    for (const t of r.toolResults) expect(t).toMatch(new RegExp(`^Exit code 3\\nout: ${SECRET}`));
  }, 200_000);

  it("an output over ~30 KB is saved to a file before the hook runs, unmasked; the model sees the masked preview", async () => {
    let saved = "";
    const r = await probe({
      steps: [`echo "${SECRET}"; head -c 40000 /dev/zero | tr '\\0' 'y'`],
      keep: (home) => {
        const files = (function walk(d: string): string[] {
          return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
            e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
          );
        })(join(home, ".claude", "projects"));
        const f = files.find((x) => x.includes("tool-results"));
        saved = f && existsSync(f) ? readFileSync(f, "utf8") : "";
      },
    });
    expect(r.toolResults[0]).toMatch(/Output too large/);
    expect(r.toolResults[0]).toContain("MASKED");
    expect(r.toolResults[0]).not.toContain(SECRET);
    expect(saved).toContain(SECRET);
  }, 200_000);

  it("an MCP tool's output may also be replaced by a value of another shape", async () => {
    const r = await probe({
      steps: [{ tool: "mcp__everything__echo", input: { message: SECRET } }],
      modes: { 1: "string" },
      mcp: true,
    });
    expect(r.toolResults[0]).toBe("REPLACED");
  }, 200_000);
});
