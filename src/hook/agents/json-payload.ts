/** The hook input as a JSON object, or a PayloadError that says which agent's hook was expected. */
import { PayloadError } from "../protocol.js";

export function jsonObject(text: string, agent: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new PayloadError(
      `the hook input is not JSON; \`downscope hook --agent ${agent}\` must be run by the agent's hooks (\`downscope install ${agent}\` writes them)`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data))
    throw new PayloadError("the hook input is not a JSON object");
  return data as Record<string, unknown>;
}
