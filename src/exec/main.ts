/**
 * `downscope-exec [--explain] [--] <binary> [args...]`: the wrapper (see
 * docs/exec.md). Decides again, gets the scoped credential, runs the real
 * binary with it, passes on its exit status or signal. The only place that
 * maps exec's typed errors to exit codes; every temporary file is removed on
 * every exit path.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Io } from "../io.js";
import { ConfigError, CredentialUnavailable, DownscopeError, errorMessage, PolicyDenied } from "../errors.js";
import { describeDecision } from "../policy/evaluate.js";
import { envDiff, shellQuote } from "./env.js";
import { planExec, type ExecPlan } from "./plan.js";
import { containedState, inSandbox } from "../protection/contained-state.js";
import { createRunDir, removeRunDir } from "./run-dir.js";
import { auditEvent, prepareAuditEvent } from "../audit/event.js";
import { fingerprint } from "../credentials/token-sources.js";
import { reraise, runChild, signalExitCode, type ChildExit } from "./spawn.js";
import { outputTaps, type Taps } from "./output-tap.js";
import type { OutputRecord } from "../audit/record.js";
import { auditSettingsOf } from "../audit/settings.js";
import { rememberSecrets } from "../mask/known-secrets.js";

const USAGE = `usage: downscope-exec [--explain] [--approval NONCE] [--] <binary> [args...]

Runs <binary> with only the scoped credential the policy grants it.
  --explain   print the decision, the real binary and the child's environment
              (names; secret values redacted) without running anything
  --approval  the single-use approval of a review, written by the hook when a
              human approves (contained mode: an environment prefix would keep
              the call inside Claude Code's sandbox)
Environment: DOWNSCOPE_CONFIG (project policy file), DOWNSCOPE_APPROVAL (set by
the hook for an approved review), DOWNSCOPE_EXEC_DEPTH (loop guard),
DOWNSCOPE_DEBUG (stack traces on internal errors).
`;

const CLEANUP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

export interface ExecRuntime {
  /** Starts the command; `taps` copy its stdout/stderr on (src/exec/output-tap.ts). */
  run: (plan: ExecPlan, cwd: string, taps?: Taps) => Promise<ChildExit>;
  /** The taps for this run (default: stdout and stderr unless they are terminals). */
  taps?: (secrets: ExecSecret[], capture: number | undefined) => Taps;
  reraise: (signal: NodeJS.Signals) => void;
  selfPaths: readonly string[];
}

declare const __filename: string | undefined;

function selfPaths(): string[] {
  const out = new Set<string>();
  for (const p of [process.argv[1], typeof __filename === "string" ? __filename : fileURLToPath(import.meta.url)]) {
    if (!p) continue;
    try {
      out.add(realpathSync.native(p));
    } catch {
      /* not a file */
    }
  }
  return [...out];
}

type ExecSecret = { value: string; kind: string };

export const defaultRuntime = (): ExecRuntime => ({
  run: (plan, cwd, taps) => runChild({ file: plan.file, argv: plan.argv, env: plan.env, cwd }, taps),
  taps: (secrets, capture) => outputTaps({ secrets, ...(capture !== undefined ? { capture } : {}) }),
  reraise,
  selfPaths: selfPaths(),
});

export function parseExecArgs(argv: readonly string[]): {
  explain: boolean;
  help: boolean;
  approval?: string;
  binary?: string;
  args: string[];
} {
  let explain = false;
  let approval: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--explain") explain = true;
    else if (a === "--approval") approval = argv[++i] ?? "";
    else if (a === "--help" || a === "-h") return { explain, help: true, args: [] };
    else if (a === "--") {
      i++;
      break;
    } else break;
  }
  const [binary, ...args] = argv.slice(i);
  return {
    explain,
    help: false,
    ...(approval !== undefined ? { approval } : {}),
    ...(binary !== undefined ? { binary } : {}),
    args,
  };
}

/** Values --explain may show; every other value is redacted, secret or not. */
const SHOWN = new Set([
  "PATH",
  "DOWNSCOPE_EXEC_DEPTH",
  "GH_CONFIG_DIR",
  "GH_DATA_DIR",
  "GH_STATE_DIR",
  "GH_PAGER",
  "GH_HOST",
  "GH_REPO",
  "KUBECONFIG",
]);

