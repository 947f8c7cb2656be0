/**
 * `downscope doctor`'s checks of the hooks downscope installed in the agents
 * of src/agents/ beyond Claude Code's PreToolUse (doctor.ts), Cursor's and
 * Gemini CLI's (doctor.ts): a finding only where downscope's entry is there,
 * and a warning where the agent would not run it or would let a call through
 * when it fails:
 *   - Claude Code: an entry without `onFailure: "block"` (a crash or a
 *     timeout then runs the tool);
 *   - Codex CLI: a trust record that no longer matches the hook (Codex skips
 *     an untrusted hook silently), `enabled = false` for it, or
 *     `features.hooks = false`;
 *   - Copilot CLI: `disableAllHooks: true`;
 *   - OpenCode, pi: the module's node gone (every call is then blocked).
 * Each agent's config directory is the one its variable names.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isClaudeEntry, CLAUDE } from "../agents/claude.js";
import { CODEX, codexHookKey, codexTrustedHash } from "../agents/codex.js";
import { COPILOT, isCopilotEntry } from "../agents/copilot.js";
import { OPENCODE } from "../agents/opencode.js";
import { PI } from "../agents/pi.js";
import { configDir, isObj, MARK, type Env, type Json, type Obj } from "../agents/spec.js";
import type { Finding } from "./doctor.js";
import { tomlBlockOf, withoutTomlBlock } from "./install-agent.js";

function readJson(file: string): Obj | undefined {
  try {
    const o = JSON.parse(readFileSync(file, "utf8")) as Json;
    return isObj(o) ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Claude Code settings files: downscope's entries without onFailure "block". */
export function claudeFailOpen(files: readonly string[]): Finding[] {
  const out: Finding[] = [];
  for (const file of files) {
    const hooks = readJson(file)?.hooks;
    if (!isObj(hooks)) continue;
    const open: string[] = [];
    for (const [event, groups] of Object.entries(hooks)) {
      if (!Array.isArray(groups)) continue;
      for (const g of groups)
        if (isObj(g) && Array.isArray(g.hooks))
          for (const h of g.hooks) if (isClaudeEntry(h) && isObj(h) && h.onFailure !== "block") open.push(event);
    }
    if (open.length > 0)
      out.push({
        level: "warn",
        check: "hook",
        message: `${file}: downscope's ${[...new Set(open)].join(", ")} hook has no onFailure: "block", so Claude Code runs the tool when the hook crashes or times out`,
        fix: "downscope install claude",
      });
  }
  return out;
}

/** The user settings file Claude Code reads (CLAUDE_CONFIG_DIR honoured). */
export const claudeUserSettings = (env: Env) => join(configDir(CLAUDE, env), "settings.json");

export async function agentFindings(env: Env): Promise<Finding[]> {
  const out: Finding[] = [];
  out.push(...(await codexFindings(env)));
  const copilot = join(configDir(COPILOT, env), "settings.json");
  const cs = readJson(copilot);
  const pre = isObj(cs?.hooks) && Array.isArray(cs.hooks.preToolUse) ? cs.hooks.preToolUse : [];
  if (pre.some(isCopilotEntry))
    out.push(
      cs?.disableAllHooks === true
        ? {
            level: "warn",
            check: "copilot",
            message: `${copilot}: disableAllHooks is true, so Copilot CLI runs no hook, downscope's included`,
            fix: `remove disableAllHooks from ${copilot}`,
          }
        : {
            level: "ok",
            check: "copilot",
            message: `Copilot CLI preToolUse hook runs \`downscope hook --agent copilot\` (${copilot})`,
          },
    );
  for (const [agent, rel] of [
    [OPENCODE, "plugin/downscope.js"],
    [PI, "extensions/downscope.js"],
  ] as const) {
    const file = join(configDir(agent, env), rel);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    if (!text.startsWith(`// ${MARK}`)) continue;
    const node = /^const NODE = (".*");$/m.exec(text)?.[1];
    const nodePath = node === undefined ? undefined : (JSON.parse(node) as string);
    out.push(
      nodePath !== undefined && existsSync(nodePath)
        ? { level: "ok", check: agent.target, message: `${agent.agent} loads downscope's module (${file})` }
        : {
            level: "warn",
            check: agent.target,
            message: `${file}: the node it starts the hook with (${nodePath ?? "?"}) is gone, so every tool call is blocked`,
            fix: `downscope install ${agent.target}`,
          },
    );
  }
  return out;
}

async function codexFindings(env: Env): Promise<Finding[]> {
  const file = join(configDir(CODEX, env), "config.toml");
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  const block = tomlBlockOf(text);
  if (block === undefined) return [];
  const { parse } = await import("smol-toml");
  let doc: Obj;
  let before: Obj;
  try {
    doc = parse(text) as Obj;
    before = parse(withoutTomlBlock(text) ?? "") as Obj;
  } catch (e) {
    return [
      {
        level: "error",
        check: "codex",
        message: `${file}: ${(e as Error).message.split("\n")[0]}`,
        fix: `fix the TOML in ${file}`,
      },
    ];
  }
  const problems: string[] = [];
  const hooks = isObj(doc.hooks) ? doc.hooks : {};
  const groups = Array.isArray(hooks.PreToolUse) ? hooks.PreToolUse : [];
  const index = isObj(before.hooks) && Array.isArray(before.hooks.PreToolUse) ? before.hooks.PreToolUse.length : 0;
  const ours = groups[index];
  const command = isObj(ours) && Array.isArray(ours.hooks) && isObj(ours.hooks[0]) ? ours.hooks[0].command : undefined;
  const state = isObj(hooks.state) ? hooks.state[codexHookKey(file, index)] : undefined;
  if (typeof command !== "string" || !isObj(state) || state.trusted_hash !== codexTrustedHash(command))
    problems.push("its trust record does not match the hook (moved or changed), so Codex CLI skips it without a word");
  if (isObj(state) && state.enabled === false) problems.push("it is disabled (enabled = false)");
  if (isObj(doc.features) && doc.features.hooks === false) problems.push("features.hooks = false turns every hook off");
  return [
    problems.length === 0
      ? {
          level: "ok",
          check: "codex",
          message: `Codex CLI PreToolUse hook runs \`downscope hook --agent codex\` (${file})`,
        }
      : {
          level: "warn",
          check: "codex",
          message: `${file}: downscope's hook ${problems.join("; ")}`,
          fix: "downscope install codex",
        },
  ];
}
