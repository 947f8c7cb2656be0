/**
 * Planning a run: decide again (never trust the hook), check the approval of
 * a review, find and check the real binary, and let the service's channel
 * build the child's environment. Returns plain data; spawn.ts runs it.
 */
import { basename } from "node:path";
import { containedState, inSandbox } from "../protection/contained-state.js";
import { consumeApproval, APPROVAL_ENV } from "../approval/approval.js";
import { CredentialUnavailable, DownscopeError, PolicyDenied, UsageError } from "../errors.js";
import type { Env } from "../paths.js";
import { decide, describeDecision, type Decision, type Grant } from "../policy/evaluate.js";
import { pathContext } from "../policy/index.js";
import { loadPolicy } from "../policy/load.js";
import { serviceForBinary, type Policy } from "../policy/policy.js";
import type { ChildPlan } from "./channel.js";
import { channelFor } from "./channels/index.js";
import type { Confinement } from "./confine.js";
import { safeChildPath, slotSourceVars, without, withoutUnsafe } from "./env.js";
import { readPins } from "./pins.js";
import { resolveRealBinary, type Resolved } from "./resolve-binary.js";

export const DEPTH_ENV = "DOWNSCOPE_EXEC_DEPTH";
/** Nested runs allowed (a CLI that calls another wrapped CLI); a loop hits this quickly. */
export const MAX_DEPTH = 4;

export class ExecLoopError extends DownscopeError {
  override readonly exitCode = 70;
}

export interface ExecRequest {
  /** The binary as given (a name or a path); its basename names the service. */
  binary: string;
  args: readonly string[];
  env: Env;
  cwd: string;
  /** Plan only: do not consume an approval. */
  explain?: boolean;
  /** The review approval from `--approval` (else DOWNSCOPE_APPROVAL in env). */
  approval?: string;
}

export interface ExecDeps {
  now: () => Date;
  /** Realpaths of downscope-exec itself, never taken for the real binary. */
  selfPaths: readonly string[];
  /** Creates the private run directory; called only once a credential will be written. */
  makeRunDir: () => string;
}

export interface ExecPlan {
  file: string;
  /** argv[0] is the service's binary name, as the CLI expects. */
  argv: string[];
  env: Record<string, string>;
  /** Secret values in env or files; for redaction only. */
  secrets: string[];
  decision: Decision;
  grant: Grant;
  resolved: Resolved;
  /** Set when the approval of a review was consumed. */
  approved: boolean;
  /** The policy the decision was made with (the audit trail reads its settings). */
  policy: Policy;
  /** Set when on_missing_credential: passthrough let the ambient credential through. */
  passthrough?: string;
  whileRunning?: ChildPlan["whileRunning"];
  /** What was minted for this command (github_app, token_request). */
  minted?: ChildPlan["minted"];
}

export function execDepth(env: Env): number {
  const raw = env[DEPTH_ENV];
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,3}$/.test(raw))
    throw new ExecLoopError(`${DEPTH_ENV}=${JSON.stringify(raw)} is not a number; refusing to run`);
  const n = Number(raw);
  if (n >= MAX_DEPTH)
    throw new ExecLoopError(
      `downscope-exec is nested ${n} deep (${DEPTH_ENV}); this looks like a loop (a shim or binary_path pointing back at downscope). Check PATH and binary_path`,
    );
  return n;
}

/** The credential an approved review runs with: the most specific trusted layer's defaults. */
export function reviewGrant(policy: Policy, binary: string): Grant | undefined {
  for (const layer of [...policy.layers].reverse()) {
    if (!layer.trusted) continue;
    const hit = serviceForBinary(layer.config, binary);
    if (!hit) continue;
    const [name, svc] = hit;
    return {
      service: name,
      mode: svc.downscope_mode,
      layer: layer.name,
      file: layer.file,
      config: svc,
      ...(svc.downscope_mode === "token_slot" ? { slot: svc.default_slot } : {}),
    };
  }
  return undefined;
}

