/**
 * `downscope check --json`: a versioned API for scripts and other tools.
 * This zod schema is its source of truth: the TypeScript type of the output,
 * the JSON Schema shipped as schema/check-output.schema.json (`downscope schema
 * --check-output`) and the reference in docs/config.md come from it.
 *
 * Compatibility: `version` changes only when a field is removed or changes
 * meaning; fields may be added within a version. The output never holds a
 * secret: a credential is described by its kind and what it is scoped to,
 * never by its value.
 */
import { z } from "zod";

export const CHECK_OUTPUT_VERSION = 1;

const IssueSchema = z
  .strictObject({
    file: z.string().nullable().describe("The file the error is in, or null when no file is involved."),
    line: z.number().int().min(1).nullable().describe("1-based line, or null."),
    column: z.number().int().min(1).nullable().describe("1-based column, or null."),
    path: z.string().describe("Dotted path inside the document (services.gh.rules[2].action), or empty."),
    message: z.string().describe("What was wrong and how to fix it."),
  })
  .describe("One problem in a config file or in the input.");

export const CheckOutputSchema = z
  .strictObject({
    version: z.literal(CHECK_OUTPUT_VERSION).describe("Version of this output format."),
    action: z
      .enum(["allow", "deny", "review"])
      .describe(
        "allow: runs with the credential below; review: needs a human; deny: blocked. An error is always deny.",
      ),
    service: z.string().nullable().describe("The policy service that covers the command, or null if none does."),
    layer: z
      .enum(["managed", "user", "project", "built-in"])
      .nullable()
      .describe(
        "The layer whose rule or default decided: a policy layer, built-in for downscope's own guards, null when no service covers the command or on error.",
      ),
    rule: z
      .string()
      .nullable()
      .describe("The deciding rule's name (`default_action of gh` for a service default), or null."),
    pattern: z
      .string()
      .nullable()
      .describe(
        "What the rule matches: its command path (`pr merge`), else its args_pattern regex source, else its flags or tools; null for a default.",
      ),
    slot: z.string().nullable().describe("token_slot allows: the slot name; null otherwise."),
    credential: z
      .strictObject({
        kind: z
          .enum([
            "token_slot",
            "sts_policy",
            "credential_access_boundary",
            "oauth_scope",
            "github_app",
            "token_request",
            "none",
          ])
          .describe("How the credential is made (the service's downscope_mode)."),
        scope: z
          .string()
          .describe(
            "What it is scoped to, in words: the slot and where its token comes from (a variable name or file, never the token), the session policy or boundary, or the OAuth scopes.",
          ),
      })
      .nullable()
      .describe("Allows that can be given a credential; null for deny, review, and an allow no trusted layer grants."),
    reason: z.string().describe("Why, in words, as the agent is told."),
    source: z
      .enum(["rule", "default", "guard", "none", "error"])
      .describe("rule, a service default, a built-in guard, none (not a service), or error."),
    file: z.string().nullable().describe("The policy file of the deciding layer, or null."),
    ruleIndex: z
      .number()
      .int()
      .nullable()
      .describe("0-based index of the rule in its service's rules, -1 for a default or guard, or null."),
    matched: z
      .string()
      .nullable()
      .describe("What in the rule hit this command, e.g. `command [pr merge], flag --yes`."),
    notes: z.array(z.string()).describe("Remarks: untrusted layers, missing grants."),
    error: z
      .strictObject({
        kind: z
          .enum(["config", "usage", "internal"])
          .describe("config: a policy file is bad or unreadable; usage: bad arguments; internal: a bug."),
        message: z.string().describe("The whole message, as the terminal shows it."),
        file: z.string().nullable().describe("The first issue's file, or null."),
        line: z.number().int().min(1).nullable().describe("The first issue's line, or null."),
        column: z.number().int().min(1).nullable().describe("The first issue's column, or null."),
        issues: z.array(IssueSchema).describe("Every problem found (config errors can have several)."),
      })
      .nullable()
      .describe(
        "Present (non-null) only when the check could not decide; action is then deny and the exit status non-zero.",
      ),
    github_app: z
      .union([
        z.strictObject({
          permissions: z.record(z.string(), z.string()).describe("The permissions the token would be minted with."),
          repositories: z.array(z.string()).describe("The repositories it would be restricted to."),
          from: z.string().describe("Where the repositories came from: the command, the rule, or the rule's fallback."),
        }),
        z.strictObject({ refused: z.string().describe("Why nothing would be minted.") }),
      ])
      .optional()
      .describe("github_app allows only: what this command would be minted (no network is used to say so)."),
  })
  .describe("The output of `downscope check --json`.");

export type CheckOutput = z.infer<typeof CheckOutputSchema>;

export function checkOutputJsonSchema(): unknown {
  return {
    ...z.toJSONSchema(CheckOutputSchema, { io: "output" }),
    title: "downscope check --json output",
  };
}
