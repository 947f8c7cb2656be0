/**
 * The policy file format. This schema is the source of truth: the TypeScript
 * types, the JSON Schema shipped for editors (`downscope schema`) and the
 * reference in docs/config.md all come from it.
 *
 * Compatibility: the original `version: 1` format (token_slot / sts_policy /
 * credential_access_boundary services with `args_pattern` and `tools`
 * matchers) validates unchanged. Everything else is additive.
 */
import { z } from "zod";
import { neverPassed } from "../protection/unsafe-env.js";

export const ACTIONS = ["allow", "deny", "review"] as const;
export const ActionSchema = z
  .enum(ACTIONS)
  .describe("allow runs with the rule's scoped credential; review needs a human; deny blocks.");
export type Action = z.infer<typeof ActionSchema>;

export const MODES = [
  "token_slot",
  "sts_policy",
  "credential_access_boundary",
  "oauth_scope",
  "github_app",
  "token_request",
  "none",
] as const;
export const ModeSchema = z
  .enum(MODES)
  .describe(
    "How the scoped credential is made: token_slot (a pre-provisioned token), sts_policy (AWS STS session policy), credential_access_boundary (GCP downscoped token), oauth_scope (GCP impersonation with narrower scopes), github_app (a GitHub App installation token minted per command with the rule's permissions and repositories), token_request (a Kubernetes service account token minted per command with the TokenRequest API), none (rules only, no credential is handed out).",
  );
export type Mode = z.infer<typeof ModeSchema>;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name like GH_TOKEN");

/** Where a slot's token comes from. Exactly one source. */
export const KeyringEntrySchema = z
  .strictObject({
    service: z.string().min(1).describe("The keyring entry's service name."),
    account: z.string().min(1).describe("The keyring entry's account name."),
  })
  .describe(
    "The system keyring: `secret-tool lookup service S account A` on Linux, `security find-generic-password -s S -a A -w` on macOS.",
  );

export type KeyringEntry = z.infer<typeof KeyringEntrySchema>;

export const TokenSlotSchema = z
  .strictObject({
    env_var: envName
      .optional()
      .describe(
        "Read the token from this variable of downscope's own environment. Refused in contained mode (the agent's environment holds it); use file (`downscope slot set`) or keyring.",
      ),
    file: z.string().min(1).optional().describe("Read the token from this file (`~` expanded)."),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Run this argv (no shell) and use its trimmed stdout, e.g. [op, read, 'op://vault/gh/token']."),
    keyring: KeyringEntrySchema.optional(),
    inject_as: envName.optional().describe("Environment variable the child reads the token from (default per CLI)."),
    inject_file_env: envName
      .optional()
      .describe(
        "Write the token to a private temporary file and set this variable to its path (for CLIs that read a token file).",
      ),
    host: z.string().optional().describe("The host this token is for (gh: github.com or an Enterprise host)."),
    description: z.string().optional(),
  })
  .refine(
    (s) => [s.env_var, s.file, s.command, s.keyring].filter((v) => v !== undefined).length === 1,
    "a token slot needs exactly one source: env_var, file, command or keyring",
  );
export type TokenSlot = z.infer<typeof TokenSlotSchema>;

/**
 * Where a long-lived secret read only by downscope comes from (the GitHub App's
 * private key). Never an environment variable: that lives in the agent's
 * environment, which the agent can read and set.
 */
export const KeySourceSchema = z
  .strictObject({
    file: z.string().min(1).optional().describe("Read the PEM key from this file (`~` expanded)."),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("Run this argv (no shell) and use its stdout, e.g. [op, read, 'op://vault/app/private-key']."),
    keyring: KeyringEntrySchema.optional(),
    env_var: z
      .unknown()
      .optional()
      .describe("Not accepted: an environment variable lives in the agent's environment, which the agent can read."),
  })
  .superRefine((s, ctx) => {
    if (s.env_var !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["env_var"],
        message:
          "private_key cannot come from an environment variable: it would live in the agent's environment, where the agent can read it; use file, command or keyring",
      });
      return;
    }
    if ([s.file, s.command, s.keyring].filter((v) => v !== undefined).length !== 1)
      ctx.addIssue({ code: "custom", message: "private_key needs exactly one source: file, command or keyring" });
  })
  .describe("A secret source read by downscope only: file, command or keyring (never an environment variable).");
