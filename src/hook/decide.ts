/**
 * The hook's decision (pure apart from the approval recorder passed in): a
 * Bash command or an MCP tool call in, one answer out.
 *
 * Combination (see docs/claude-code.md):
 *   - any service invocation denied, an environment change that would
 *     redirect downscope itself, or an agent-written approval → deny;
 *   - else any review, or anything unresolvable (settings.unresolved) → ask;
 *   - else rewrite each direct service invocation to `downscope-exec …`, and
 *     answer allow only when the whole command is allowed service calls plus
 *     harmless commands and auto_approve is on;
 *   - no service involved → no answer at all.
 */
import { APPROVAL_ENV, NONCE_PATTERN } from "../approval/approval.js";
import { decide, describeDecision, type Decision } from "../policy/index.js";
import type { PathContext } from "../policy/evaluate.js";
import { serviceBinaries, settingsOf, type Policy } from "../policy/policy.js";
import type { analyzeShell, ShellAnalysis, ShellInvocation } from "../shell/analyze.js";

export interface HookContext {
  policy: Policy;
  pathCtx: PathContext;
  /** What to insert before a command word: `downscope-exec` or a quoted absolute path. */
  execCommand: string;
  /** A directory with a `.downscope-shims` marker is on PATH. */
  shimsOnPath: boolean;
  /** The shell analysis (src/shell/analyze.ts), loaded only when a command needs it. */
  analyze: typeof analyzeShell;
  /** Records a single-use approval bound to this exact argv and returns its nonce. */
  approve: (binary: string, args: readonly string[]) => string;
  /**
   * Contained mode (src/contain/): the rewritten call runs outside Claude
   * Code's sandbox only when it is the whole command, so a service call must
   * stand alone, and an approval travels as `--approval` (an environment
   * prefix keeps a call sandboxed).
   */
  contained?: boolean;
  /**
   * Agents whose rewriting hook cannot ask (Cursor): approvals are recorded
   * gated (src/approval/approval.ts), and a command carrying one in exactly
   * the form the hook wrote is asked once, through this (which marks it asked).
   */
  openApproval?: (
    nonce: string,
    binary: string,
    args: readonly string[],
  ) => { ok: true } | { ok: false; reason: string };
}

export type HookResult =
  | { decision: "none" }
  | { decision: "deny"; reason: string }
  | { decision: "ask"; reason: string; command?: string }
  | { decision: "allow"; reason: string; command: string }
  | { decision: "rewrite"; reason: string; command: string };

/**
 * Variables that would redirect downscope's own config, trust store, approvals
 * or binary lookup, or load code into the wrapper / change whom it trusts for TLS.
 */
export function isProtectedEnv(name: string): boolean {
  return (
    name === "*" ||
    name.startsWith("DOWNSCOPE_") ||
    [
      "HOME",
      "XDG_CONFIG_HOME",
      "XDG_STATE_HOME",
      "XDG_CACHE_HOME",
      "XDG_DATA_HOME",
      "PATH",
      "NODE_OPTIONS",
      "NODE_EXTRA_CA_CERTS",
      "NODE_PATH",
      "NODE_TLS_REJECT_UNAUTHORIZED",
    ].includes(name)
  );
}

interface Judged {
  inv: ShellInvocation;
  decision: Decision;
}