export async function planExec(req: ExecRequest, deps: ExecDeps): Promise<ExecPlan> {
  const depth = execDepth(req.env);
  const binary = basename(req.binary);
  if (binary === "" || binary === "." || binary === "..") throw new UsageError(`not a binary name: ${req.binary}`);
  const contained = containedState(req.env);
  // Contained mode's stage (src/exec/confine.ts) is loaded only when contained: default mode never evaluates it.
  const confine = contained ? await import("./confine.js") : undefined;
  if (confine && inSandbox(req.env) && !req.explain) throw confine.sandboxedRefusal(binary, req.args);
  const policy = await loadPolicy({ cwd: req.cwd, env: req.env });
  const decision = decide(policy, { kind: "cli", binary, args: req.args }, pathContext(req.cwd, req.env));
  if (decision.service === undefined)
    throw new UsageError(
      `no service in the policy covers "${binary}"; downscope-exec only runs configured services (see \`downscope check -- ${binary}\`)`,
    );
  let grant = decision.grant;
  let approved = false;
  switch (decision.action) {
    case "deny":
      throw new PolicyDenied(describeDecision(decision));
    case "review": {
      if (req.explain) {
        grant = reviewGrant(policy, binary);
        break;
      }
      const check = consumeApproval(req.approval ?? req.env[APPROVAL_ENV], binary, req.args, req.env);
      if (!check.ok)
        throw new PolicyDenied(
          `${describeDecision(decision)}; ${check.reason}. A human must approve it in Claude Code's prompt, or run it in their own terminal`,
        );
      approved = true;
      grant = reviewGrant(policy, binary);
      break;
    }
    case "allow":
      break;
  }
  if (grant === undefined)
    throw new CredentialUnavailable(
      `${decision.service}: no trusted layer configures a credential for it, so it cannot run (${decision.notes.join("; ") || "the user must review the project policy and trust it (`downscope trust`, in their own terminal), or configure the service in their user config; ask them"})`,
    );

  // Contained: checked before any credential is read (src/exec/confine.ts).
  const confinement: Confinement | undefined = confine?.prepareConfinement({
    binary,
    args: req.args,
    env: req.env,
    cwd: req.cwd,
    policy,
    grant,
  });
  const pins = readPins(req.env);
  const resolved = resolveRealBinary({
    binary,
    path: req.env.PATH,
    cwd: req.cwd,
    home: req.env.HOME,
    binaryPath: grant.config.binary_path,
    pin: pins.get(binary),
    selfPaths: deps.selfPaths,
  });

  const strip = slotSourceVars(policy, grant.config);
  const baseEnv = without(req.env, strip);
  const tmpDir = deps.makeRunDir();
  const channel = await channelFor(binary)();
  let child: ChildPlan;
  let passthrough: string | undefined;
  try {
    child = await channel({
      decision,
      grant,
      binary,
      realBinary: resolved.path,
      args: req.args,
      parentEnv: req.env,
      baseEnv,
      cwd: req.cwd,
      tmpDir,
      now: deps.now,
      confined: contained !== undefined,
    });
  } catch (e) {
    // Contained: the ambient credential is exactly what must not reach a command outside the sandbox.
    if (!(e instanceof CredentialUnavailable) || grant.config.on_missing_credential !== "passthrough" || contained)
      throw e;
    // The visible opt-in (trusted layers only: a grant always comes from one).
    passthrough = `${e.message}; running with the ambient credential (on_missing_credential: passthrough in ${grant.file})`;
    child = { env: { ...baseEnv }, secrets: [] };
  }
  // Defence in depth: a slot source variable survives only if the channel set it itself.
  const set = new Set(Object.keys(child.env).filter((k) => child.env[k] !== req.env[k]));
  const childEnv = { ...child.env };
  for (const name of strip)
    if (childEnv[name] !== undefined && childEnv[name] === req.env[name] && !child.secrets.includes(childEnv[name]))
      delete childEnv[name];
  // What loads code or redirects the credential is removed in every mode (src/exec/env.ts).
  const { env } = withoutUnsafe(childEnv, grant.config.pass_env ?? [], set);
  env[DEPTH_ENV] = String(depth + 1);
  set.add(DEPTH_ENV);
  if (env.PATH !== undefined) env.PATH = safeChildPath(env.PATH, req.cwd).path;
  let file = resolved.path;
  let argv = [binary, ...req.args];
  let spawnEnv = env;
  if (confinement !== undefined) {
    const confined = confinement.wrap({ file, env, set, runDir: tmpDir });
    file = confined.file;
    argv = confined.argv;
    spawnEnv = confined.env;
  }
  return {
    file,
    argv,
    env: spawnEnv,
    secrets: child.secrets,
    decision,
    grant,
    resolved,
    approved,
    policy,
    ...(passthrough !== undefined ? { passthrough } : {}),
    ...(child.whileRunning ? { whileRunning: child.whileRunning } : {}),
    ...(child.minted ? { minted: child.minted } : {}),
  };
}
