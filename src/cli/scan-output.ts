/**
 * `downscope scan --json`: a versioned output for CI and other tools. This
 * zod schema is its source of truth: the TypeScript type, and the JSON
 * Schema shipped as schema/scan-output.schema.json (`downscope schema
 * --scan-output`).
 *
 * Compatibility: `version` changes only when a field is removed or changes
 * meaning; fields may be added within a version. The output never holds a
 * secret: a plaintext secret is reported by its kind, where it is and a
 * fingerprint (sha256, 12 hex digits), never its value.
 */
import { z } from "zod";
import { CLIENT_IDS } from "../scan/clients.js";
import { FINDING_KINDS, SEVERITIES } from "../scan/findings.js";

export const SCAN_OUTPUT_VERSION = 1;

const Scope = z
  .enum(["user", "local", "project", "managed", "path"])
  .describe(
    "user: the user's own file; local: Claude Code's per-project entry in ~/.claude.json; project: a file in the project; managed: an organisation's file; path: named with --path.",
  );
const Position = {
  line: z.number().int().min(1).nullable().describe("1-based line, or null when not known."),
};

const FindingSchema = z
  .strictObject({
    kind: z
      .enum(FINDING_KINDS)
      .describe(
        "secret: a plaintext secret; unpinned: a package runner or image without an exact version; filesystem: reach to the home directory or root; unproxied: not decided by downscope's policy.",
      ),
    severity: z.enum(SEVERITIES).describe("high: secret, filesystem; medium: unpinned; low: unproxied."),
    where: z.string().describe("Where in the entry: env.NAME, args[i], headers.NAME, url, command."),
    message: z.string().describe("What was found, in words."),
    fix: z.string().describe("How to fix it."),
    secret_kind: z
      .string()
      .nullable()
      .describe("secret: the token format (GitHub token, AWS access key ID, …) or `secret-looking value`; else null."),
    fingerprint: z
      .string()
      .regex(/^sha256:[0-9a-f]{12}$/)
      .nullable()
      .describe(
        "secret: sha256 of the value, first 12 hex digits, to recognise it elsewhere; else null. Never the value.",
      ),
  })
  .describe("One flag on one server.");

export const ScanOutputSchema = z
  .strictObject({
    version: z.literal(SCAN_OUTPUT_VERSION).describe("Version of this output format."),
    project: z.string().describe("The project directory scanned for project-scope files."),
    files: z
      .array(
        z.strictObject({
          client: z.enum(CLIENT_IDS).describe("The client that reads this file (`other` for an unknown --path)."),
          scope: Scope,
          path: z.string().describe("Absolute path of the file."),
          servers: z.number().int().min(0).describe("How many server entries it holds."),
          error: z
            .strictObject({
              ...Position,
              column: z.number().int().min(1).nullable().describe("1-based column, or null."),
              message: z.string().describe("Why the file could not be read."),
            })
            .nullable()
            .describe("Present (non-null) when the file exists but could not be read or parsed."),
        }),
      )
      .describe("Every config file found (or named with --path)."),
    servers: z
      .array(
        z.strictObject({
          client: z.enum(CLIENT_IDS),
          scope: Scope,
          file: z.string().describe("The file the entry is in."),
          name: z.string().describe("The server's name in the file."),
          location: z.string().describe('Where in the file: mcpServers.NAME, projects["DIR"].mcpServers.NAME, …'),
          ...Position,
          project: z.string().nullable().describe("Claude Code local scope: the project the entry belongs to."),
          transport: z.enum(["stdio", "remote"]).describe("stdio: a command the client starts; remote: a URL."),
          proxied: z.boolean().describe("Whether it runs through `downscope mcp-proxy`."),
          findings: z.array(FindingSchema).describe("Its flags; empty when nothing was found."),
        }),
      )
      .describe("Every server entry found."),
    counts: z
      .strictObject({
        high: z.number().int().min(0),
        medium: z.number().int().min(0),
        low: z.number().int().min(0),
      })
      .describe("Findings per severity."),
  })
  .describe("The output of `downscope scan --json`.");

export type ScanOutput = z.infer<typeof ScanOutputSchema>;

export function scanOutputJsonSchema(): unknown {
  return { ...z.toJSONSchema(ScanOutputSchema, { io: "output" }), title: "downscope scan --json output" };
}
