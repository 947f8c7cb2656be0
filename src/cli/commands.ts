/**
 * The command table. Each command lives in its own module and is imported
 * only when it runs, so `downscope hook` never loads the AWS SDK.
 */
import type { Command } from "../io.js";

export interface CommandEntry {
  summary: string;
  usage: string;
  load: () => Promise<Command>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  check: {
    summary: "show the decision for a command without running it",
    usage: "downscope check [--json] -- <binary> [args...]",
    load: async () => (await import("./check.js")).check,
  },
  lint: {
    summary: "validate a policy: schema, regexes, slots, examples, shadowed rules",
    usage: "downscope lint [file...]",
    load: async () => (await import("./lint.js")).lint,
  },
  trust: {
    summary: "trust the project policy so it may grant credentials (pins its sha256)",
    usage: "downscope trust [file]",
    load: async () => (await import("./trust.js")).trust,
  },
  untrust: {
    summary: "withdraw trust from a project policy",
    usage: "downscope untrust [file]",
    load: async () => (await import("./trust.js")).untrust,
  },
  suggest: {
    summary: "propose a policy from the audit trail: command rules for what was used, AWS actions, tests",
    usage:
      "downscope suggest [--since 7d] [--service NAME] [--out FILE] [--diff]\n" +
      "  prints the suggested policy (YAML); --diff prints how it differs from the current one;\n" +
      "  --out FILE writes it (never into downscope's own directories or an agent's settings)\n" +
      "  DOWNSCOPE_AWS_MODELS  botocore's data directory, if the installed aws CLI's is not found",
    load: async () => (await import("./suggest.js")).suggest,
  },
  report: {
    summary: "what each call returned next to its decision; --html: the audit trail as one self-contained page",
    usage:
      "downscope report [--since 7d] [--html FILE]\n" +
      "  without --html: what each call returned (exit, duration, output size and sha256, what was masked),\n" +
      "  next to the decision that allowed it; --html FILE: the whole trail as one self-contained page",
    load: async () => (await import("./report.js")).report,
  },
  schema: {
    summary: "print the JSON Schema of the policy file (or of `check --json` or `scan --json` output)",
    usage: "downscope schema [--check-output | --scan-output]",
    load: async () => (await import("./schema.js")).schema,
  },
  install: {
    summary:
      "install downscope into an agent (claude, codex, pi, gemini, opencode, copilot, cursor), aws or an MCP client",
    usage: "downscope install <claude|codex|pi|gemini|opencode|copilot|cursor|aws|mcp> [options]",
    load: async () => (await import("./install.js")).install,
  },
  uninstall: {
    summary: "remove exactly what install added",
    usage: "downscope uninstall <claude|codex|pi|gemini|opencode|copilot|cursor|aws|mcp> [options]",
    load: async () => (await import("./install.js")).uninstall,
  },
  hook: {
    summary:
      "PreToolUse hook (Claude Code; --agent cursor|gemini|codex|opencode|copilot|pi): payload on stdin, decision JSON on stdout",
    usage:
      "downscope hook [--agent cursor|gemini|codex|opencode|copilot|pi]  (DOWNSCOPE_HOOK_DEADLINE_MS overrides settings.hook_deadline_ms)\n" +
      "  Claude Code by default (always exit 0); see docs/agents.md for each agent's answers and exit codes",
    // If the hook module itself cannot load, still answer deny (a crash would let the command run).
    load: () =>
      import("./hook.js").then(
        (m) => m.hook,
        (e: unknown) => async (_argv: string[], io: { stdout: (t: string) => void }) => {
          const reason = `downscope: the hook cannot start (${e instanceof Error ? e.message : String(e)}); reinstall downscope or run \`downscope hook\` by hand to see why`;
          io.stdout(
            `${JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } })}\n`,
          );
          return 0;
        },
      ),
  },
  "mcp-proxy": {
    summary: "run an MCP stdio server behind the policy: per-tool rules, per-slot credentials",
    usage:
      "downscope mcp-proxy --server NAME -- <command> [args...]\n" +
      "  --server NAME   the policy service whose `server:` is NAME (env DOWNSCOPE_MCP_SERVER)\n" +
      "  DOWNSCOPE_MCP_MAX_BYTES  largest message either way (default 16 MiB); DOWNSCOPE_DEBUG=1 routing on stderr\n" +
      "  set it up with `downscope install mcp --server NAME`; see docs/mcp.md",
    load: async () => (await import("./mcp-proxy.js")).mcpProxy,
  },
  mcp: {
    summary: "pin each proxied MCP server's tools (name, description, schema) in .claude/downscope-mcp.lock",
    usage:
      "downscope mcp lock [--check] [--server NAME]... [--path FILE]... [-- <command> [args...]] | downscope mcp unlock",
    load: async () => (await import("./mcp-lock.js")).mcp,
  },
  scan: {
    summary:
      "find every MCP client config and flag plaintext secrets, unpinned packages, home or root reach, unproxied servers",
    usage: "downscope scan [--path FILE]... [--json] [--fail-on high|medium|low|none]",
    load: async () => (await import("./scan.js")).scan,
  },
  "credential-process": {
    summary: "print a downscoped AWS credential as credential_process JSON (for ~/.aws/config)",
    usage:
      "downscope credential-process [--service NAME] [--rule NAME | --for-argv ARGS...] [--source-profile P] [--policy NAME|FILE] [--role-arn ARN] [--duration SECONDS]",
    load: async () => (await import("./credential-process.js")).credentialProcess,
  },
  slot: {
    summary: "store a slot's token, pasted at the terminal, where the agent cannot read it",
    usage: "downscope slot set NAME",
    load: async () => (await import("./slot.js")).slot,
  },
  cache: {
    summary: "manage cached scoped credentials (clear)",
    usage: "downscope cache clear",
    load: async () => (await import("./cache.js")).cache,
  },
  shims: {
    summary: "write the PATH shims (gh, aws, gcloud, kubectl, custom) and pin the real binaries",
    usage: "downscope shims install [--dir D] [--repin]",
    load: async () => (await import("./shims.js")).shims,
  },
  env: {
    summary: 'print the export PATH line that puts the shims first (eval "$(downscope env)")',
    usage: "downscope env [--dir D]",
    load: async () => (await import("./env.js")).env,
  },
  serve: {
    summary: "the resident decision service behind Claude Code's http hooks (install claude --serve sets it up)",
    usage:
      "downscope serve [--status | --ensure | --stop | --restart]  (log: ~/.local/state/downscope/serve/serve.log)",
    load: async () => (await import("./serve.js")).serve,
  },
  "post-tool-use": {
    summary:
      "PostToolUse hook (Claude Code; --agent gemini|cursor): mask secrets in a tool's output, record what it returned",
    usage: "downscope post-tool-use [--agent gemini|cursor] < hook.json  (always exit 0; see docs/masking.md)",
    load: async () => (await import("./post-tool-use.js")).postToolUse,
  },
  "session-start": {
    summary: "Claude Code SessionStart hook: put the shims first on PATH via CLAUDE_ENV_FILE",
    usage: "downscope session-start < hook.json",
    load: async () => (await import("./session-start.js")).sessionStart,
  },
  demo: {
    summary: "a tour: decisions for a list of commands on the bundled developer policy",
    usage: "downscope demo",
    load: async () => (await import("./demo.js")).demo,
  },
  audit: {
    summary: "show the audit trail (decisions, credentials issued), or verify its chain",
    usage: "downscope audit [--since 1h] [--session ID] [--action deny] [--json | --summary] | downscope audit verify",
    load: async () => (await import("./audit.js")).audit,
  },
  test: {
    summary: "run the policy's tests: cases, or the built-in attack pack with --attacks",
    usage: "downscope test [--file F] [--policy P] [--attacks] [--json]",
    load: async () => (await import("./test.js")).test,
  },
  init: {
    summary: "write and trust a starter .claude/downscoping.yaml",
    usage:
      "downscope init [--template readonly|developer|developer-github-app|strict] [--services gh,aws,...] [--ci github] [--force]",
    load: async () => (await import("./init.js")).init,
  },
  doctor: {
    summary: "check the installation: hook, shims, binaries, credential sources, trust, lint",
    usage: "downscope doctor [--json]",
    load: async () => (await import("./doctor.js")).doctor,
  },
};