export type KeySource = z.infer<typeof KeySourceSchema>;

/** Loopback hosts: the only ones plain http may be used with (local fakes in tests). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

export const ApiUrlSchema = z
  .string()
  .superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: "custom", message: "expected a URL like https://github.example.com/api/v3" });
      return;
    }
    if (u.protocol === "https:") return;
    if (u.protocol === "http:" && isLoopbackHost(u.hostname)) return;
    ctx.addIssue({
      code: "custom",
      message:
        u.protocol === "http:"
          ? "api_url must use https: plain http would send the app's signed JWT and the minted token in the clear (http is accepted only for a loopback address such as 127.0.0.1, for local tests)"
          : "api_url must be an https:// URL",
    });
  })
  .describe(
    "github_app: the REST API base URL (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3). https only; plain http only for a loopback address.",
  );

/** A GitHub App permission level; lint checks each permission's allowed levels. */
export const PermissionLevelSchema = z.enum(["read", "write", "admin"]);
export const GithubPermissionsSchema = z
  .record(
    z.string().regex(/^[a-z_]+$/, "GitHub permission names are lower_snake_case, e.g. pull_requests"),
    PermissionLevelSchema,
  )
  .describe(
    "github_app: the installation token's permissions, e.g. { contents: read, pull_requests: write } (names and levels as GitHub defines them; `lint` checks them).",
  );

const repoName = z
  .string()
  .regex(
    /^[A-Za-z0-9_.-]+$/,
    "a repository name without its owner, e.g. app (the installation's account is the owner)",
  );
export const RepositoriesSchema = z
  .union([z.literal("from_command"), z.array(repoName).min(1)])
  .describe(
    "github_app: the repositories the token is limited to: a list of names, or from_command (the command's --repo/-R value, else the origin remote of the working directory).",
  );

const serviceAccount = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/,
    "expected namespace/name of a Kubernetes service account, e.g. team-a/ci-reader",
  );
const expirationSeconds = z
  .number()
  .int()
  .min(600, "the TokenRequest API's minimum is 600 seconds")
  .max(86400, "at most 86400 seconds (one day): a minted token should not outlive the work it was minted for");

/** IAM policy document (validated loosely here; `lint` checks it further). */
export const IamPolicySchema = z
  .looseObject({
    Version: z.string().optional(),
    Statement: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]),
  })
  .describe("An IAM policy document used as an STS session policy.");
export type IamPolicy = z.infer<typeof IamPolicySchema>;

export const AccessBoundaryRuleSchema = z
  .strictObject({
    available_resource: z
      .string()
      .min(1)
      .describe("Full resource name, e.g. //storage.googleapis.com/projects/_/buckets/logs"),
    available_permissions: z
      .array(z.string().regex(/^inRole:/, "permissions are written inRole:roles/..."))
      .min(1)
      .describe("Roles the token may use on that resource, written inRole:roles/storage.objectViewer"),
    availability_condition: z
      .strictObject({
        expression: z.string().min(1).describe("CEL expression, e.g. on resource.name"),
        title: z.string().optional(),
        description: z.string().optional(),
      })
      .optional(),
  })
  .describe("One Credential Access Boundary rule (Cloud Storage only).");
export type AccessBoundaryRule = z.infer<typeof AccessBoundaryRuleSchema>;

const AccessBoundarySchema = z
  .array(AccessBoundaryRuleSchema)
  .min(1)
  .max(10, "Google accepts at most 10 access boundary rules per token")
  .describe("Credential Access Boundary rules (1 to 10).");

export const MatchSchema = z
  .strictObject({
    args_pattern: z
      .string()
      .optional()
      .describe(
        "Regular expression searched in the arguments after the binary, joined with single spaces, and in the same string with the flags (and the values the matcher gives them) removed: a deny or review rule matches if either does, an allow rule only if both do. Prefer `command`; `downscope lint` suggests the equivalent.",
      ),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "Subcommand path after global flags, e.g. [pr, merge]. Matches `gh --repo o/r pr merge` and `gh pr  merge`. `*` matches any one word, `a|b` either word, `delete-*` any word starting with `delete-`.",
      ),
    flags: z
      .array(z.string().regex(/^-/, "flags start with -"))
      .min(1)
      .optional()
      .describe("The rule matches only if one of these flags is present (`--force`, `-f`, `--method=DELETE`)."),
    tools: z.array(z.string().min(1)).min(1).optional().describe("MCP tool names (MCP services)."),
    arguments: z
      .record(z.string(), z.string())
      .optional()
      .describe("MCP: regular expression per top-level tool argument; all must match."),
    allowed_paths: z
      .array(z.string())
      .optional()
      .describe("MCP: the rule matches only if a path argument lies outside all of these."),
    denied_paths: z
      .array(z.string())
      .optional()
      .describe("MCP: the rule matches if a path argument lies inside one of these."),
  })
  .describe("All given conditions must hold. An empty match matches everything.");
