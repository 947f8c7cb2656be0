/**
 * `downscope doctor [--json]`: is downscope actually in the way of the agent?
 * Each finding says what was checked, what is wrong and the one command or
 * edit that fixes it. Errors make the exit status 1. Credential values are
 * never read into the output: sources are checked for presence only (a
 * `command:` source is not run).
 *
 * Claude Code settings and hooks: https://docs.claude.com/en/docs/claude-code/settings
 * (permissions.deny `Read(path)` rules keep the agent's own tools off a file).
 */
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, UsageError, errorMessage } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { expandHome, type Env } from "../paths.js";
import { lintConfig } from "../policy/lint.js";
import { findProjectConfig, loadPolicy, readConfigText } from "../policy/load.js";
import { parseConfig } from "../policy/parse.js";
import type { Policy } from "../policy/policy.js";
import { auditKeyPath } from "../audit/log.js";
import { CURSOR } from "../agents/cursor.js";
import { GEMINI } from "../agents/gemini.js";
import { configDir } from "../agents/spec.js";
import { auditSettingsOf } from "../audit/settings.js";
import type { Command, Io } from "../io.js";
import { readPins } from "../exec/pins.js";
import { containedState } from "../protection/contained-state.js";
import { CREDENTIAL_ENV, secretVars } from "../protection/secret-env.js";
import { agentFindings, claudeFailOpen, claudeUserSettings } from "./doctor-agents.js";

export type Level = "ok" | "warn" | "error";

export interface Finding {
  level: Level;
  /** Short name of the check: hook, session-start, cursor, gemini, codex, copilot, opencode, pi, shims, binary, source, trust, lint, exposure. */
  check: string;
  message: string;
  /** One line that fixes it (a command or an edit). */
  fix?: string;
}

import { SHIMS_MARKER } from "../paths.js";

/** Credential files an agent could read with its own file tools. */
const CREDENTIAL_FILES = [
  "~/.aws/credentials",
  "~/.config/gh/hosts.yml",
  "~/.kube/config",
  "~/.config/gcloud/application_default_credentials.json",
  "~/.config/gcloud/credentials.db",
  "~/.docker/config.json",
  "~/.netrc",
  "~/.git-credentials",
];

