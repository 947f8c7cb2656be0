import { z } from "zod";
import { ConfigSchema } from "../policy/schema.js";
import type { Command } from "./io.js";

export function jsonSchema(): unknown {
  return {
    ...z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }),
    title: "downscope policy",
  };
}

/** `downscope schema`: the JSON Schema editors use to validate .claude/downscoping.yaml. */
export const schema: Command = async (_argv, io) => {
  io.stdout(JSON.stringify(jsonSchema(), null, 2) + "\n");
  return 0;
};