function redact(name: string, value: string, secrets: readonly string[]): string {
  if (secrets.some((s) => s !== "" && value.includes(s))) return "<redacted>";
  return SHOWN.has(name) ? shellQuote(value) : "<redacted>";
}

export function formatPlan(plan: ExecPlan, parentEnv: Io["env"]): string {
  const d = plan.decision;
  const diff = envDiff(parentEnv, plan.env);
  const lines = [
    `decision: ${d.action}${plan.decision.action === "review" ? " (runs only with the human's approval)" : ""}`,
    `summary:  ${describeDecision(d)}`,
  ];
  if (d.rule) lines.push(`rule:     ${JSON.stringify(d.rule.name)} (${d.rule.layer}: ${d.rule.file})`);
  const slot = plan.grant.slot !== undefined ? `, slot ${plan.grant.slot}` : "";
  lines.push(`grant:    ${plan.grant.mode}${slot} from ${plan.grant.layer} config ${plan.grant.file}`);
  lines.push(`binary:   ${plan.file} (${plan.resolved.how})`);
  lines.push(`argv:     ${plan.argv.map(shellQuote).join(" ")}`);
  for (const k of [...diff.set, ...diff.changed]) lines.push(`env set:  ${k}=${redact(k, plan.env[k]!, plan.secrets)}`);
  for (const k of diff.removed) lines.push(`env del:  ${k}`);
  if (plan.minted) {
    const m = plan.minted;
    const what =
      m.kind === "github_app"
        ? `permissions ${Object.entries(m.permissions ?? {})
            .map(([k, v]) => `${k}:${v}`)
            .join(",")}; repositories ${(m.repositories ?? []).join(",")}`
        : `service account ${m.service_account ?? "?"}${m.audiences ? `; audiences ${m.audiences.join(",")}` : ""}`;
    lines.push(`minted:   ${what}; expires ${m.expires_at}; ${m.fingerprint}${m.minted ? "" : " (cached)"}`);
  }
  if (plan.passthrough) lines.push(`note:     ${plan.passthrough}`);
  for (const n of d.notes) lines.push(`note:     ${n}`);
  return lines.join("\n") + "\n";
}