export const doctor: Command = async (argv, io) => {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: "boolean" } } }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: downscope doctor [--json]`);
  }
  const findings = await diagnose(io);
  const errors = findings.filter((f) => f.level === "error").length;
  const warnings = findings.filter((f) => f.level === "warn").length;
  if (values.json) {
    io.stdout(JSON.stringify({ findings, errors, warnings }, null, 2) + "\n");
  } else {
    const mark: Record<Level, string> = { ok: "ok   ", warn: "WARN ", error: "ERROR" };
    for (const f of findings) {
      io.stdout(`${mark[f.level]} ${f.check}: ${f.message}\n`);
      if (f.fix && f.level !== "ok") io.stdout(`      fix: ${f.fix}\n`);
    }
    io.stdout(`\n${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`);
  }
  return errors > 0 ? 1 : 0;
};

export async function diagnose(io: Pick<Io, "env" | "cwd">): Promise<Finding[]> {
  const out: Finding[] = [];
  const env = io.env;
  const projectConfig = findProjectConfig(io.cwd, env);
  const projectRoot = projectConfig !== undefined ? dirname(dirname(projectConfig)) : io.cwd;
  const settingsFiles = [
    claudeUserSettings(env),
    join(projectRoot, ".claude", "settings.json"),
    join(projectRoot, ".claude", "settings.local.json"),
  ];
  const settings = settingsFiles.map((file) => ({ file, ...readSettings(file) }));

  // 1. Hooks.
  for (const s of settings)
    if (s.error)
      out.push({
        level: "error",
        check: "settings",
        message: `${s.file}: ${s.error}`,
        fix: `fix the JSON in ${s.file}`,
      });
  const pre = settings.filter((s) => hasHook(s.json, "PreToolUse", /downscope(\.js)?'?\s+hook\b/, true));
  out.push(
    pre.length > 0
      ? {
          level: "ok",
          check: "hook",
          message: `PreToolUse hook runs \`downscope hook\` (${pre.map((s) => s.file).join(", ")})`,
        }
      : {
          level: "error",
          check: "hook",
          message: `no PreToolUse hook for Bash runs \`downscope hook\` in ${settingsFiles.join(", ")}: Claude Code runs commands unchecked`,
          fix: "downscope install claude",
        },
  );
  const start = settings.filter((s) => hasHook(s.json, "SessionStart", /downscope(\.js)?'?\s+session-start\b/, false));
  out.push(
    start.length > 0
      ? {
          level: "ok",
          check: "session-start",
          message: `SessionStart puts the shims on PATH (${start.map((s) => s.file).join(", ")})`,
        }
      : {
          level: "warn",
          check: "session-start",
          message:
            "no SessionStart hook runs `downscope session-start`: calls from scripts and nested shells bypass the shims",
          fix: "downscope install claude",
        },
  );

  out.push(...claudeFailOpen(settingsFiles));

  // 1b. The other agents' hooks, where their settings exist (docs/agents.md).
  out.push(...otherAgents(env, projectRoot));
  out.push(...(await agentFindings(env)));

  // 2. Policy, trust, lint.
  let policy: Policy | undefined;
  try {
    policy = await loadPolicy({ cwd: io.cwd, env });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    out.push({
      level: "error",
      check: "policy",
      message: e.message,
      fix: "fix the file at the position shown, then `downscope lint`",
    });
  }
  if (policy) {
    if (policy.layers.length === 0)
      out.push({
        level: "error",
        check: "policy",
        message: "no policy found (managed, user or .claude/downscoping.yaml)",
        fix: "downscope init",
      });
    for (const l of policy.layers) {
      if (l.name === "project")
        out.push(
          l.trusted
            ? { level: "ok", check: "trust", message: `${l.file} is trusted` }
            : {
                level: "error",
                check: "trust",
                message: `${l.file} is not trusted (${l.untrustedReason ?? "untrusted"}): it can only restrict, so its services get no credential`,
                fix: `review it, then: downscope trust ${l.file}`,
              },
        );
      const lint = lintFile(l.file);
      out.push(
        lint.errors > 0
          ? {
              level: "error",
              check: "lint",
              message: `${l.file}: ${lint.errors} error(s): ${lint.first}`,
              fix: `downscope lint ${l.file}`,
            }
          : lint.warnings > 0
            ? {
                level: "warn",
                check: "lint",
                message: `${l.file}: ${lint.warnings} warning(s): ${lint.first}`,
                fix: `downscope lint ${l.file}`,
              }
            : { level: "ok", check: "lint", message: `${l.file} lints clean` },
      );
    }
    out.push(...checkServices(policy, env));
  }

  // 3. The audit trail: private files.
  const audit = auditSettingsOf(policy, env);
  if (!audit.enabled)
    out.push({
      level: "warn",
      check: "audit",
      message: "the audit log is disabled (settings.audit.enabled: false)",
      fix: "remove settings.audit.enabled: false from your user config",
    });
  for (const [path, mode] of [
    [dirname(audit.path), 0o700],
    [audit.path, 0o600],
    [auditKeyPath(env), 0o600],
  ] as const) {
    let st;
    try {
      st = statSync(path);
    } catch {
      continue; // created on first use
    }
    if ((st.mode & 0o077) !== 0)
      out.push({
        level: "warn",
        check: "audit",
        message: `${path} is accessible to other users (mode ${(st.mode & 0o777).toString(8)})`,
        fix: `chmod ${mode.toString(8)} ${path}`,
      });
  }

  // 4. What the agent could reach without downscope.
  const contained = containedState(env);
  const keptOut = new Set(contained?.keptOut ?? CREDENTIAL_ENV);
  for (const v of secretVars(env)) {
    if (contained && keptOut.has(v)) {
      out.push({
        level: "ok",
        check: "exposure",
        message: `${v} holds a credential; the sandbox keeps it out of every command`,
      });
      continue;
    }
    out.push(
      contained
        ? {
            level: "error",
            check: "exposure",
            message: `${v} holds a credential and is not kept out of the sandbox: any sandboxed process could read it from /proc/<pid>/environ, so the hook denies every Bash command while it is set`,
            fix: `unset ${v} before starting Claude Code, or run \`downscope install claude --contain\` again from this shell (it keeps out every credential variable it finds)`,
          }
        : {
            level: "warn",
            check: "exposure",
            message: `${v} holds a credential and is set in this environment: an agent started from here can use it around downscope (the hook denies only the plain spellings, like echo $${v})`,
            fix: `unset ${v} before starting Claude Code (give downscope its credential through a slot instead), or run contained`,
          },
    );
  }
  const denied = deniedReads(settings.map((s) => s.json));
  for (const f of CREDENTIAL_FILES) {
    const path = expandHome(f, env);
    if (!readable(path)) continue;
    if (contained) {
      out.push({
        level: "ok",
        check: "exposure",
        message: `${f} exists; the sandbox hides it from every command and the file tools`,
      });
      continue;
    }
    if (denied.some((d) => d === f || expandHome(d, env) === path)) {
      out.push({ level: "ok", check: "exposure", message: `${f} exists and Claude Code settings deny reading it` });
      continue;
    }
    out.push({
      level: "warn",
      check: "exposure",
      message: `${f} is readable: the hook denies the plain reads of it (cat, the Read tool), but a program the agent writes can still read it`,
      fix: `run Claude Code contained (downscope install claude --contain), or move the file out of reach`,
    });
  }
  out.push(...writablePins(env, contained !== undefined));
  // The decision service, when install claude --serve set it up: Claude Code's hooks block every call while it is not ours.
  out.push(...(await serviceFindings(env)));
  // 5. Containment: is the agent inside Claude Code's sandbox, and which roads are still open?
  out.push(...(await checkContainment(io, projectRoot)));
  return out;
}

function checkServices(policy: Policy, env: Env): Finding[] {
  const out: Finding[] = [];
  const dirs = (env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const shimDirs = dirs.filter((d) => existsSync(join(d, SHIMS_MARKER)));
  const seen = new Set<string>();
  for (const l of policy.layers) {
    for (const [name, svc] of Object.entries(l.config.services)) {
      const key = `${l.file}\0${name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Credential sources: presence only, never the value.
      for (const [slotName, slot] of Object.entries(svc.token_slots ?? {})) {
        const where = `${name} slot "${slotName}"`;
        if (slot.env_var !== undefined) {
          if (!env[slot.env_var])
            out.push({
              level: "error",
              check: "source",
              message: `${where}: ${slot.env_var} is not set, so commands needing it are refused`,
              fix: `export ${slot.env_var} in the environment downscope runs in, or use a file: or command: source`,
            });
          else
            out.push({
              level: "warn",
              check: "exposure",
              message: `${where}: ${slot.env_var} is exported here, so the agent (a child of this shell) can read it with \`echo $${slot.env_var}\``,
              fix: `use a file: (0600, outside the project) or command: source for slot "${slotName}" instead of env_var`,
            });
        } else if (slot.file !== undefined) {
          const p = expandHome(slot.file, env);
          if (!readable(p))
            out.push({
              level: "error",
              check: "source",
              message: `${where}: token file ${p} is not readable`,
              fix: `create ${p} (mode 0600) with the token`,
            });
          else if ((statSync(p).mode & 0o077) !== 0)
            out.push({
              level: "warn",
              check: "source",
              message: `${where}: token file ${p} is readable by other users`,
              fix: `chmod 600 ${p}`,
            });
          else out.push({ level: "ok", check: "source", message: `${where}: token file ${p} is readable` });
        } else if (slot.command !== undefined) {
          const exe = slot.command[0]!;
          const found = isAbsolute(exe) ? executable(exe) : dirs.some((d) => executable(join(d, exe)));
          out.push(
            found
              ? { level: "ok", check: "source", message: `${where}: token command ${exe} is found (not run)` }
              : {
                  level: "error",
                  check: "source",
                  message: `${where}: token command ${exe} is not found on PATH`,
                  fix: `install ${exe} or give its absolute path`,
                },
          );
        }
      }
      // The GitHub App's private key: presence and mode only, never read.
      const appKey = svc.downscope_mode === "github_app" ? svc.private_key : undefined;
      if (appKey?.file !== undefined) {
        const p = expandHome(appKey.file, env);
        if (!readable(p))
          out.push({
            level: "error",
            check: "source",
            message: `${name}: the GitHub App private key ${p} is not readable, so nothing can be minted`,
            fix: `save the app's .pem as ${p} (mode 0600), see docs/github.md`,
          });
        else if ((statSync(p).mode & 0o077) !== 0)
          out.push({
            level: "warn",
            check: "source",
            message: `${name}: the GitHub App private key ${p} is readable by other users`,
            fix: `chmod 600 ${p}`,
          });
        else
          out.push({ level: "ok", check: "source", message: `${name}: the GitHub App private key ${p} is readable` });
      }
      if (
        svc.default_slot === undefined &&
        svc.downscope_mode === "token_slot" &&
        svc.server === undefined &&
        !svc.token_slots
      )
        out.push({
          level: "warn",
          check: "source",
          message: `${name}: token_slot mode without token_slots: no credential can be handed out`,
          fix: `add token_slots and default_slot to ${name}`,
        });
      const files = [svc.policy_file, ...svc.rules.map((r) => r.policy_file)].filter(
        (f): f is string => f !== undefined,
      );
      for (const f of new Set(files)) {
        const found = [join(dirname(l.file), f), join(packageRoot(), "policies", f)].some((p) => existsSync(p));
        if (!found)
          out.push({
            level: "error",
            check: "source",
            message: `${name}: policy_file ${f} not found next to ${l.file} nor in the package's policies/`,
            fix: `create ${join(dirname(l.file), f)} or fix the path`,
          });
      }
      // Real binaries and shim order (CLI services only).
      if (svc.server !== undefined && svc.binary === undefined) continue;
      const bin = svc.binary ?? name;
      const real =
        svc.binary_path ??
        dirs
          .filter((d) => !shimDirs.includes(d))
          .map((d) => join(d, bin))
          .find(executable);
      out.push(
        real !== undefined && executable(real)
          ? { level: "ok", check: "binary", message: `${bin}: real binary ${real}` }
          : {
              level: "error",
              check: "binary",
              message: `${bin}: the real binary is not found on PATH (shims skipped)`,
              fix: `install ${bin}, or set binary_path for ${name} in a trusted config`,
            },
      );
      const first = dirs.find((d) => executable(join(d, bin)));
      if (shimDirs.length > 0 && first !== undefined && !shimDirs.includes(first))
        out.push({
          level: "error",
          check: "shims",
          message: `${bin}: ${join(first, bin)} comes before the downscope shims on PATH, so scripts calling ${bin} bypass downscope`,
          fix: `put ${shimDirs[0]} first on PATH (downscope install claude does it for Claude Code sessions)`,
        });
    }
  }
  if (shimDirs.length === 0)
    out.push({
      level: "warn",
      check: "shims",
      message:
        "no directory with the downscope shims is on PATH in this shell (Claude Code sessions get it from the SessionStart hook)",
      fix: "downscope install claude",
    });
  else out.push({ level: "ok", check: "shims", message: `shims on PATH: ${shimDirs[0]}` });
  return out;
}

