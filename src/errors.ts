/**
 * Typed errors. Code throws these; only the CLI entry points (src/cli/main.ts,
 * src/exec/main.ts, the hook's top-level catch) turn them into exit codes and
 * messages. A message is written for the human: what went wrong and how to fix it.
 */

export class DownscopeError extends Error {
  /** Process exit code used by the CLI entry for this kind of error. */
  readonly exitCode: number = 1;
}

/** A position in a config file, 1-based. */
export interface SourcePos {
  file: string;
  line?: number;
  column?: number;
}

export interface ConfigIssue extends SourcePos {
  /** Dotted path inside the document, e.g. services.gh.rules[2].action */
  path: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.column ?? 1}` : i.file;
  return i.path ? `${where}: ${i.path}: ${i.message}` : `${where}: ${i.message}`;
}

/** Bad or unreadable configuration. Never carries a stack trace to the user. */
export class ConfigError extends DownscopeError {
  override readonly exitCode = 78; // EX_CONFIG
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}

export class UsageError extends DownscopeError {
  override readonly exitCode = 64; // EX_USAGE
}

/** The policy said no (deny, or review without an approval). */
export class PolicyDenied extends DownscopeError {
  override readonly exitCode = 77; // EX_NOPERM
}

/** The scoped credential could not be obtained; never falls back to ambient. */
export class CredentialUnavailable extends DownscopeError {
  override readonly exitCode = 77;
}

/**
 * A change only a person may make (trust, install, uninstall, init) was not
 * confirmed at the terminal: there was none, or the answer was not `yes`.
 * Nothing was changed.
 */
export class NotConfirmed extends DownscopeError {
  override readonly exitCode = 77;
}

/** A server or program downscope had to start could not be reached (an MCP server that would not list its tools). */
export class UpstreamUnavailable extends DownscopeError {
  override readonly exitCode = 69; // EX_UNAVAILABLE
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