export async function execMain(argv: string[], io: Io, rt: ExecRuntime = defaultRuntime()): Promise<number> {
  const opts = parseExecArgs(argv);
  if (opts.help) {
    io.stderr(USAGE);
    return 0;
  }
  if (opts.binary === undefined) {
    io.stderr(USAGE);
    return 64;
  }
  let runDir: string | undefined;
  const cleanup = () => {
    if (runDir !== undefined) removeRunDir(runDir);
    runDir = undefined;
  };
  // A signal while planning: clean up, then die of it.
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    rt.reraise(sig);
  };
  const planning = CLEANUP_SIGNALS.map((s) => [s, () => onSignal(s)] as const);
  for (const [s, h] of planning) process.on(s, h);
  process.once("exit", cleanup);
  const stopPlanningHandlers = () => {
    for (const [s, h] of planning) process.off(s, h);
  };
  try {
    const plan = await planExec(
      {
        binary: opts.binary,
        args: opts.args,
        env: io.env,
        cwd: io.cwd,
        explain: opts.explain,
        ...(opts.approval !== undefined ? { approval: opts.approval } : {}),
      },
      { now: () => new Date(), selfPaths: rt.selfPaths, makeRunDir: () => (runDir = createRunDir(io.env)) },
    );
    if (opts.explain) {
      io.stdout(formatPlan(plan, io.env));
      return 0;
    }
    if (plan.passthrough) io.stderr(`downscope: ${plan.passthrough}\n`);
    stopPlanningHandlers();
    const stop = plan.whileRunning?.();
    let exit: ChildExit;
    const started = Date.now();
    let record: Awaited<ReturnType<typeof prepareAuditEvent>>;
    // The credentials handed to the command are masked in its output as it passes (ADR-031).
    const kind = plan.grant.slot !== undefined ? `slot:${plan.grant.slot}` : "credential";
    const secrets = plan.secrets.map((value) => ({ value, kind }));
    const settings = auditSettingsOf(plan.policy, io.env);
    const taps = rt.taps?.(secrets, settings.recordOutput === "masked" ? settings.recordOutputMaxBytes : undefined);
    try {
      const running = rt.run(plan, io.cwd, taps);
      running.catch(() => {}); // handled by the await below
      // The masking hook finds what was handed out by its fingerprint later (src/mask/known-secrets.ts).
      rememberSecrets(plan.secrets, io.env);
      // The audit record is redacted and timed (the start) while the command runs.
      record = await prepareAuditEvent(
        {
          event: "exec",
          cwd: io.cwd,
          service: plan.decision.service,
          argv: [opts.binary, ...opts.args],
          layer: plan.decision.rule?.layer,
          rule: plan.decision.rule?.name,
          action: plan.decision.action,
          slot: plan.grant.slot,
          policy: plan.grant.rule?.name ?? (plan.grant.mode === "token_slot" ? undefined : plan.grant.mode),
          fingerprint: plan.secrets[0] !== undefined ? fingerprint(plan.secrets[0]) : undefined,
          ...(plan.minted ? { minted: plan.minted } : {}),
        },
        { env: io.env, cwd: io.cwd, policy: plan.policy, stderr: io.stderr },
      );
      exit = await running;
    } finally {
      stop?.();
      cleanup();
    }
    record({
      exit: "code" in exit ? exit.code : exit.signal,
      duration_ms: Date.now() - started,
      ...(taps !== undefined ? { output: await outputRecord(taps, secrets) } : {}),
    });
    if ("code" in exit) return exit.code;
    rt.reraise(exit.signal);
    return signalExitCode(exit.signal);
  } catch (e) {
    const code = report(e, io);
    // Inside contained mode's sandbox the audit trail is read-only by design: nothing to record from here.
    if (containedState(io.env) && inSandbox(io.env)) return code;
    await auditEvent(
      {
        event: "exec",
        cwd: io.cwd,
        argv: [opts.binary, ...opts.args],
        action:
          e instanceof PolicyDenied || e instanceof ConfigError || e instanceof CredentialUnavailable
            ? "deny"
            : "error",
        reason: errorMessage(e),
        exit: code,
      },
      { env: io.env, cwd: io.cwd, stderr: io.stderr },
    );
    return code;
  } finally {
    stopPlanningHandlers();
    cleanup();
    process.off("exit", cleanup);
  }
}

/** The output record of a run: each stream as measured (a terminal: not measured), what was masked at source. */
async function outputRecord(taps: Taps, secrets: ExecSecret[]): Promise<OutputRecord> {
  const streams: OutputRecord["streams"] = {};
  const masked: Record<string, number> = {};
  for (const name of ["stdout", "stderr"] as const) {
    const tap = taps[name];
    if (tap === undefined) {
      streams[name] = { tty: true };
      continue;
    }
    const { masked: hits, ...stream } = tap.result();
    for (const [k, n] of Object.entries(hits)) masked[k] = (masked[k] ?? 0) + n;
    // Captured text is masked again with the token-shaped rules (loaded only then): the record holds no secret either way.
    if (stream.text !== undefined) stream.text = (await import("../mask/mask.js")).maskText(stream.text, { secrets });
    streams[name] = stream;
  }
  return { streams, ...(Object.keys(masked).length > 0 ? { masked } : {}) };
}

function report(e: unknown, io: Io): number {
  if (e instanceof ConfigError) {
    io.stderr(`downscope: denied: the policy cannot be loaded, so nothing runs:\n${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof DownscopeError) {
    io.stderr(`downscope: ${e.message}\n`);
    return e.exitCode;
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "EACCES") {
    io.stderr(`downscope: cannot start the real binary (${code})\n`);
    return code === "ENOENT" ? 127 : 126;
  }
  io.stderr(`downscope: internal error: ${errorMessage(e)}; nothing was run\n`);
  if (io.env.DOWNSCOPE_DEBUG && e instanceof Error && e.stack) io.stderr(`${e.stack}\n`);
  return 70;
}