export function decideBash(command: string, ctx: HookContext): HookResult {
  const binaries = serviceBinaries(ctx.policy);
  if (binaries.size === 0) return { decision: "none" };
  const settings = settingsOf(ctx.policy);
  const a = ctx.analyze(command);

  if (a.errors.length > 0) {
    return {
      decision: "deny",
      reason: `downscope: cannot parse this command (${a.errors[0]}); write it in plain Bash syntax so it can be checked`,
    };
  }

  const services: Judged[] = [];
  for (const inv of a.invocations) {
    if (!binaries.has(inv.binary)) continue;
    services.push({
      inv,
      decision: decide(ctx.policy, { kind: "cli", binary: inv.binary, args: inv.args }, ctx.pathCtx),
    });
  }
  const shadowing = a.definitions.filter((d) => binaries.has(d.name));
  const unresolved = [
    ...a.unresolved.map((u) => `${u.construct} in \`${clip(u.text)}\``),
    ...shadowing.map((d) => `${d.kind === "alias" ? "an alias" : "a function"} named \`${d.name}\` shadows a service`),
  ];
  if (services.length === 0 && unresolved.length === 0) return { decision: "none" };

  // Deny: the policy, protected environment, agent-written approvals.
  const denied = services.find((s) => s.decision.action === "deny");
  if (denied) {
    return {
      decision: "deny",
      reason: `downscope: \`${clip(denied.inv.text)}\` ${describeDecision(denied.decision)}${denied.decision.matched ? ` (matched ${denied.decision.matched})` : ""}`,
    };
  }
  const agentApproval =
    command.includes(APPROVAL_ENV) ||
    a.envChanges.some((c) => c.name === APPROVAL_ENV) ||
    (/--approval\b/.test(command) && a.invocations.some((inv) => isAgentWrapped(inv)));
  if (services.length > 0 && agentApproval) {
    const gated = ctx.openApproval ? askGated(command, a, services, ctx) : undefined;
    if (gated !== undefined) return gated;
    return {
      decision: "deny",
      reason: `downscope: the command ${/--approval\b/.test(command) ? "passes --approval" : `sets ${APPROVAL_ENV}`} itself; approvals are created by the hook when a human approves, never written by the agent. Run the command without it${ctx.openApproval ? ", as a command of its own (no pipe, chain, redirection or wrapper), so that the human can be asked" : ""}.`,
    };
  }
  for (const s of services) {
    const change = a.envChanges.find((c) => c.pos <= s.inv.pos && isProtectedEnv(c.name));
    if (change) {
      const what = change.name === "*" ? "clears the environment (env -i)" : `sets ${change.name}`;
      return {
        decision: "deny",
        reason: `downscope: \`${clip(s.inv.text)}\` ${what} before calling ${s.inv.binary}, which would redirect downscope's own configuration, approvals or binary lookup. Run ${s.inv.binary} without changing ${change.name === "*" ? "the environment" : change.name}.`,
      };
    }
  }

  // Review invocations that cannot carry an approval are denied with the reason.
  for (const s of services) {
    if (s.decision.action !== "review") continue;
    const why =
      s.inv.wrappers.includes("downscope-exec") || s.inv.wrappers.includes("downscope-exec.js")
        ? "it is wrapped in downscope-exec by the agent; run it without downscope-exec so the hook can ask a human"
        : s.inv.insertAt === undefined
          ? "it is nested in a string run by another shell; run it directly so the approval can be bound to it"
          : s.inv.dynamicArgs
            ? "its arguments are not literal, so an approval cannot be bound to them; write them out"
            : undefined;
    if (why) {
      return {
        decision: "deny",
        reason: `downscope: \`${clip(s.inv.text)}\` ${describeDecision(s.decision)}, but ${why}`,
      };
    }
  }

  // Gated approvals (Cursor): the asking hook recognises only a review that is the whole command.
  const gatedReview =
    ctx.openApproval && services.find((x) => x.decision.action === "review" && !isAgentWrapped(x.inv));
  if (gatedReview && !standsAlone(command, a)) {
    const call = clip(gatedReview.inv.text);
    return {
      decision: "deny",
      reason: `downscope: \`${call}\` ${describeDecision(gatedReview.decision)}; a command that needs a human's review must be a command of its own here (no pipe, chain, redirection, variable prefix or wrapper) so that it can be put to the human. Run \`${call}\` by itself.`,
    };
  }

  if (ctx.contained && services.length > 0) {
    const alone = standsAlone(command, a);
    if (!alone) {
      const s = services[0]!;
      return {
        decision: "deny",
        reason: `downscope: contained mode: \`${clip(s.inv.text)}\` gets its credential only outside the sandbox, and only a service call that is the whole command leaves it. Run \`${clip(s.inv.text)}\` as a command of its own (no pipe, chain, redirect, variable prefix, substitution or script), then process its output in a second command.`,
      };
    }
  }

  const reviews = services.filter((s) => s.decision.action === "review");
  const nestedNeedsShims = services.filter((s) => s.inv.insertAt === undefined && !isAgentWrapped(s.inv));
  const askReasons: string[] = [
    ...reviews.map((s) => `\`${clip(s.inv.text)}\` ${describeDecision(s.decision)}`),
    ...unresolved.map((u) => `cannot tell statically what runs: ${u}`),
  ];
  if (!ctx.shimsOnPath)
    askReasons.push(
      ...nestedNeedsShims.map(
        (s) =>
          `\`${clip(s.inv.text)}\` calls ${s.inv.binary} inside a string, and the downscope shims are not on PATH to scope its credentials`,
      ),
    );

  if (unresolved.length > 0 && settings.unresolved === "deny") {
    return {
      decision: "deny",
      reason: `downscope: cannot tell statically what runs: ${unresolved.join("; ")} (settings.unresolved is deny). Write the command out literally.`,
    };
  }

  const inserts = new Map<number, string>();
  for (const s of services) {
    if (s.inv.insertAt === undefined || isAgentWrapped(s.inv)) continue;
    if (s.decision.action === "review") continue; // approvals are recorded below, only if the answer is ask
    inserts.set(s.inv.insertAt, `${ctx.execCommand} `);
  }

  if (askReasons.length > 0) {
    for (const s of reviews) {
      const nonce = ctx.approve(s.inv.binary, s.inv.args);
      if (ctx.contained) inserts.set(s.inv.insertAt!, `${ctx.execCommand} --approval ${nonce} `);
      else {
        const assign = s.inv.wrappers.length === 0 ? `${APPROVAL_ENV}=${nonce} ` : `env ${APPROVAL_ENV}=${nonce} `;
        inserts.set(s.inv.insertAt!, `${assign}${ctx.execCommand} `);
      }
    }
    const rewritten = applyInserts(command, inserts);
    return {
      decision: "ask",
      reason: `downscope: ${askReasons.join("; ")}`,
      ...(rewritten !== command ? { command: rewritten } : {}),
    };
  }

  const rewritten = applyInserts(command, inserts);
  const auto =
    settings.autoApprove &&
    !a.writesFiles &&
    a.unresolved.length === 0 &&
    a.definitions.length === 0 &&
    a.invocations.every((inv) => {
      const s = services.find((x) => x.inv === inv);
      if (s) {
        return (
          s.decision.action === "allow" &&
          s.decision.grant !== undefined &&
          !inv.dynamicArgs &&
          !inv.assigns &&
          inv.insertAt !== undefined &&
          inv.wrappers.length === 0
        );
      }
      return settings.harmless.has(inv.binary) && inv.wrappers.length === 0 && !inv.assigns;
    });
  const summary = services.map((s) => `\`${clip(s.inv.text)}\` ${describeDecision(s.decision)}`).join("; ");
  if (auto) return { decision: "allow", reason: `downscope: ${summary}`, command: rewritten };
  if (rewritten === command) {
    // Nothing to rewrite (nested in strings with the shims on PATH, or agent-wrapped): leave it to the user's rules.
    return { decision: "none" };
  }
  return { decision: "rewrite", reason: `downscope: ${summary}`, command: rewritten };
}