type Json = unknown;

function readSettings(file: string): { json?: Json; error?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  try {
    return { json: JSON.parse(text) as Json };
  } catch (e) {
    return { error: `not valid JSON (${errorMessage(e)})` };
  }
}

/**
 * Cursor's hooks.json and Gemini CLI's settings.json: a finding only where
 * downscope's hook is installed, and a warning where it would fail open
 * (Cursor without failClosed; a Gemini CLI timeout the hook's deadline does not beat).
 */
function otherAgents(env: Env, projectRoot: string): Finding[] {
  const out: Finding[] = [];
  const deadline = Number(env.DOWNSCOPE_HOOK_DEADLINE_MS) || 4000;
  for (const file of [join(configDir(CURSOR, env), "hooks.json"), join(projectRoot, ".cursor", "hooks.json")]) {
    const hooks = obj(obj(readSettings(file).json)?.hooks);
    const ours = (event: string) =>
      (Array.isArray(hooks?.[event]) ? (hooks[event] as unknown[]) : [])
        .map(obj)
        .filter(
          (h) => typeof h?.command === "string" && /downscope(\.js)?'?\s+hook\s+--agent\s+cursor\b/.test(h.command),
        );
    const events = ["beforeShellExecution", "beforeMCPExecution", "preToolUse"];
    if (events.every((e) => ours(e).length === 0)) continue;
    // preToolUse rewrites and leaves asking to beforeShellExecution; each alone lets something through.
    const missing = events.filter((e) => ours(e).length === 0);
    const open = events.filter((e) => ours(e).some((h) => h?.failClosed !== true));
    // Cursor releases up to at least 2.1 ran only the first hook of a list.
    const notFirst = events.filter((e) => ours(e).length > 0 && ours(e)[0] !== obj((hooks?.[e] as unknown[])[0]));
    const rewrites = ours("preToolUse").some(
      (h) => typeof h?.matcher === "string" && h.matcher.split("|").includes("Shell"),
    );
    const problems = [
      ...(missing.length > 0 ? [`no downscope ${missing.join(", ")} hook, so those calls are not checked`] : []),
      ...(open.length > 0
        ? [`downscope's ${open.join(", ")} hook has no failClosed: true, so Cursor runs the action when the hook fails`]
        : []),
      ...(notFirst.length > 0
        ? [
            `downscope's ${notFirst.join(", ")} hook is not first in its list, and some Cursor releases run only the first`,
          ]
        : []),
      ...(!rewrites && !missing.includes("preToolUse")
        ? [
            "no downscope preToolUse hook for Shell, so service calls are denied with a command to run instead of rewritten",
          ]
        : []),
    ];
    out.push(
      problems.length === 0
        ? { level: "ok", check: "cursor", message: `Cursor hooks run \`downscope hook --agent cursor\` (${file})` }
        : {
            level: "warn",
            check: "cursor",
            message: `${file}: ${problems.join("; ")}`,
            fix: "downscope install cursor",
          },
    );
  }
  for (const file of [join(configDir(GEMINI, env), "settings.json"), join(projectRoot, ".gemini", "settings.json")]) {
    const groups = obj(obj(readSettings(file).json)?.hooks)?.BeforeTool;
    const ours = (Array.isArray(groups) ? groups : [])
      .flatMap((g) => (Array.isArray(obj(g)?.hooks) ? (obj(g)!.hooks as unknown[]) : []))
      .map(obj)
      .filter(
        (h) => typeof h?.command === "string" && /downscope(\.js)?'?\s+hook\s+--agent\s+gemini\b/.test(h.command),
      );
    if (ours.length === 0) continue;
    // Gemini CLI's default timeout is 60 000 ms; a timed-out hook lets the tool run.
    const short = ours.filter((h) => (typeof h?.timeout === "number" ? h.timeout : 60_000) <= deadline);
    out.push(
      short.length === 0
        ? {
            level: "ok",
            check: "gemini",
            message: `Gemini CLI BeforeTool hook runs \`downscope hook --agent gemini\` (${file})`,
          }
        : {
            level: "warn",
            check: "gemini",
            message: `${file}: downscope's hook times out before its own ${deadline} ms deadline, and Gemini CLI runs the tool when a hook times out`,
            fix: "downscope install gemini",
          },
    );
  }
  return out;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Does the settings object have a hook for `event` whose command matches (and, for PreToolUse, a matcher covering Bash)? */
function hasHook(json: Json, event: string, command: RegExp, needsBash: boolean): boolean {
  const groups = obj(obj(json)?.hooks)?.[event];
  if (!Array.isArray(groups)) return false;
  return groups.some((g) => {
    const group = obj(g);
    if (!group) return false;
    const matcher = typeof group.matcher === "string" ? group.matcher : "";
    if (needsBash && matcher !== "" && matcher !== "*" && !safeTest(matcher, "Bash")) return false;
    return (
      Array.isArray(group.hooks) &&
      group.hooks.some((h) => typeof obj(h)?.command === "string" && command.test(obj(h)!.command as string))
    );
  });
}

function safeTest(pattern: string, s: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(s);
  } catch {
    return pattern === s;
  }
}