export type Match = z.infer<typeof MatchSchema>;

export const RuleSchema = z
  .strictObject({
    name: z.string().min(1).describe("Shown in every decision and block message."),
    match: MatchSchema.default({}),
    action: ActionSchema.default("allow"),
    reason: z.string().optional().describe("Why, shown to the agent when it is blocked."),
    slot: z.string().optional().describe("token_slot: the slot this rule's commands run with (allow only)."),
    policy: IamPolicySchema.optional().describe("sts_policy: session policy for this rule."),
    policy_file: z
      .string()
      .optional()
      .describe("sts_policy: JSON file with the session policy, relative to the config file or policies/."),
    policy_arns: z.array(z.string().startsWith("arn:")).optional().describe("sts_policy: managed policy ARNs."),
    access_boundary: AccessBoundarySchema.optional().describe("credential_access_boundary: boundary for this rule."),
    scopes: z.array(z.string().min(1)).optional().describe("oauth_scope: OAuth scopes for this rule."),
    permissions: GithubPermissionsSchema.optional(),
    repositories: RepositoriesSchema.optional(),
    fallback_repositories: z
      .array(repoName)
      .min(1)
      .optional()
      .describe(
        "github_app with repositories: from_command: the repositories a command gets when its repository cannot be known (without it, such a command is denied).",
      ),
    service_account: serviceAccount
      .optional()
      .describe("token_request: the service account (namespace/name) whose token this rule's commands run with."),
    expiration_seconds: expirationSeconds
      .optional()
      .describe("token_request: the minted token's lifetime (600 to 86400)."),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe("token_request: the token's audiences (default: the API server's)."),
    examples: z
      .array(z.string())
      .optional()
      .describe("Argument strings (or MCP tool names) that this rule must decide. `lint` checks them."),
    override_guards: z
      .boolean()
      .optional()
      .describe(
        "allow rules only: also allow what a built-in guard denies (a credential-printing subcommand, a credential or endpoint flag). Honoured only from a trusted layer. Without it, a broad allow rule never re-opens a guarded command.",
      ),
  })
  .refine((r) => r.slot === undefined || r.action === "allow", {
    message: "`slot` only applies to allow rules: a deny or review rule hands out no credential",
    path: ["slot"],
  })
  .refine((r) => r.override_guards !== true || r.action === "allow", {
    message: "`override_guards` only applies to allow rules",
    path: ["override_guards"],
  })
  .refine((r) => r.policy === undefined || r.policy_file === undefined, {
    message: "give either `policy` or `policy_file`, not both",
    path: ["policy_file"],
  })
  .refine((r) => r.fallback_repositories === undefined || r.repositories === "from_command", {
    message: "`fallback_repositories` only applies with `repositories: from_command`",
    path: ["fallback_repositories"],
  });
export type Rule = z.infer<typeof RuleSchema>;