/**
 * A command the hook itself rewrote for a review in an agent whose rewriting
 * hook cannot ask (ctx.openApproval): exactly `DOWNSCOPE_APPROVAL=<nonce>
 * <downscope-exec> <one service call>`, nothing around it, with a pending
 * gated approval for that argv → ask (the human approves in the agent's
 * prompt; the approval is now valid for downscope-exec). A command of that
 * shape with anything else (a forged, used, ungated or other command's nonce)
 * is an agent-written approval: undefined, and the caller denies.
 */
function askGated(command: string, a: ShellAnalysis, services: Judged[], ctx: HookContext): HookResult | undefined {
  const m = new RegExp(`^${APPROVAL_ENV}=(${NONCE_PATTERN}) `).exec(command);
  if (!m || !command.startsWith(`${m[0]}${ctx.execCommand} `)) return undefined;
  if (a.invocations.length !== 1 || services.length !== 1 || a.redirections.length > 0) return undefined;
  if (a.unresolved.length > 0 || a.definitions.length > 0) return undefined;
  if (a.envChanges.length !== 1 || a.envChanges[0]!.name !== APPROVAL_ENV) return undefined;
  const s = services[0]!;
  const inv = s.inv;
  if (inv.pos !== 0 || inv.insertAt === undefined || inv.dynamicArgs || inv.wrappers.length !== 1) return undefined;
  if (!isAgentWrapped(inv) || !ONLY_FD_DUPS.test(command.slice(inv.text.length))) return undefined;
  if (s.decision.action !== "review") return undefined;
  if (!ctx.openApproval!(m[1]!, inv.binary, inv.args).ok) return undefined;
  const call = clip(command.slice(inv.insertAt));
  return { decision: "ask", reason: `downscope: \`${call}\` ${describeDecision(s.decision)}` };
}

