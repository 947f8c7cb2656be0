/**
 * The hook of the agents downscope reaches through a module in their own
 * process (OpenCode's plugin, pi's extension: src/agents/plugin-module.ts):
 * the module sends downscope's own payload and applies downscope's own
 * answer through the agent's API, so this adapter only maps each agent's
 * tool names onto the shared decision.
 *
 * In: {tool_name, tool_input, cwd, project_dir?, session_id?}.
 *   OpenCode (1.18.33): bash {command} → Bash; write/edit/multiedit
 *   {filePath} → Write/Edit; apply_patch/patch {patchText} → the patch's
 *   files (src/hook/apply-patch.ts).
 *   pi (0.73.1): bash {command} → Bash; write/edit {path} → Write/Edit.
 *   Every other tool keeps its name (no opinion). MCP tools are not mapped
 *   (OpenCode names them `<server>_<tool>`, which cannot be split): route MCP
 *   servers through `downscope mcp-proxy`, which decides every call itself.
 * Out (exit 0): {decision: "none"} | {decision: "deny", reason} |
 *   {decision: "rewrite" | "ask", reason, field, value}: set tool_input[field]
 *   to value (the rewritten command); "ask" first asks the person (pi only;
 *   OpenCode's plugins cannot ask, so a review is a deny there).
 */
import type { HookResult } from "../decide.js";
import { patchPaths } from "../apply-patch.js";
import { PATCH_TOOL, PayloadError, type HookPayload, type HookProtocol, type ProtocolAnswer } from "../protocol.js";
import { jsonObject } from "./json-payload.js";

type Mapping = { tool: "Bash" | "Write" | "Edit"; field: string } | { tool: typeof PATCH_TOOL; field: string };

const TOOLS: Record<"opencode" | "pi", Record<string, Mapping>> = {
  opencode: {
    bash: { tool: "Bash", field: "command" },
    write: { tool: "Write", field: "filePath" },
    edit: { tool: "Edit", field: "filePath" },
    multiedit: { tool: "Edit", field: "filePath" },
    apply_patch: { tool: PATCH_TOOL, field: "patchText" },
    patch: { tool: PATCH_TOOL, field: "patchText" },
  },
  pi: {
    bash: { tool: "Bash", field: "command" },
    write: { tool: "Write", field: "path" },
    edit: { tool: "Edit", field: "path" },
  },
};

export interface PluginAnswer {
  decision: "none" | "deny" | "ask" | "rewrite";
  reason?: string;
  field?: string;
  value?: string;
}

function parserFor(agent: "opencode" | "pi", name: string) {
  return (text: string): HookPayload => {
    const p = jsonObject(text, agent);
    if (typeof p.tool_name !== "string") throw new PayloadError(`the ${name} hook input has no tool_name`);
    const input = p.tool_input ?? {};
    if (typeof input !== "object" || input === null || Array.isArray(input))
      throw new PayloadError(`the ${name} hook input's tool_input is not an object`);
    const i = input as Record<string, unknown>;
    const base = {
      hook_event_name: "PreToolUse",
      ...(typeof p.cwd === "string" ? { cwd: p.cwd } : {}),
      ...(typeof p.session_id === "string" ? { session_id: p.session_id } : {}),
      ...(typeof p.project_dir === "string" && p.project_dir.startsWith("/") ? { project_dir: p.project_dir } : {}),
    };
    const m = TOOLS[agent][p.tool_name];
    if (m === undefined) return { ...base, tool_name: p.tool_name, tool_input: i };
    const v = i[m.field];
    if (m.tool === "Bash") return { ...base, tool_name: "Bash", tool_input: i };
    if (typeof v !== "string" || v === "")
      throw new PayloadError(`the ${name} ${p.tool_name} input has no ${m.field}, so it cannot be checked`);
    if (m.tool === PATCH_TOOL) {
      const paths = patchPaths(v);
      if (paths instanceof Error) throw new PayloadError(`the ${p.tool_name} call cannot be checked: ${paths.message}`);
      return { ...base, tool_name: PATCH_TOOL, tool_input: { file_paths: paths } };
    }
    return { ...base, tool_name: m.tool, tool_input: { ...i, file_path: v } };
  };
}

export function toPluginAnswer(result: HookResult, payload: HookPayload, canAsk: boolean, name: string): PluginAnswer {
  const original = typeof payload.tool_input.command === "string" ? payload.tool_input.command : undefined;
  switch (result.decision) {
    case "none":
      return { decision: "none" };
    case "deny":
      return { decision: "deny", reason: result.reason };
    case "ask": {
      const value = result.command ?? original;
      if (canAsk && value !== undefined) return { decision: "ask", reason: result.reason, field: "command", value };
      // The approval in result.command is never shown: the model would run it without a person.
      return {
        decision: "deny",
        reason: `${result.reason}. This needs a person's approval, and ${name} cannot ask from a plugin, so the agent may not run it: ask the user to run it themselves in a terminal.`,
      };
    }
    case "allow":
    case "rewrite":
      return { decision: "rewrite", reason: result.reason, field: "command", value: result.command };
  }
}

function protocolFor(agent: "opencode" | "pi", name: string, canAsk: boolean): HookProtocol {
  return {
    agent: name,
    parse: parserFor(agent, name),
    answer: (result, payload): ProtocolAnswer => ({
      stdout: `${JSON.stringify(toPluginAnswer(result, payload, canAsk, name))}\n`,
      code: 0,
    }),
    deny: (reason) => ({ stdout: `${JSON.stringify({ decision: "deny", reason } satisfies PluginAnswer)}\n`, code: 0 }),
    shimsFromPathOnly: true,
  };
}

export const opencodeProtocol = protocolFor("opencode", "OpenCode", false);
export const piProtocol = protocolFor("pi", "pi", true);
