import { z } from "zod";
import { ConfigSchema } from "../policy/schema.js";
import { UsageError } from "../errors.js";
import { checkOutputJsonSchema } from "./check-output.js";
import { scanOutputJsonSchema } from "./scan-output.js";
import type { Command } from "../io.js";

export function jsonSchema(): unknown {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }),
    title: "downscope policy",
  };
}

/**
 * `downscope schema`: the JSON Schema editors use to validate .claude/downscoping.yaml;
 * `--check-output`: the JSON Schema of `downscope check --json` output;
 * `--scan-output`: the JSON Schema of `downscope scan --json` output.
 */
export const schema: Command = async (argv, io) => {
  const [what, ...rest] = argv;
  if (rest.length > 0 || (what !== undefined && what !== "--check-output" && what !== "--scan-output"))
    throw new UsageError("usage: downscope schema [--check-output | --scan-output]");
  const s =
    what === "--check-output"
      ? checkOutputJsonSchema()
      : what === "--scan-output"
        ? scanOutputJsonSchema()
        : jsonSchema();
  io.stdout(JSON.stringify(s, null, 2) + "\n");
  return 0;
};