/** Paths in `Read(...)` rules of permissions.deny, across settings files. */
function deniedReads(all: Json[]): string[] {
  const out: string[] = [];
  for (const j of all) {
    const deny = obj(obj(j)?.permissions)?.deny;
    if (!Array.isArray(deny)) continue;
    for (const r of deny) {
      const m = typeof r === "string" ? /^Read\((.+)\)$/.exec(r) : null;
      if (m) out.push(m[1]!);
    }
  }
  return out;
}

function lintFile(file: string): { errors: number; warnings: number; first: string } {
  try {
    const r = parseConfig(readConfigText(file), file);
    if (!r.ok) return { errors: r.issues.length, warnings: 0, first: r.issues[0]?.message ?? "" };
    const issues = lintConfig(r.config, file, r.doc, r.lineCounter);
    const errors = issues.filter((i) => i.severity === "error");
    const first = (errors[0] ?? issues[0])?.message ?? "";
    return { errors: errors.length, warnings: issues.length - errors.length, first };
  } catch (e) {
    return { errors: 1, warnings: 0, first: errorMessage(e) };
  }
}

function readable(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Contained mode (docs/security-model.md): whether it is on, whether its
 * settings are still what install wrote, and every open road found — a
 * missing sandbox tool, an env_var slot, a project file that loosens the
 * sandbox, downscope-exec where the agent can write it.
 */
async function checkContainment(io: Pick<Io, "env" | "cwd">, projectRoot: string): Promise<Finding[]> {
  const { containedState } = await import("../protection/contained-state.js");
  const { containmentProblem } = await import("../contain/check.js");
  const state = containedState(io.env);
  if (state === undefined)
    return [
      {
        level: "warn",
        check: "contained",
        message:
          "not contained: the agent's own shell can read your credential files and variables, run any binary by absolute path and write downscope's files; downscope then stops only what it sees",
        fix: "downscope install claude --contain  (Claude Code's sandbox: bubblewrap and socat on Linux)",
      },
    ];
  const out: Finding[] = [];
  const road = (message: string, fix: string) => out.push({ level: "error", check: "contained", message, fix });
  const sandbox = obj(obj(readSettings(state.settingsFile).json)?.sandbox);
  if (sandbox === undefined)
    road(`${state.settingsFile} has no sandbox settings any more`, "downscope install claude --contain");
  else {
    if (sandbox.enabled !== true) road("sandbox.enabled is not true", "downscope install claude --contain");
    if (sandbox.allowUnsandboxedCommands !== false)
      road(
        "sandbox.allowUnsandboxedCommands is not false: the model can ask to run a command unsandboxed",
        "downscope install claude --contain",
      );
    if (sandbox.failIfUnavailable !== true)
      road(
        "sandbox.failIfUnavailable is not true: without bubblewrap Claude Code would run commands unsandboxed",
        "downscope install claude --contain",
      );
    const excluded = Array.isArray(sandbox.excludedCommands) ? sandbox.excludedCommands : [];
    if (excluded.some((e) => e !== `${state.exec} *`))
      road(
        `sandbox.excludedCommands has entries besides downscope-exec (${excluded.join(", ")}): those run unsandboxed`,
        "remove them",
      );
  }
  if (process.platform === "linux")
    for (const tool of ["bwrap", "socat"])
      if (!onPath(tool, io.env))
        road(
          `${tool} is not installed: Claude Code refuses to start contained (failIfUnavailable)`,
          "apt install bubblewrap socat",
        );
  const problem = containmentProblem(state, projectRoot);
  if (problem !== undefined) road(problem, "remove it (every Bash command is denied until then)");
  try {
    const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
    for (const layer of policy.layers)
      for (const [name, svc] of Object.entries(layer.config.services))
        for (const [slot, src] of Object.entries(svc.token_slots ?? {}))
          if (src.env_var !== undefined)
            road(
              `${name} slot ${slot} reads $${src.env_var} (${layer.file}): env_var sources are refused in contained mode`,
              `downscope slot set ${slot}, then \`${slot}: { file: ~/.config/downscope/slots/${slot} }\``,
            );
  } catch {
    // The policy findings above already report a policy that does not load.
  }
  if (out.length === 0)
    out.push({
      level: "ok",
      check: "contained",
      message: `contained: Bash runs in Claude Code's sandbox (${state.settingsFile}); credentials are reached only through ${state.exec}`,
    });
  return out;
}

/**
 * A pinned binary (or the directory it sits in) the user can write: anyone
 * running as the user — an agent with a file tool — could replace the file
 * that runs outside the sandbox with a credential. downscope-exec refuses a
 * changed binary (its pin records the file's identity); this says where that
 * could happen.
 */
export function writablePins(env: Env, contained: boolean): Finding[] {
  const out: Finding[] = [];
  let pins: ReadonlyMap<string, { path: string }>;
  try {
    pins = readPins(env);
  } catch (e) {
    return [{ level: "error", check: "pins", message: errorMessage(e), fix: "downscope shims install --repin" }];
  }
  for (const [name, pin] of pins) {
    let real: string;
    try {
      real = realpathSync(pin.path);
    } catch {
      out.push({
        level: "error",
        check: "pins",
        message: `${name}: the pinned ${pin.path} is gone`,
        fix: "downscope shims install --repin",
      });
      continue;
    }
    const writable = [real, dirname(real)].find((p) => userWritable(p));
    if (writable === undefined) continue;
    out.push({
      level: "warn",
      check: "pins",
      message: `${name}: the pinned ${real} ${writable === real ? "is" : "sits in a directory that is"} writable by you, so anything running as you could replace it; downscope-exec then refuses it (the pin records the file's identity) until you re-pin${contained ? "" : ", and in default mode the agent can write there"}`,
      fix: `install ${name} where only root can write (a system package), or accept re-pinning after each upgrade with \`downscope shims install --repin\``,
    });
  }
  return out;
}

async function serviceFindings(env: Env): Promise<Finding[]> {
  const { readServeConfig } = await import("../serve/config.js");
  if (readServeConfig(env) === undefined) return [];
  const { serviceState } = await import("../serve/lifecycle.js");
  const { describe } = await import("./serve.js");
  const s = await serviceState(env);
  return [
    s.state === "ours"
      ? { level: "ok", check: "serve", message: `the decision service is ${describe(s)}` }
      : {
          level: "error",
          check: "serve",
          message: `the decision service is ${describe(s)}: Claude Code's http hook blocks every tool call until it runs`,
          fix: "downscope serve --ensure (or downscope install claude, without --serve, for the process hook)",
        },
  ];
}

function userWritable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    // root can write anywhere: only count files and directories root does not own.
    return process.getuid?.() !== 0 || statSync(p).uid !== 0;
  } catch {
    return false;
  }
}

function onPath(tool: string, env: Env): boolean {
  return (env.PATH ?? "").split(delimiter).some((d) => isAbsolute(d) && executable(join(d, tool)));
}
