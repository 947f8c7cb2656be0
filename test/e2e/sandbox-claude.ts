/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- recorded JSON of an external protocol */
/**
 * Run the real Claude Code CLI, offline, against a scripted Messages API that
 * plays several tool uses in one session (one per turn), with settings of the
 * caller's choosing (typically `sandbox.enabled: true`), and return what the
 * model saw: one tool_result per step, plus `permission_denials` and the
 * whole request log. Meant for escape tests of Claude Code's own sandbox:
 *
 *   const r = await runClaudeSandboxed({
 *     claude, settings: { sandbox: { enabled: true, filesystem: { denyRead: ["~/.aws"] } } },
 *     setup: ({ home }) => writeFileSync(join(home, ".aws/credentials"), "SECRET"),
 *     commands: ["cat ~/.aws/credentials", "ls ~/.aws"],
 *   });
 *   expect(r.toolResults[0]).not.toContain("SECRET");
 *
 * @ROOT@, @HOME@ and @PROJECT@ in settings, commands and env are replaced by
 * the tree's paths (file tools need absolute paths).
 *
 * The tree (root/{home,project}) is made under ~/.cache by default, not under
 * the temp directory: downscope refuses to read its trusted files from a temp
 * directory, and the sandbox treats TMPDIR specially. Call `cleanup()`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { countToolResults, startMultiFakeApi, type Step } from "./fake-anthropic-multi.js";

export type { Step };

export interface SandboxRunOptions {
  /** Path of the claude binary (ensureClaude() in test/e2e). Default: $CLAUDE_BIN. */
  claude?: string;
  /** User settings, written to $HOME/.claude/settings.json. */
  settings?: Record<string, unknown>;
  /** Project settings, written to <project>/.claude/settings.json. */
  projectSettings?: Record<string, unknown>;
  /** Local project settings, written to <project>/.claude/settings.local.json. */
  localSettings?: Record<string, unknown>;
  /** Passed with --settings <file> (written outside home and project). */
  flagSettings?: Record<string, unknown>;
  /** One Bash command (or a { tool, input } call) per turn, in one session. */
  commands: Step[];
  /** Extra environment for Claude Code (on top of HOME, XDG_*, PATH and the API variables). */
  env?: Record<string, string>;
  /** Write files before the run; gets the tree's paths. */
  setup?: (t: { root: string; home: string; project: string }) => void | Promise<void>;
  /** Where to make the tree; default a fresh dir under ~/.cache. */
  root?: string;
  /** --allowedTools; default ["Bash"]. Pass [] to see -p refuse unapproved calls. */
  allowedTools?: string[];
  /** More CLI arguments (e.g. ["--permission-mode", "acceptEdits"]). */
  extraArgs?: string[];
  /** Kill the CLI after this many ms (default 120 s). */
  timeoutMs?: number;
  /** Runs before the scripted model sends step k (0-based): test/e2e/fake-anthropic-multi.ts. */
  beforeStep?: (k: number) => void | Promise<void>;
}

export interface ToolResult {
  text: string;
  isError: boolean;
  raw: any;
}

export interface SandboxRun {
  /** The text of each step's tool_result, in order (what the model saw). */
  toolResults: string[];
  /** The same with is_error and the raw block. */
  results: ToolResult[];
  /** `permission_denials` of the -p JSON result ([] when none). */
  permissionDenials: any[];
  /** The parsed -p JSON result (undefined if stdout was not JSON). */
  result: any;
  /** Every request the CLI sent to the fake API (bodies parsed). */
  transcript: { path: string; body: any }[];
  /** Names of the tools the CLI offered in the main conversation. */
  toolNames: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  root: string;
  home: string;
  project: string;
  cleanup(): void;
}

const textOf = (c: any): string =>
  typeof c.content === "string"
    ? c.content
    : Array.isArray(c.content)
      ? c.content.map((b: any) => (b?.type === "text" ? b.text : JSON.stringify(b))).join("\n")
      : JSON.stringify(c.content);

