/**
 * What would void contained mode for a project, checked by the hook (which
 * runs outside the sandbox) before every Bash command when contained:
 *   - a `sandbox` key in the project's `.claude/settings.json` or
 *     `settings.local.json`: Claude Code 2.1.328 lets project settings loosen
 *     or switch off a sandbox set in user settings (seen with the real CLI:
 *     `{"sandbox":{"enabled":false}}` there turned it off), and a cloned
 *     repository can ship one. The agent cannot write these files (the
 *     sandbox and the Edit deny rules protect them), so this catches a
 *     repository's, and the hook answers deny until the user removes it;
 *   - downscope-exec living inside the project, where the agent can edit the
 *     code that runs outside the sandbox.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inside } from "../paths.js";
import type { ContainedState } from "../protection/contained-state.js";

export function containmentProblem(state: ContainedState, project: string): string | undefined {
  for (const name of ["settings.json", "settings.local.json"]) {
    const file = join(project, ".claude", name);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return `${file} is not valid JSON, so it cannot be checked for settings that loosen the sandbox`;
    }
    if (typeof data === "object" && data !== null && "sandbox" in data)
      return `${file} has a "sandbox" key, and project settings can loosen or switch off the sandbox that contains this session`;
  }
  const script = state.exec.split(" ")[1] ?? "";
  if (inside(script, project))
    return `downscope-exec (${script}) is inside the project, where the agent can change the code that runs outside the sandbox`;
  return undefined;
}