export const ServiceSchema = z
  .strictObject({
    downscope_mode: ModeSchema.default("token_slot"),
    binary: z
      .string()
      .regex(/^[^/\s]+$/, "a binary name without a directory; use binary_path for an absolute path")
      .optional()
      .describe("The command name this service covers (default: the service's key)."),
    binary_path: z
      .string()
      .startsWith("/", "binary_path must be absolute")
      .optional()
      .describe("Absolute path of the real binary. Only honoured from a trusted layer."),
    server: z.string().optional().describe("MCP server name this service applies to."),
    token_slots: z.record(z.string(), TokenSlotSchema).optional(),
    default_slot: z.string().optional(),
    default_action: ActionSchema.default("allow").describe("Decision when no rule matches."),
    inject_as: envName.optional().describe("Custom services: variable the token is injected as."),
    inject_file_env: envName.optional().describe("Custom services: variable naming a private token file."),
    strip_env: z
      .array(envName)
      .optional()
      .describe("Extra ambient credential variables to remove from the child's environment."),
    pass_env: z
      .array(
        envName.refine((name) => !neverPassed(name), {
          error: (i) =>
            `${String(i.input)} can make the CLI print or send its credential, or load code into it; downscope never passes it. Remove it from pass_env`,
        }),
      )
      .optional()
      .describe(
        "Variables downscope-exec would strip that the child may keep anyway: a private CA (SSL_CERT_FILE, SSL_CERT_DIR, REQUESTS_CA_BUNDLE, AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS), a proxy (HTTPS_PROXY, NO_PROXY, …), or in contained mode any variable of the agent's environment. Never one that loads code or prints the credential (GH_DEBUG, LD_PRELOAD, GIT_*, …). Trusted layers only.",
      ),
    value_flags: z
      .array(z.string().regex(/^-/))
      .optional()
      .describe("Flags that take a value, so the structured matcher can skip it (added to the built-in list)."),
    on_missing_credential: z
      .enum(["deny", "passthrough"])
      .default("deny")
      .describe("passthrough runs with the ambient credential when none can be obtained. Trusted layers only."),
    allowed_hosts: z
      .array(z.string())
      .optional()
      .describe("Endpoint hosts the scoped credential may be sent to (aws --endpoint-url, kubectl --server, ...)."),
    // AWS
    inline_policy: IamPolicySchema.optional(),
    policy_file: z.string().optional(),
    policy_arns: z.array(z.string().startsWith("arn:")).optional(),
    role_arn: z
      .string()
      .startsWith("arn:")
      .optional()
      .describe("sts_policy: AssumeRole this role; without it GetFederationToken."),
    source_profile: z.string().optional().describe("sts_policy: AWS profile the source credentials come from."),
    duration_seconds: z.number().int().min(900).max(43200).optional(),
    region: z.string().optional(),
    // GCP
    access_boundary: AccessBoundarySchema.optional(),
    scopes: z.array(z.string()).optional(),
    target_service_account: z.string().optional().describe("oauth_scope: the service account to impersonate."),
    key_file: z.string().optional().describe("GCP: source credential file instead of Application Default Credentials."),
    // GitHub App
    app_id: z
      .union([
        z.number().int().positive(),
        z.string().regex(/^(\d+|Iv[0-9A-Za-z.]+)$/, "expected the app's numeric ID or its client ID (Iv…)"),
      ])
      .optional()
      .describe("github_app: the GitHub App's ID (or client ID), the JWT's issuer."),
    installation_id: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("github_app: the installation of the app on your account or organization."),
    private_key: KeySourceSchema.optional().describe(
      "github_app: the app's private key (PEM), read by downscope only: file, command or keyring.",
    ),
    api_url: ApiUrlSchema.optional(),
    owner: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .optional()
      .describe(
        "github_app: the installation's account; a command naming a repository of another owner is denied instead of minted for.",
      ),
    permissions: GithubPermissionsSchema.optional().describe(
      "github_app: permissions for commands whose rule names none (and approved reviews).",
    ),
    repositories: RepositoriesSchema.optional().describe(
      "github_app: repositories for commands whose rule names none (and approved reviews).",
    ),
    fallback_repositories: z.array(repoName).min(1).optional(),
    // Kubernetes TokenRequest
    service_account: serviceAccount.optional().describe("token_request: the default service account (namespace/name)."),
    expiration_seconds: expirationSeconds.optional().describe("token_request: default lifetime (default 600)."),
    audiences: z.array(z.string().min(1)).min(1).optional(),
    // MCP
    hide_denied_tools: z.boolean().optional(),
    rules: z.array(RuleSchema).default([]).describe("Evaluated top to bottom; the first match wins."),
  })
  .superRefine((s, ctx) => {
    const slots = Object.keys(s.token_slots ?? {});
    if (s.default_slot !== undefined && !slots.includes(s.default_slot)) {
      ctx.addIssue({
        code: "custom",
        path: ["default_slot"],
        message: `unknown slot "${s.default_slot}"; defined slots: ${slots.join(", ") || "(none)"}`,
      });
    }
    s.rules.forEach((r, i) => {
      if (r.slot !== undefined && !slots.includes(r.slot)) {
        ctx.addIssue({
          code: "custom",
          path: ["rules", i, "slot"],
          message: `unknown slot "${r.slot}"; defined slots: ${slots.join(", ") || "(none)"}`,
        });
      }
    });
    if (s.downscope_mode === "github_app")
      for (const k of ["app_id", "installation_id", "private_key"] as const)
        if (s[k] === undefined)
          ctx.addIssue({ code: "custom", path: [k], message: `downscope_mode github_app needs ${k}` });
    if (s.inline_policy !== undefined && s.policy_file !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["policy_file"],
        message: "give either inline_policy or policy_file, not both",
      });
    }
  });
