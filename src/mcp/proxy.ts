/**
 * The MCP stdio proxy: client ⇄ downscope ⇄ one or more instances of an
 * unmodified upstream server (https://modelcontextprotocol.io/specification/2025-06-18).
 *
 * Intercepted: `tools/call` (decided by the policy: deny and review answer as
 * tool results with isError, allow runs on the instance of the grant's slot;
 * refused first when the tool differs from the MCP lock), `tools/list` (hides
 * tools that differ from the lock, and optionally tools every rule denies),
 * `notifications/tools/list_changed` (the tools are listed again before the
 * next call is checked), `initialize` (kept to replay to instances started later). Everything else is forwarded as
 * received. Ids are remapped in both directions because several instances
 * share one client: each request the proxy sends on gets an id of its own,
 * and answers, cancellations and progress are mapped back.
 */
import type { CallToolResult, ElicitRequest, ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import type { MintInfo } from "../credentials/provider.js";
import { readSlotToken } from "../credentials/token-sources.js";
import type { Env } from "../paths.js";
import type { Decision } from "../policy/index.js";
import type { PathContext } from "../policy/evaluate.js";
import type { TokenSlot } from "../policy/schema.js";
import { DEFAULT_MAX_MESSAGE_BYTES, idFromHead, LineReader } from "./framing.js";
import {
  errorResponse,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  isObj,
  parseLine,
  PARSE_ERROR,
  serialize,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type RequestId,
} from "./jsonrpc.js";
import { describeVerdict, verdictOf, type ToolVerdict } from "./lock.js";
import { serverLock, type LockView, type ServerLock } from "./lock-state.js";
import type { MovedSecret } from "./moved-secrets.js";
import { defaultPlan, strippedNames, upstreamEnv, type InstancePlan } from "./slots.js";
import { alwaysDenied, hidesDeniedTools, planToolCall, type LoadedPolicy } from "./tool-decision.js";
import { Upstream } from "./upstream.js";
import type { OutputRecord } from "../audit/record.js";
import type { KnownSecret, Masker } from "../mask/mask.js";
import { maskToolResponse, resultRecord } from "./result-mask.js";
import { rememberSecrets } from "../mask/known-secrets.js";

/** One decision on a tools/call, for the audit trail. Never holds argument values or tokens. */
export interface McpDecisionRecord {
  server: string;
  tool: string;
  /** Top-level argument names only: values may be secret. */
  argumentKeys: string[];
  action: "allow" | "deny" | "review";
  /** forwarded: sent to the upstream; blocked: answered by downscope; approved/declined: review outcome. */
  outcome: "forwarded" | "blocked" | "approved" | "declined";
  rule?: string;
  layer?: string;
  file?: string;
  reason: string;
  slot?: string;
  /** github_app: what the instance that ran the call was minted (never the token). */
  minted?: MintInfo;
}

export interface ProxyOptions {
  /** The `server:` name the policy is looked up by. */
  server: string;
  upstream: { file: string; args: readonly string[] };
  cwd: string;
  /** downscope's own environment: the base of every instance's environment (stripped first). */
  env: Env;
  loaded: LoadedPolicy;
  pathCtx: PathContext;
  /** Reads a slot's token; throws with a message naming the source, never the value. Default: the slot's env_var/file/command. */
  readToken?: (slotName: string, slot: TokenSlot) => string;
  /** To the client (stdout): JSON-RPC only. */
  write: (text: string) => void;
  /** Diagnostics (stderr). */
  log: (text: string) => void;
  debug?: boolean;
  maxMessageBytes?: number;
  /** Called once per tools/call decision (the audit trail plugs in here). */
  audit?: (record: McpDecisionRecord) => void;
  /** Max time an instance may take to answer the replayed initialize (and each page of the proxy's own tools/list). */
  initializeTimeoutMs?: number;
  /**
   * The MCP tool lock as it is now (lock-state.ts lockViewReader), asked on
   * every tools/list and tools/call. Undefined: no lock at all, which only
   * `downscope mcp lock` uses, to list the tools it pins.
   */
  lock?: () => LockView;
  /**
   * Secrets moved out of the client's config (`install mcp --move-secrets`,
   * moved-secrets.ts): read when an instance starts and set in its
   * environment, as the client's `env` would have been (so a slot's
   * `inject_as` of the same name still replaces it).
   */
  movedSecrets?: readonly MovedSecret[];
  /** Masks secrets in tools/call and tasks/result answers (src/mcp/result-mask.ts); undefined: none. */
  masker?: Masker;
  /** Called once per tools/call answer: what it returned (the audit trail plugs in here). */
  auditResult?: (record: { server: string; tool: string; duration_ms: number; output: OutputRecord }) => void;
}

/** A tool definition as the server listed it. */
type Tool = Record<string, unknown>;

type Pending =
  | {
      kind: "client";
      clientId: RequestId;
      method: string;
      transform?: (result: Record<string, unknown>) => void;
      /** tools/call: the tool's name and when it was sent, for the result's audit record. */
      call?: { tool: string; sent: number };
    }
  | { kind: "internal"; resolve: (r: JSONRPCResponse) => void; reject: (e: Error) => void };

interface Instance {
  plan: InstancePlan;
  upstream: Upstream;
  ready: Promise<void>;
  /** Requests sent to this instance, by the id the proxy gave them. */
  pending: Map<number, Pending>;
  /** Client-facing ids of this instance's requests to the client that await an answer. */
  serverRequests: Set<number>;
  sentInitialized: boolean;
  stopping: boolean;
  /** Set when the process is gone: why (exit status, signal, spawn error). */
  gone?: string;
  /** github_app: when the instance's minted token expires (ms since epoch), and what was minted. */
  expiresAt?: number;
  minted?: MintInfo;
  /** The token this instance was given: masked in its answers. */
  secrets: KnownSecret[];
}

/** An instance whose minted token expires within this margin is replaced by a fresh one. */
const APP_TOKEN_MARGIN_MS = 5 * 60_000;

type ToClient =
  | { kind: "upstream"; instance: Instance; upstreamId: RequestId; progressToken?: string }
  | { kind: "internal"; resolve: (r: JSONRPCResponse) => void };

/** A client request on its way: where it went, so a cancellation can follow it. */
interface InFlight {
  instance?: Instance;
  upstreamId?: number;
  cancelled: boolean;
  /** Called when the client cancels while downscope itself holds the request (review question open). */
  onCancel?: () => void;
}

const idKey = (id: RequestId) => `${typeof id}:${String(id)}`;

/** What a listed tool is under this server's lock (pinned when the lock is off). */
function verdictUnder(lock: ServerLock, tool: Tool): ToolVerdict {
  if (lock.kind === "off") return { status: "pinned" };
  if (lock.kind === "broken") return { status: "unusable", why: lock.why };
  const name = tool.name as string;
  return verdictOf(tool, Object.hasOwn(lock.tools, name) ? lock.tools[name] : undefined);
}

function planLabel(plan: InstancePlan): string {
  if (plan.slot) return `slot ${plan.slot.name}`;
  if (plan.app)
    return `GitHub App token ${Object.entries(plan.app.scope.permissions)
      .map(([k, v]) => `${k}:${v}`)
      .join(",")} on ${plan.app.scope.repositories.join(",")}`;
  return "no slot";
}

export class McpProxy {
  private readonly instances = new Map<string, Instance>();
  private readonly toClient = new Map<number, ToClient>();
  private readonly inFlight = new Map<string, InFlight>();
  /** Progress tokens of server→client requests, rewritten so instances cannot collide. */
  private readonly progressTokens = new Map<string, { instance: Instance; token: string | number }>();
  /** Task ids (tasks/get, tasks/result, tasks/cancel) → the instance that runs the task. */
  private readonly taskRoutes = new Map<string, Instance>();
  private initializeRequest: JSONRPCRequest | undefined;
  private initializedNotification: JSONRPCNotification | undefined;
  private nextUpstreamId = 1;
  private nextClientId = 1;
  private closing = false;
  private readonly strip: Set<string>;
  private readonly defaultInstancePlan: InstancePlan;
  private readonly maxBytes: number;
  /**
   * The default instance's tools as last listed (by the client or the proxy):
   * what a tools/call is checked against the lock with. `complete`: from a
   * listing of every page. Undefined until listed, and again after the server
   * says its tools changed.
   */
  private listed: { tools: Map<string, Tool>; complete: boolean } | undefined;
  private listGeneration = 0;
  private relisting: Promise<void> | undefined;
  /** Hidden tools already reported on stderr (tool and why), so the log says each once. */
  private readonly reportedHidden = new Set<string>();

  constructor(private readonly o: ProxyOptions) {
    this.strip = strippedNames(o.loaded.ok ? o.loaded.policy : undefined, o.server);
    this.defaultInstancePlan = defaultPlan(o.loaded.ok ? o.loaded.policy : undefined, o.server);
    this.maxBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  private terminate: ((code: number) => void) | undefined;

  /** A signal asked the proxy to stop: stop every instance, then `run` resolves with `code`. */
  stop(code: number): void {
    this.terminate?.(code);
  }

  /** Runs until the client closes its end; then stops every instance and resolves 0. */
  run(input: NodeJS.ReadableStream): Promise<number> {
    const reader = new LineReader(
      {
        line: (l) => this.fromClient(l),
        oversized: (head, bytes) => {
          const id = idFromHead(head);
          this.o.log(`downscope mcp-proxy: client sent a message of ${bytes} bytes; the limit is ${this.maxBytes}\n`);
          this.o.write(
            serialize(
              errorResponse(id ?? null, INVALID_REQUEST, `downscope: message larger than ${this.maxBytes} bytes`),
            ),
          );
        },
      },
      this.maxBytes,
    );
    return new Promise((resolve) => {
      input.on("data", (c: Buffer | string) => reader.push(typeof c === "string" ? Buffer.from(c) : c));
      const done = (code = 0) => {
        if (this.closing) return;
        reader.end();
        void this.shutdown().then(() => resolve(code));
      };
      this.terminate = done;
      input.on("end", () => done());
      input.on("close", () => done());
      input.on("error", () => done());
    });
  }

  /**
   * The client closed its end: close each instance's stdin (the MCP stdio
   * shutdown sequence), pass on what it still answers, then SIGTERM and
   * SIGKILL whatever is left.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    const all = [...this.instances.values()];
    this.instances.clear();
    for (const i of all) i.stopping = true;
    await Promise.all(all.map((i) => i.upstream.stop()));
  }

  // ---------------------------------------------------------------- client → upstream

  private fromClient(line: string): void {
    const p = parseLine(line);
    switch (p.kind) {
      case "parse-error":
        this.o.log(`downscope mcp-proxy: client sent malformed JSON (${p.why})\n`);
        this.o.write(serialize(errorResponse(null, PARSE_ERROR, `downscope: parse error: ${p.why}`)));
        return;
      case "invalid":
        this.o.log(`downscope mcp-proxy: client sent an invalid message (${p.why})\n`);
        this.o.write(serialize(errorResponse(p.id, INVALID_REQUEST, `downscope: invalid request: ${p.why}`)));
        return;
      case "request":
        this.debug(`client → ${p.msg.method} #${String(p.msg.id)}`);
        void this.clientRequest(p.msg).catch((e: unknown) => {
          this.o.log(`downscope mcp-proxy: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
          this.answer(p.msg.id, { error: { code: INTERNAL_ERROR, message: "downscope: internal error in the proxy" } });
        });
        return;
      case "notification":
        this.clientNotification(p.msg);
        return;
      case "response":
        this.clientResponse(p.msg);
        return;
    }
  }

  private async clientRequest(req: JSONRPCRequest): Promise<void> {
    switch (req.method) {
      case "initialize":
        this.initializeRequest = req;
        return this.forward(this.defaultInstancePlan, req, { isInitialize: true });
      case "tools/call":
        return this.toolCall(req);
      case "tools/list": {
        const hide = hidesDeniedTools(this.o.loaded, this.o.server);
        const generation = this.listGeneration;
        const whole = req.params?.cursor === undefined;
        return this.forward(this.defaultInstancePlan, req, {
          transform: (r) => {
            this.noteListed(r, generation, whole);
            this.hideUnlocked(r);
            if (hide) this.hideDenied(r);
          },
        });
      }
      case "tasks/get":
      case "tasks/result":
      case "tasks/cancel": {
        const taskId = req.params?.taskId;
        const routed = typeof taskId === "string" ? this.taskRoutes.get(taskId) : undefined;
        if (routed && routed.upstream.alive) return this.forwardTo(routed, req, {});
        return this.forward(this.defaultInstancePlan, req, {});
      }
      default:
        return this.forward(this.defaultInstancePlan, req, {});
    }
  }

  private async toolCall(req: JSONRPCRequest): Promise<void> {
    const params = req.params;
    const tool = params?.name;
    const args = params?.arguments ?? {};
    if (typeof tool !== "string" || !isObj(args)) {
      this.answer(req.id, {
        error: {
          code: INVALID_PARAMS,
          message: "downscope: tools/call needs params.name (string) and params.arguments (object)",
        },
      });
      return;
    }
    const refused = await this.lockGate(tool);
    if (refused !== undefined) {
      this.recordDecision(tool, args, undefined, "blocked", refused);
      this.answerToolError(req.id, refused);
      return;
    }
    const plan = planToolCall(this.o.loaded, this.o.server, tool, args, this.o.pathCtx);
    switch (plan.kind) {
      case "deny":
        this.recordDecision(tool, args, plan.decision, "blocked", plan.text);
        this.answerToolError(req.id, plan.text);
        return;
      case "forward":
        // A minted token is recorded once the instance holds it (or the mint failed and the call is blocked).
        if (plan.instance.app)
          return this.forward(plan.instance, req, {
            isToolCall: true,
            record: (instance, why) => {
              if (why !== undefined) return this.recordDecision(tool, args, plan.decision, "blocked", why);
              this.recordDecision(tool, args, plan.decision, "forwarded", undefined, instance?.minted);
              // Later calls on this instance reuse its token.
              if (instance?.minted) instance.minted = { ...instance.minted, minted: false };
            },
          });
        this.recordDecision(tool, args, plan.decision, "forwarded");
        return this.forward(plan.instance, req, { isToolCall: true });
      case "review": {
        if (!this.clientCanElicit()) {
          this.recordDecision(tool, args, plan.decision, "blocked", plan.text);
          this.answerToolError(
            req.id,
            `${plan.text}\nThis client cannot ask for approval (it did not declare the elicitation capability): ask the human to do this themselves.`,
          );
          return;
        }
        const inflight: InFlight = { cancelled: false };
        this.inFlight.set(idKey(req.id), inflight);
        const accepted = await this.askHuman(plan.text, tool, args, inflight);
        if (inflight.cancelled) return;
        this.inFlight.delete(idKey(req.id));
        if (!accepted) {
          this.recordDecision(tool, args, plan.decision, "declined", plan.text);
          this.answerToolError(req.id, `${plan.text}\nThe human did not approve this call.`);
          return;
        }
        this.recordDecision(tool, args, plan.decision, "approved");
        return this.forward(this.defaultInstancePlan, req, { isToolCall: true });
      }
    }
  }

  /**
   * The single place where a tools/call decision is recorded. The audit trail
   * connects here (ProxyOptions.audit); argument values and tokens are never passed on.
   */
  private recordDecision(
    tool: string,
    args: Record<string, unknown>,
    d: Decision | undefined,
    outcome: McpDecisionRecord["outcome"],
    text?: string,
    minted?: MintInfo,
  ): void {
    const record: McpDecisionRecord = {
      server: this.o.server,
      tool,
      argumentKeys: Object.keys(args),
      action: d?.action ?? "deny",
      outcome,
      ...(d?.rule ? { rule: d.rule.name, layer: d.rule.layer, file: d.rule.file } : {}),
      reason: d?.reason ?? text ?? "",
      ...(d?.grant?.slot !== undefined ? { slot: d.grant.slot } : {}),
      ...(minted ? { minted } : {}),
    };
    this.debug(`decision ${tool}: ${record.action} (${outcome})${record.rule ? ` by "${record.rule}"` : ""}`);
    this.o.audit?.(record);
  }

  private clientCanElicit(): boolean {
    const caps = this.initializeRequest?.params?.capabilities;
    return isObj(caps) && isObj(caps.elicitation);
  }

  /** Ask through elicitation/create (form mode, no fields): only an explicit accept approves. */
  private async askHuman(
    text: string,
    tool: string,
    args: Record<string, unknown>,
    inflight: InFlight,
  ): Promise<boolean> {
    let shown = JSON.stringify(args);
    if (shown.length > 2000) shown = shown.slice(0, 2000) + "…";
    const params: ElicitRequest["params"] = {
      message: `${text}\n\nTool: ${this.o.server}/${tool}\nArguments: ${shown}\n\nAccept to run this call once; decline or cancel to block it.`,
      requestedSchema: { type: "object", properties: {} },
    };
    const id = this.nextClientId++;
    const r = await new Promise<JSONRPCResponse | undefined>((resolve) => {
      this.toClient.set(id, { kind: "internal", resolve });
      // The call was cancelled while the question is open: withdraw the question too.
      inflight.onCancel = () => {
        this.toClient.delete(id);
        this.o.write(
          serialize({
            jsonrpc: "2.0",
            method: "notifications/cancelled",
            params: { requestId: id, reason: "the tool call was cancelled" },
          }),
        );
        resolve(undefined);
      };
      this.o.write(serialize({ jsonrpc: "2.0", id, method: "elicitation/create", params }));
    });
    const result = r?.result as ElicitResult | undefined;
    return r !== undefined && r.error === undefined && result?.action === "accept";
  }

  // ---------------------------------------------------------------- the MCP tool lock

  /** The lock of this server now; off without a lock reader. */
  private currentLock() {
    return this.o.lock ? serverLock(this.o.lock(), this.o.server) : ({ kind: "off" } as const);
  }

  /** Drops from a tools/list answer every tool that differs from the lock or is new, and says so on stderr. */
  private hideUnlocked(result: Record<string, unknown>): void {
    const lock = this.currentLock();
    if (!Array.isArray(result.tools) || lock.kind === "off") return;
    result.tools = (result.tools as unknown[]).filter((t) => {
      if (!isObj(t) || typeof t.name !== "string") return false;
      const v = verdictUnder(lock, t);
      if (v.status === "pinned") return true;
      this.reportHidden(t.name, v);
      return false;
    });
  }

  private reportHidden(tool: string, v: ToolVerdict): void {
    const why = describeVerdict(v);
    const key = `${tool}\0${why}`;
    if (this.reportedHidden.has(key)) return;
    this.reportedHidden.add(key);
    this.o.log(
      `downscope mcp-proxy: ${this.o.server}: tool "${tool}" is hidden and refused: it ${why}. Review it, then run \`downscope mcp lock\`.\n`,
    );
  }

  /** Remembers what a client's tools/list answer showed, unless the server changed its tools since it was asked. */
  private noteListed(result: Record<string, unknown>, generation: number, whole: boolean): void {
    if (generation !== this.listGeneration || !Array.isArray(result.tools)) return;
    const complete = whole && (result.nextCursor === undefined || result.nextCursor === null);
    const tools = complete || !this.listed ? new Map<string, Tool>() : this.listed.tools;
    for (const t of result.tools as unknown[]) if (isObj(t) && typeof t.name === "string") tools.set(t.name, t);
    this.listed = { tools, complete: complete || (this.listed?.complete ?? false) };
  }

  /**
   * Why a tools/call of `tool` is refused by the lock, or undefined to go on.
   * Checked against the server's current definition: listed again first when
   * the proxy has not seen it since the server last said its tools changed.
   */
  private async lockGate(tool: string): Promise<string | undefined> {
    const lock = this.currentLock();
    if (lock.kind === "off") return undefined;
    if (lock.kind === "broken") return this.lockRefusal(tool, { status: "unusable", why: lock.why }, lock.file);
    let def = this.listed?.tools.get(tool);
    if (def === undefined && this.listed?.complete !== true) {
      try {
        await this.relist();
      } catch (e) {
        return `downscope: denied: the tools of MCP server "${this.o.server}" could not be listed to check "${tool}" against the MCP lock (${e instanceof Error ? e.message : String(e)})`;
      }
      def = this.listed?.tools.get(tool);
    }
    if (def === undefined)
      return `downscope: denied: MCP server "${this.o.server}" does not list a tool "${tool}", so it cannot be checked against the MCP lock (${lock.file})`;
    const v = verdictUnder(lock, def);
    if (v.status === "pinned") return undefined;
    this.reportHidden(tool, v);
    return this.lockRefusal(tool, v, lock.file);
  }

  private lockRefusal(tool: string, v: ToolVerdict, file: string): string {
    return (
      `downscope: denied: tool "${tool}" of MCP server "${this.o.server}" ${describeVerdict(v)} (${file}). ` +
      "A tool whose definition changed after a person approved it may carry instructions that are not theirs, so downscope hides and refuses it " +
      "until a person reviews it and runs `downscope mcp lock`. Do not work around this: tell the user which tool and why."
    );
  }

  /** Lists every page of the default instance's tools; a list_changed meanwhile starts it again. */
  private relist(): Promise<void> {
    this.relisting ??= (async () => {
      try {
        for (let attempt = 0; attempt < 5; attempt++) {
          const generation = this.listGeneration;
          const tools = await this.listAll();
          if (generation !== this.listGeneration) continue;
          this.listed = { tools, complete: true };
          const lock = this.currentLock();
          for (const t of tools.values()) {
            const v = verdictUnder(lock, t);
            if (v.status !== "pinned") this.reportHidden(t.name as string, v);
          }
          return;
        }
        throw new Error("the server kept changing its tools while they were listed");
      } finally {
        this.relisting = undefined;
      }
    })();
    return this.relisting;
  }

  private async listAll(): Promise<Map<string, Tool>> {
    const instance = await this.instanceFor(this.defaultInstancePlan, false);
    const tools = new Map<string, Tool>();
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await this.internalRequest(instance, "tools/list", cursor === undefined ? {} : { cursor });
      if (r.error) throw new Error(`tools/list failed: ${r.error.message}`);
      const list = r.result?.tools;
      if (!Array.isArray(list)) throw new Error("tools/list answered without a tools array");
      for (const t of list as unknown[]) if (isObj(t) && typeof t.name === "string") tools.set(t.name, t);
      const next = r.result?.nextCursor;
      if (typeof next !== "string" || next === "") return tools;
      cursor = next;
    }
    throw new Error("tools/list did not end after 100 pages");
  }

  /**
   * For `downscope mcp lock`: start the default instance as a client would
   * (the same environment and slot token the proxy gives it), list every
   * tool, and stop. The lock is not applied: this is what it is made from.
   */
  async listToolsOnce(): Promise<Tool[]> {
    this.initializeRequest = {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "downscope-mcp-lock", version: "1" },
      },
    };
    this.initializedNotification = { jsonrpc: "2.0", method: "notifications/initialized" };
    try {
      return [...(await this.listAll()).values()];
    } finally {
      await this.shutdown();
    }
  }

  /** A request of the proxy's own to an instance, answered to the proxy, not the client. */
  private internalRequest(
    instance: Instance,
    method: string,
    params: Record<string, unknown>,
  ): Promise<JSONRPCResponse> {
    const id = this.nextUpstreamId++;
    const timeoutMs = this.o.initializeTimeoutMs ?? 30_000;
    return new Promise<JSONRPCResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        instance.pending.delete(id);
        reject(
          new Error(`the upstream server (${planLabel(instance.plan)}) did not answer ${method} in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      instance.pending.set(id, {
        kind: "internal",
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      instance.upstream.send(serialize({ jsonrpc: "2.0", id, method, params }));
    });
  }

  private hideDenied(result: Record<string, unknown>): void {
    if (!this.o.loaded.ok || !Array.isArray(result.tools)) return;
    const policy = this.o.loaded.policy;
    result.tools = (result.tools as unknown[]).filter(
      (t) => !(isObj(t) && typeof t.name === "string" && alwaysDenied(policy, this.o.server, t.name, this.o.pathCtx)),
    );
  }

  private async forward(
    plan: InstancePlan,
    req: JSONRPCRequest,
    opts: {
      transform?: (r: Record<string, unknown>) => void;
      isInitialize?: boolean;
      isToolCall?: boolean;
      /** Called once the instance is known (or could not be started: why). */
      record?: (instance: Instance | undefined, why?: string) => void;
    },
  ): Promise<void> {
    const inflight: InFlight = { cancelled: false };
    this.inFlight.set(idKey(req.id), inflight);
    let instance: Instance;
    try {
      instance = await this.instanceFor(plan, opts.isInitialize === true);
    } catch (e) {
      this.inFlight.delete(idKey(req.id));
      if (inflight.cancelled) return;
      const why = e instanceof Error ? e.message : String(e);
      opts.record?.(undefined, why);
      this.o.log(`downscope mcp-proxy: ${why}\n`);
      if (opts.isToolCall) this.answerToolError(req.id, `downscope: denied: ${why}`);
      else this.answer(req.id, { error: { code: INTERNAL_ERROR, message: `downscope: ${why}` } });
      return;
    }
    opts.record?.(instance);
    if (inflight.cancelled) {
      this.inFlight.delete(idKey(req.id));
      return;
    }
    this.forwardTo(instance, req, opts, inflight);
  }

  private forwardTo(
    instance: Instance,
    req: JSONRPCRequest,
    opts: { transform?: (r: Record<string, unknown>) => void; isToolCall?: boolean },
    inflight: InFlight = { cancelled: false },
  ): void {
    const upstreamId = this.nextUpstreamId++;
    const transform = opts.isToolCall
      ? (r: Record<string, unknown>) => {
          // A task-augmented call answers with a task id; later tasks/* requests must reach the same instance.
          const task = r.task;
          if (isObj(task) && typeof task.taskId === "string") this.taskRoutes.set(task.taskId, instance);
        }
      : opts.transform;
    const name = req.params?.name;
    const call =
      req.method === "tools/call" ? { tool: typeof name === "string" ? name : "", sent: Date.now() } : undefined;
    instance.pending.set(upstreamId, {
      kind: "client",
      clientId: req.id,
      method: req.method,
      transform,
      ...(call ? { call } : {}),
    });
    inflight.instance = instance;
    inflight.upstreamId = upstreamId;
    this.inFlight.set(idKey(req.id), inflight);
    instance.upstream.send(serialize({ ...req, id: upstreamId }));
  }

  private clientNotification(n: JSONRPCNotification): void {
    this.debug(`client → ${n.method}`);
    switch (n.method) {
      case "notifications/initialized":
        this.initializedNotification = n;
        for (const i of this.instances.values()) this.sendInitialized(i);
        return;
      case "notifications/cancelled": {
        const rid = n.params?.requestId;
        if (!(typeof rid === "string" || typeof rid === "number")) return;
        const f = this.inFlight.get(idKey(rid));
        if (!f) return;
        f.cancelled = true;
        f.onCancel?.();
        if (f.instance && f.upstreamId !== undefined) {
          f.instance.pending.delete(f.upstreamId);
          f.instance.upstream.send(serialize({ ...n, params: { ...n.params, requestId: f.upstreamId } }));
        }
        this.inFlight.delete(idKey(rid));
        return;
      }
      case "notifications/progress": {
        const token = n.params?.progressToken;
        const route = typeof token === "string" ? this.progressTokens.get(token) : undefined;
        if (route && route.instance.upstream.alive)
          route.instance.upstream.send(serialize({ ...n, params: { ...n.params, progressToken: route.token } }));
        return;
      }
      case "notifications/roots/list_changed":
        for (const i of this.instances.values()) i.upstream.send(serialize(n));
        return;
      default: {
        const d = this.instances.get(this.defaultInstancePlan.key);
        if (d) d.upstream.send(serialize(n));
        else this.debug(`dropped ${n.method}: no instance is running`);
      }
    }
  }

  private clientResponse(r: JSONRPCResponse): void {
    const id = typeof r.id === "number" ? r.id : Number.NaN;
    const entry = this.toClient.get(id);
    if (!entry) {
      this.debug(`dropped a client answer to unknown id ${String(r.id)}`);
      return;
    }
    this.toClient.delete(id);
    if (entry.kind === "internal") {
      entry.resolve(r);
      return;
    }
    entry.instance.serverRequests.delete(id);
    if (entry.progressToken !== undefined) this.progressTokens.delete(entry.progressToken);
    if (entry.instance.upstream.alive) entry.instance.upstream.send(serialize({ ...r, id: entry.upstreamId }));
  }

  // ---------------------------------------------------------------- instances

  private async instanceFor(plan: InstancePlan, forInitialize: boolean): Promise<Instance> {
    if (this.closing) throw new Error("the proxy is shutting down");
    const existing = this.instances.get(plan.key);
    if (existing && (existing.expiresAt === undefined || existing.expiresAt - APP_TOKEN_MARGIN_MS > Date.now())) {
      await existing.ready;
      return this.checkAlive(existing);
    }
    if (existing) {
      // Its token is about to expire: new calls go to a new instance; the old one finishes and is stopped.
      this.instances.delete(plan.key);
      existing.stopping = true;
      void existing.upstream.stop();
    }
    let token: { name: string; value: string } | undefined;
    let expiresAt: number | undefined;
    let minted: MintInfo | undefined;
    if (plan.app) {
      const { githubAppRequest, obtainInstallationToken } = await import("../credentials/github-app.js");
      const t = await obtainInstallationToken(githubAppRequest(plan.app.grant, plan.app.scope), {
        env: this.o.env,
        cwd: this.o.cwd,
        now: () => new Date(),
      });
      token = { name: plan.app.injectAs, value: t.value };
      expiresAt = t.expiresAt?.getTime();
      minted = t.info;
      const again = this.instances.get(plan.key);
      if (again) {
        // Another call started the instance while this one minted (the cache made it the same token).
        await again.ready;
        return this.checkAlive(again);
      }
    }
    if (plan.slot) {
      if (plan.slot.def.inject_file_env !== undefined)
        throw new Error(
          `slot "${plan.slot.name}" uses inject_file_env, which downscope does not support for MCP servers yet; use inject_as`,
        );
      if (plan.slot.injectAs === undefined)
        throw new Error(
          `slot "${plan.slot.name}" has no inject_as: downscope cannot tell which variable the MCP server reads its token from`,
        );
      const read = this.o.readToken ?? ((n: string, d: TokenSlot) => readSlotToken(n, d, this.o.env, this.o.cwd).value);
      token = { name: plan.slot.injectAs, value: read(plan.slot.name, plan.slot.def) };
    }
    const moved: Record<string, string> = {};
    for (const m of this.o.movedSecrets ?? []) moved[m.name] = m.read();
    const env = upstreamEnv({ ...this.o.env, ...moved }, this.strip, token);
    const label = planLabel(plan);
    const secrets: KnownSecret[] =
      token === undefined ? [] : [{ value: token.value, kind: plan.slot ? `slot:${plan.slot.name}` : "credential" }];
    // The secrets moved out of the client's config are this instance's too (a keyring slot is known to nothing else).
    for (const m of this.o.movedSecrets ?? [])
      if (moved[m.name] !== undefined && moved[m.name] !== "") secrets.push({ value: moved[m.name]!, kind: "moved" });
    // Masked in this instance's answers here, and by the agent's masking hook wherever it shows up later.
    if (this.o.masker !== undefined && secrets.length > 0)
      rememberSecrets(
        secrets.map((x) => x.value),
        this.o.env,
      );
    // Assigned below, before any event can fire (events come from the event loop).
    const instance = {
      plan,
      pending: new Map(),
      serverRequests: new Set(),
      sentInitialized: false,
      stopping: false,
      secrets,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(minted ? { minted } : {}),
    } as unknown as Instance;
    instance.upstream = new Upstream(
      { file: this.o.upstream.file, args: this.o.upstream.args, cwd: this.o.cwd, env },
      {
        line: (l) => this.fromUpstream(instance, l),
        oversized: (head, bytes) => this.upstreamOversized(instance, head, bytes),
        exit: (why) => this.instanceGone(instance, label, why),
      },
      this.maxBytes,
    );
    this.debug(`started upstream (${label}) pid ${instance.upstream.pid ?? "?"}`);
    this.instances.set(plan.key, instance);
    instance.ready =
      forInitialize || !this.initializeRequest ? Promise.resolve() : this.replayInitialize(instance, label);
    await instance.ready;
    return this.checkAlive(instance);
  }

  /** A spawn error can arrive before the first message is sent: report it instead of waiting forever. */
  private checkAlive(i: Instance): Instance {
    if (i.gone !== undefined) {
      const label = planLabel(i.plan);
      throw new Error(`the upstream MCP server (${label}) ${i.gone}`);
    }
    return i;
  }

  /** A new instance gets the client's own initialize and initialized, as if it had been there from the start. */
  private async replayInitialize(instance: Instance, label: string): Promise<void> {
    const init = this.initializeRequest!;
    try {
      const r = await this.internalRequest(instance, init.method, init.params ?? {});
      if (r.error) throw new Error(`the upstream server (${label}) refused initialize: ${r.error.message}`);
    } catch (e) {
      if (this.instances.get(instance.plan.key) === instance) this.instances.delete(instance.plan.key);
      instance.stopping = true;
      instance.upstream.kill();
      throw e;
    }
    this.sendInitialized(instance);
  }

  private sendInitialized(i: Instance): void {
    if (i.sentInitialized || !this.initializedNotification) return;
    i.sentInitialized = true;
    i.upstream.send(serialize(this.initializedNotification));
  }

  private instanceGone(instance: Instance, label: string, why: string): void {
    instance.gone = why;
    if (this.instances.get(instance.plan.key) === instance) this.instances.delete(instance.plan.key);
    const expected = instance.stopping || this.closing;
    if (!expected) this.o.log(`downscope mcp-proxy: upstream server (${label}) ${why}\n`);
    for (const [, p] of instance.pending) {
      if (p.kind === "internal") {
        p.reject(new Error(`the upstream server (${label}) ${why}`));
        continue;
      }
      this.inFlight.delete(idKey(p.clientId));
      this.answer(p.clientId, {
        error: {
          code: INTERNAL_ERROR,
          message: `downscope: the upstream MCP server (${label}) ${why} before answering ${p.method}; it will be restarted on the next request`,
        },
      });
    }
    instance.pending.clear();
    for (const cid of instance.serverRequests) {
      const entry = this.toClient.get(cid);
      if (entry?.kind === "upstream" && entry.progressToken !== undefined)
        this.progressTokens.delete(entry.progressToken);
      this.toClient.delete(cid);
      this.o.write(
        serialize({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: cid, reason: "the upstream MCP server exited" },
        }),
      );
    }
    instance.serverRequests.clear();
    for (const [task, i] of this.taskRoutes) if (i === instance) this.taskRoutes.delete(task);
  }

  // ---------------------------------------------------------------- upstream → client

  private fromUpstream(instance: Instance, line: string): void {
    const p = parseLine(line);
    switch (p.kind) {
      case "parse-error":
      case "invalid":
        this.o.log(
          `downscope mcp-proxy: upstream server sent ${p.kind === "parse-error" ? `malformed JSON (${p.why})` : `an invalid message (${p.why})`}\n`,
        );
        this.failPendingById(instance, idFromHead(line.slice(0, 4096)), "sent a malformed answer");
        return;
      case "response":
        return this.upstreamResponse(instance, p.msg);
      case "request":
        return this.upstreamRequest(instance, p.msg);
      case "notification":
        return this.upstreamNotification(instance, p.msg);
    }
  }

  private upstreamOversized(instance: Instance, head: string, bytes: number): void {
    this.o.log(
      `downscope mcp-proxy: upstream server sent a message of ${bytes} bytes; the limit is ${this.maxBytes}\n`,
    );
    const id = idFromHead(head);
    if (!this.failPendingById(instance, id, `sent an answer larger than ${this.maxBytes} bytes`)) {
      // Cannot tell which call it answered: restart the instance so no call waits forever.
      instance.upstream.kill();
    }
  }

  /** Answers the client request behind an upstream id with an error. False if there was none. */
  private failPendingById(instance: Instance, id: RequestId | undefined, what: string): boolean {
    if (typeof id !== "number") return false;
    const p = instance.pending.get(id);
    if (!p) return false;
    instance.pending.delete(id);
    if (p.kind === "internal") {
      p.reject(new Error(`the upstream server ${what}`));
      return true;
    }
    this.inFlight.delete(idKey(p.clientId));
    this.answer(p.clientId, { error: { code: INTERNAL_ERROR, message: `downscope: the upstream MCP server ${what}` } });
    return true;
  }

  private upstreamResponse(instance: Instance, r: JSONRPCResponse): void {
    const id = typeof r.id === "number" ? r.id : Number.NaN;
    const p = instance.pending.get(id);
    if (!p) {
      this.debug(`dropped an upstream answer to unknown id ${String(r.id)}`);
      return;
    }
    instance.pending.delete(id);
    if (p.kind === "internal") {
      p.resolve(r);
      return;
    }
    this.inFlight.delete(idKey(p.clientId));
    if (p.transform && isObj(r.result)) p.transform(r.result);
    if (this.o.masker !== undefined && (p.method === "tools/call" || p.method === "tasks/result")) {
      const masked = maskToolResponse(r, this.o.masker, instance.secrets);
      r = masked.response;
      if (p.call)
        this.o.auditResult?.({
          server: this.o.server,
          tool: p.call.tool,
          duration_ms: Date.now() - p.call.sent,
          output: resultRecord(masked),
        });
    }
    this.o.write(serialize({ ...r, id: p.clientId }));
  }

  private upstreamRequest(instance: Instance, req: JSONRPCRequest): void {
    const cid = this.nextClientId++;
    let params = req.params;
    let progressToken: string | undefined;
    const meta = params?._meta;
    if (isObj(meta) && (typeof meta.progressToken === "string" || typeof meta.progressToken === "number")) {
      progressToken = `downscope-${cid}`;
      this.progressTokens.set(progressToken, { instance, token: meta.progressToken });
      params = { ...params, _meta: { ...meta, progressToken } };
    }
    this.toClient.set(cid, { kind: "upstream", instance, upstreamId: req.id, progressToken });
    instance.serverRequests.add(cid);
    this.debug(`upstream → ${req.method} #${String(req.id)} (client id ${cid})`);
    this.o.write(serialize({ ...req, id: cid, ...(params !== undefined ? { params } : {}) }));
  }

  private upstreamNotification(instance: Instance, n: JSONRPCNotification): void {
    if (n.method === "notifications/cancelled") {
      // The server gave up on one of its own requests to the client: map its id.
      const rid = n.params?.requestId;
      for (const cid of instance.serverRequests) {
        const e = this.toClient.get(cid);
        if (e?.kind === "upstream" && e.upstreamId === rid) {
          this.toClient.delete(cid);
          instance.serverRequests.delete(cid);
          this.o.write(serialize({ ...n, params: { ...n.params, requestId: cid } }));
          return;
        }
      }
      return;
    }
    // Lists (tools, prompts, resources) come from the default instance only.
    if (instance.plan.key !== this.defaultInstancePlan.key && /^notifications\/\w+\/list_changed$/.test(n.method)) {
      return;
    }
    if (n.method === "notifications/tools/list_changed") {
      // What was listed is stale: the next tools/call is checked against a fresh listing, made now if locked.
      this.listGeneration++;
      this.listed = undefined;
      if (this.currentLock().kind === "locked")
        void this.relist().catch((e: unknown) =>
          this.o.log(
            `downscope mcp-proxy: ${this.o.server}: listing the changed tools failed (${e instanceof Error ? e.message : String(e)}); calls are refused until they can be listed\n`,
          ),
        );
    }
    this.o.write(serialize(n));
  }

  // ---------------------------------------------------------------- helpers

  private answer(id: RequestId, body: { result?: Record<string, unknown>; error?: JSONRPCResponse["error"] }): void {
    this.o.write(serialize({ jsonrpc: "2.0", id, ...body }));
  }

  /** A tool result the model reads: why downscope did not run the call. */
  private answerToolError(id: RequestId, text: string): void {
    const result: CallToolResult = { content: [{ type: "text", text }], isError: true };
    this.answer(id, { result: result });
  }

  private debug(text: string): void {
    if (this.o.debug) this.o.log(`downscope mcp-proxy: ${text}\n`);
  }
}