/**
 * The command is one service call and nothing else — what Claude Code's
 * excludedCommands takes out of the sandbox once the hook has put
 * downscope-exec in front of it (no operators, redirections other than fd
 * duplication, environment prefixes, wrappers or expansions).
 */
function standsAlone(command: string, a: ShellAnalysis): boolean {
  if (a.invocations.length !== 1 || a.redirections.length > 0 || a.envChanges.length > 0) return false;
  if (a.unresolved.length > 0 || a.definitions.length > 0) return false;
  const inv = a.invocations[0]!;
  if (inv.insertAt === undefined || inv.wrappers.length > 0 || inv.assigns || inv.dynamicArgs) return false;
  if (command.slice(0, inv.insertAt).trim() !== "") return false;
  return ONLY_FD_DUPS.test(command.slice(inv.pos + inv.text.length));
}

/** What may follow a call that stands alone: fd duplications (`2>&1`) and white space. */
const ONLY_FD_DUPS = /^(\s*\d*>&\d+)*\s*$/;

function isAgentWrapped(inv: ShellInvocation): boolean {
  return inv.wrappers.includes("downscope-exec") || inv.wrappers.includes("downscope-exec.js");
}

/** Inserts text at offsets, preserving every other byte. */
export function applyInserts(text: string, inserts: ReadonlyMap<number, string>): string {
  let out = text;
  for (const at of [...inserts.keys()].sort((x, y) => y - x)) out = out.slice(0, at) + inserts.get(at)! + out.slice(at);
  return out;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/** `mcp__<server>__<tool>` → the server and tool; undefined for other tools. */
export function parseMcpToolName(name: string): { server: string; tool: string } | undefined {
  if (!name.startsWith("mcp__")) return undefined;
  const rest = name.slice(5);
  const i = rest.indexOf("__");
  if (i <= 0 || i + 2 >= rest.length) return undefined;
  return { server: rest.slice(0, i), tool: rest.slice(i + 2) };
}

export function decideMcp(toolName: string, input: Readonly<Record<string, unknown>>, ctx: HookContext): HookResult {
  const t = parseMcpToolName(toolName);
  if (!t) return { decision: "none" };
  const d = decide(ctx.policy, { kind: "mcp", server: t.server, tool: t.tool, arguments: input }, ctx.pathCtx);
  if (d.service === undefined) return { decision: "none" };
  if (d.action === "deny")
    return { decision: "deny", reason: `downscope: ${t.server}/${t.tool} ${describeDecision(d)}` };
  if (d.action === "review")
    return { decision: "ask", reason: `downscope: ${t.server}/${t.tool} ${describeDecision(d)}` };
  return { decision: "none" };
}