export type Service = z.infer<typeof ServiceSchema>;

export const TestCaseSchema = z
  .strictObject({
    command: z.string().optional().describe("A shell command as the agent would run it."),
    tool: z.string().optional().describe("MCP tool name (with `server`)."),
    server: z.string().optional(),
    arguments: z.record(z.string(), z.unknown()).optional(),
    expect: ActionSchema.or(z.literal("ask")),
    slot: z.string().optional(),
    rule: z.string().optional(),
  })
  .refine((t) => (t.command === undefined) !== (t.tool === undefined), "a test names either `command` or `tool`");
export type TestCase = z.infer<typeof TestCaseSchema>;

export const SettingsSchema = z
  .strictObject({
    auto_approve: z
      .boolean()
      .optional()
      .describe(
        "Hook: answer `allow` for commands made only of allowed service calls and harmless commands (default true). Trusted layers only.",
      ),
    harmless_commands: z
      .array(z.string())
      .optional()
      .describe(
        "Hook: commands that may sit in a pipeline with an auto-approved service call (e.g. jq, head). Trusted layers only.",
      ),
    unresolved: z
      .enum(["ask", "deny"])
      .optional()
      .describe("Hook: what to do with a command whose name cannot be known statically (default ask)."),
    hook_deadline_ms: z.number().int().min(100).max(60000).optional(),
    admin_without_terminal: z
      .boolean()
      .optional()
      .describe(
        "Managed layer only (a root-owned /etc/downscope/config.yaml): let trust, install, uninstall, init and shims install run without a person confirming at a terminal, for provisioning scripts. Ignored in any other layer, since the agent could write those.",
      ),
    cache_margin_seconds: z.number().int().min(0).max(3600).optional(),
    protect_reads: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Files or directories the agent may not read, besides the built-in credential stores: the hook denies the plain reads of them by Bash and by the Read, Grep and Glob tools. `~/` is the home; a relative path is the project's. Any layer (it only restricts).",
      ),
    allow_reads: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Built-in protected credential files the agent may read after all (e.g. ~/.npmrc with no token in it). Trusted layers only.",
      ),
    contained_writable: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Contained mode: paths outside the project the file tools may write (Claude Code's own memory files are always writable). Trusted layers only.",
      ),
    record_output: z
      .enum(["none", "masked"])
      .optional()
      .describe(
        "Audit trail: besides each command's and tool call's exit status, duration, output size and sha256 (always recorded), keep the output itself, with secrets masked (`masked`), or not (`none`, the default). Read from the managed and user layers only: the project file, which the agent can edit, has no say in what is recorded.",
      ),
    record_output_max_bytes: z
      .number()
      .int()
      .min(256)
      .max(65536)
      .optional()
      .describe(
        "Audit trail, with record_output: masked: at most this many bytes of text per output stream (default 4096); the rest is cut and the record says so. Managed and user layers only.",
      ),
    audit: z
      .strictObject({
        enabled: z.boolean().optional(),
        path: z.string().optional(),
        max_bytes: z.number().int().min(4096).optional(),
        otlp_endpoint: z.string().optional(),
        syslog: z.boolean().optional(),
      })
      .optional(),
  })
  .describe("Global settings.");
export type Settings = z.infer<typeof SettingsSchema>;

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).describe("Format version; always 1."),
    settings: SettingsSchema.optional(),
    services: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), ServiceSchema).default({}),
    tests: z.array(TestCaseSchema).optional(),
  })
  .describe("downscope policy (.claude/downscoping.yaml)");
export type Config = z.infer<typeof ConfigSchema>;
