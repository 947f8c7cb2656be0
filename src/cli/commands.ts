/**
 * The command table. Each command lives in its own module and is imported
 * only when it runs, so `downscope hook` never loads the AWS SDK.
 */
import type { Command } from "./io.js";

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
  schema: {
    summary: "print the JSON Schema of the policy file",
    usage: "downscope schema",
    load: async () => (await import("./schema.js")).schema,
  },
  install: {
    summary: "install downscope into a client (claude, aws, mcp)",
    usage: "downscope install <claude|aws|mcp> [options]",
    load: async () => (await import("./install.js")).install,
  },
  uninstall: {
    summary: "remove exactly what install added",
    usage: "downscope uninstall <claude|aws|mcp> [options]",
    load: async () => (await import("./install.js")).uninstall,
  },
  hook: {
    summary: "Claude Code PreToolUse hook: payload on stdin, decision JSON on stdout (always exit 0)",
    usage: "downscope hook  (DOWNSCOPE_HOOK_DEADLINE_MS overrides settings.hook_deadline_ms)",
    load: async () => (await import("./hook.js")).hook,
  },
  demo: {
    summary: "a tour: decisions for a list of commands on the bundled developer policy",
    usage: "downscope demo",
    load: async () => (await import("./demo.js")).demo,
  },
  audit: {
    summary: "show the audit trail (decisions, credentials issued), or verify its chain",
    usage: "downscope audit [--since 1h] [--session ID] [--action deny] [--json] | downscope audit verify",
    load: async () => (await import("./audit.js")).audit,
  },
  test: {
    summary: "run the policy's tests: cases, or the built-in attack pack with --attacks",
    usage: "downscope test [--file F] [--policy P] [--attacks] [--json]",
    load: async () => (await import("./test.js")).test,
  },
  init: {
    summary: "write and trust a starter .claude/downscoping.yaml",
    usage: "downscope init [--template readonly|developer|strict] [--services gh,aws,...] [--ci github] [--force]",
    load: async () => (await import("./init.js")).init,
  },
  doctor: {
    summary: "check the installation: hook, shims, binaries, credential sources, trust, lint",
    usage: "downscope doctor [--json]",
    load: async () => (await import("./doctor.js")).doctor,
  },
};