function writeJson(path: string, value: unknown) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

export async function runClaudeSandboxed(o: SandboxRunOptions): Promise<SandboxRun> {
  const claude = o.claude ?? process.env.CLAUDE_BIN;
  if (!claude) throw new Error("runClaudeSandboxed: pass claude (or set CLAUDE_BIN)");
  let root = o.root;
  if (!root) {
    const base = join(homedir(), ".cache");
    mkdirSync(base, { recursive: true });
    root = mkdtempSync(join(base, "downscope-e2e-sandbox-"));
  }
  const tree: string = root;
  const home = join(tree, "home");
  const project = join(tree, "project");
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  // @ROOT@, @HOME@ and @PROJECT@ anywhere in settings, commands or env stand for the tree's paths.
  const paths = (v: string) => v.replaceAll("@ROOT@", tree).replaceAll("@HOME@", home).replaceAll("@PROJECT@", project);
  const subst = <T>(v: T): T => (v === undefined ? v : (JSON.parse(paths(JSON.stringify(v))) as T));
  o = {
    ...o,
    settings: subst(o.settings),
    projectSettings: subst(o.projectSettings),
    localSettings: subst(o.localSettings),
    flagSettings: subst(o.flagSettings),
    commands: subst(o.commands),
    env: subst(o.env),
  };
  if (o.settings) writeJson(join(home, ".claude", "settings.json"), o.settings);
  if (o.projectSettings) writeJson(join(project, ".claude", "settings.json"), o.projectSettings);
  if (o.localSettings) writeJson(join(project, ".claude", "settings.local.json"), o.localSettings);
  const args = ["-p", "run the scripted commands", "--output-format", "json"];
  const allowed = o.allowedTools ?? ["Bash"];
  if (allowed.length > 0) args.push("--allowedTools", ...allowed);
  if (o.flagSettings) {
    const f = join(root, "flag-settings.json");
    writeJson(f, o.flagSettings);
    args.push("--settings", f);
  }
  args.push(...(o.extraArgs ?? []));
  await o.setup?.({ root, home, project });

  const api = await startMultiFakeApi(o.commands, o.beforeStep ? { beforeStep: o.beforeStep } : {});
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local/state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: "dummy-e2e-key",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ...o.env,
  };
  const child = spawn(claude, args, { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 120_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  await api.close();

  let result: any;
  try {
    result = JSON.parse(stdout);
  } catch {
    result = undefined;
  }
  const main = api.requests.filter(
    (r) => Array.isArray(r.body.tools) && r.body.tools.some((t: any) => t?.name === "Bash"),
  );
  // The main request with the most tool_results holds all of them, in order.
  const last = main.reduce<any>(
    (best, r) =>
      best === undefined || countToolResults(r.body.messages) >= countToolResults(best.body.messages) ? r : best,
    undefined,
  );
  const blocks: any[] = (last?.body.messages ?? [])
    .flatMap((m: any) => (Array.isArray(m.content) ? m.content : []))
    .filter((c: any) => c?.type === "tool_result");
  const results = blocks.map((b) => ({ text: textOf(b), isError: b.is_error === true, raw: b }));
  const r0 = root;
  return {
    toolResults: results.map((r) => r.text),
    results,
    permissionDenials: result?.permission_denials ?? [],
    result,
    transcript: api.requests,
    toolNames: (main[0]?.body.tools ?? []).map((t: any) => t.name),
    code,
    stdout,
    stderr,
    root,
    home,
    project,
    cleanup: () => {
      rmSync(r0, { recursive: true, force: true });
      // Claude Code keeps per-project state (task outputs, cwd files) in /tmp/claude-<uid>/<project path, "/" and "." as "-">.
      const uid = process.getuid?.() ?? 0;
      rmSync(join("/tmp", `claude-${uid}`, project.replace(/[/.]/g, "-")), { recursive: true, force: true });
    },
  };
}
