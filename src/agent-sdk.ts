/**
 * The downscope decision as a Claude Agent SDK PreToolUse hook callback
 * (https://docs.claude.com/en/api/agent-sdk/typescript, "Hooks"):
 *
 *   import { query } from "@anthropic-ai/claude-agent-sdk";
 *   import { downscopeHooks } from "downscope";
 *   query({ prompt, options: { hooks: downscopeHooks() } });
 *
 * Same decision function as `downscope hook`, same fail-closed rule: any
 * error answers deny. Only the SDK's types are imported (erased at build), so
 * this adds no runtime dependency.
 */
import type { HookCallback, HookCallbackMatcher, HookEvent, HookJSONOutput } from "@anthropic-ai/claude-agent-sdk";
import { ConfigError, errorMessage } from "./errors.js";
import { answerPayload } from "./hook/answer.js";
import { toOutput } from "./hook/protocol.js";
import { answerPostToolUse, withheldResult, type PostToolPayload } from "./hook/post-tool-use.js";
import type { Env } from "./paths.js";

export interface DownscopeHookOptions {
  /** Environment for policy lookup and approvals (default: process.env). */
  env?: Env;
  /** Working directory when the hook input carries none (default: process.cwd()). */
  cwd?: string;
}

/** A PreToolUse HookCallback that decides Bash and MCP tool calls with the downscope policy. */
export function downscopeHook(opts: DownscopeHookOptions = {}): HookCallback {
  return async (input): Promise<HookJSONOutput> => {
    if (input.hook_event_name !== "PreToolUse") return {};
    const toolInput =
      typeof input.tool_input === "object" && input.tool_input !== null && !Array.isArray(input.tool_input)
        ? (input.tool_input as Record<string, unknown>)
        : {};
    try {
      const result = await answerPayload(
        { tool_name: input.tool_name, tool_input: toolInput, cwd: input.cwd },
        { env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd() },
      );
      return toOutput(result, toolInput) ?? {};
    } catch (e) {
      const reason =
        e instanceof ConfigError
          ? `downscope: the policy cannot be loaded, so tool calls are blocked until it is fixed:\n${e.message}`
          : `downscope: internal error (${errorMessage(e)}), so the tool call is blocked`;
      return {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "deny",
          permissionDecisionReason: reason,
        },
      };
    }
  };
}

/**
 * A PostToolUse HookCallback that masks secrets in every tool's output
 * (docs/masking.md): the same function as `downscope post-tool-use`, and the
 * same fail-safe rule — any error answers with the output withheld.
 */
export function downscopeMaskHook(opts: DownscopeHookOptions = {}): HookCallback {
  return async (input): Promise<HookJSONOutput> => {
    if (input.hook_event_name !== "PostToolUse") return {};
    const payload: PostToolPayload = {
      event: "PostToolUse",
      tool_name: input.tool_name,
      tool_input:
        typeof input.tool_input === "object" && input.tool_input !== null && !Array.isArray(input.tool_input)
          ? (input.tool_input as Record<string, unknown>)
          : {},
      tool_response: input.tool_response,
      cwd: input.cwd,
    };
    let result;
    try {
      result = await answerPostToolUse(payload, { env: opts.env ?? process.env, cwd: opts.cwd ?? process.cwd() });
    } catch (e) {
      result = withheldResult(payload, errorMessage(e));
    }
    if (result.kind === "unchanged") return {};
    return { hookSpecificOutput: { hookEventName: "PostToolUse", updatedToolOutput: result.output } };
  };
}

/** `options.hooks` for query(): the decision on Bash, the file tools and every MCP tool; masking after every tool. */
export function downscopeHooks(opts: DownscopeHookOptions = {}): Partial<Record<HookEvent, HookCallbackMatcher[]>> {
  return {
    PreToolUse: [
      {
        matcher: "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|NotebookRead|Grep|Glob|mcp__.*",
        hooks: [downscopeHook(opts)],
      },
    ],
    PostToolUse: [{ hooks: [downscopeMaskHook(opts)] }],
  };
}
