/**
 * Environment variables that hold or locate a credential. Three uses, one
 * list (docs/security-model.md, "Secret variables"):
 *   - contained mode keeps every one of them out of each sandboxed process
 *     (Claude Code's `sandbox.credentials.envVars`: bubblewrap unsets them, so
 *     they are in no /proc/<pid>/environ), and the hook denies Bash while one
 *     is present that was not kept out in advance;
 *   - in default mode the hook denies the plain ways of printing them
 *     (`echo $GITHUB_TOKEN`, `printenv GH_TOKEN`, a bare `env`);
 *   - `doctor` lists them.
 *
 * Detection is by name and by value. Names: the well-known credential
 * variables below, and the shapes `*_TOKEN`, `*SECRET*`, `*_KEY`, `*PASSWORD*`
 * and their kin. Values: the prefixes of well-known token formats (GitHub,
 * AWS access key IDs, Google OAuth, Slack, Anthropic, OpenAI, GitLab, npm),
 * and any value downscope itself knows to be a secret (a slot's token), which
 * the caller passes in. No entropy guessing: hashes and IDs are not secrets.
 */

/** Well-known ambient tokens of the CLIs downscope covers. */
export const KNOWN_TOKEN_VARS = [
  "GH_TOKEN",
  "GITHUB_TOKEN",
  "GH_ENTERPRISE_TOKEN",
  "GITHUB_ENTERPRISE_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE",
  "GOOGLE_OAUTH_ACCESS_TOKEN",
] as const;

/** Variables that carry or locate credentials, whatever their shape: removed from every sandboxed command. */
export const CREDENTIAL_ENV = [
  ...KNOWN_TOKEN_VARS,
  ...["GITLAB_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"],
  ...["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"],
  ...["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "CLOUDSDK_AUTH_ACCESS_TOKEN", "KUBECONFIG"],
  ...["NPM_TOKEN", "DOCKER_AUTH_CONFIG", "AZURE_CLIENT_SECRET"],
  // Claude Code's own credentials (its model API; 2.1.328 gives its hooks a messaging token): sandboxed
  // commands never need them.
  ...["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CODE_MESSAGING_TOKEN"],
] as const;

const KNOWN = new Set<string>(CREDENTIAL_ENV);

/**
 * Secret-looking names, case-insensitive, by the name's `_`-separated parts:
 * a part TOKEN, TOKENS, PAT, CREDENTIAL or CREDENTIALS; SECRET, PASSWORD,
 * PASSWD or PASSPHRASE anywhere; a last part KEY or APIKEY, or last parts
 * KEY_ID (so API_KEY, PRIVATE_KEY, ACCESS_KEY); AUTH_TOKEN at a part's start.
 * `KEYMAP`, `SSH_AUTH_SOCK` and `GPG_TTY` are not secrets. String tests, not
 * one regular expression: compiling that cost the hook 0.3 ms on every call
 * (test/protection/secret-env.test.ts holds the expression as the oracle).
 */
export function isSecretName(name: string): boolean {
  const up = name.toUpperCase();
  if (up.includes("SECRET") || up.includes("PASSWORD") || up.includes("PASSWD") || up.includes("PASSPHRASE"))
    return true;
  const parts = up.split("_");
  const last = parts[parts.length - 1];
  if (last === "KEY" || last === "APIKEY" || (last === "ID" && parts[parts.length - 2] === "KEY")) return true;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === "TOKEN" || p === "TOKENS" || p === "PAT" || p === "CREDENTIAL" || p === "CREDENTIALS") return true;
    if (p === "AUTH" && i + 1 < parts.length && parts[i + 1]!.startsWith("TOKEN")) return true;
  }
  return false;
}

/** Names that match the shapes above but hold no secret (paths, switches, identifiers of the agent's own session). */
const NOT_SECRET = new Set(["TOKENIZERS_PARALLELISM", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KEYTIMEOUT"]);

/** Prefixes of well-known token formats (gitleaks' rule set names the same ones). */
const VALUE =
  /^(ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|xox[abposr]-|sk-ant-|sk-proj-|npm_[A-Za-z0-9]{30}|ya29\.|AKIA[0-9A-Z]{16}$|ASIA[0-9A-Z]{16}$|-----BEGIN [A-Z ]*PRIVATE KEY)/;
/** The first characters VALUE can match: most values are tested without compiling it. */
const VALUE_FIRST = new Set(["g", "x", "s", "n", "y", "A", "-"]);

/** Does this variable hold (or name the file of) a credential? */
export function isSecretVar(name: string, value: string | undefined, known?: ReadonlySet<string>): boolean {
  if (value === undefined || value === "") return false;
  if (KNOWN.has(name)) return true;
  if (known !== undefined && known.has(value.trim())) return true;
  if (VALUE_FIRST.has(value[0]!) && VALUE.test(value)) return true;
  return !NOT_SECRET.has(name) && isSecretName(name);
}

/**
 * Claude Code's own session variables (`CLAUDE_CODE_*`): set by Claude Code
 * for its hooks, which start after the sandbox settings were written, so a new
 * one cannot have been kept out in advance. Whether a command sees one is
 * Claude Code's choice; the known secret ones are kept out
 * (CREDENTIAL_ENV), and the hook does not block a session for a new one.
 */
export const isAgentSessionVar = (name: string): boolean => name.startsWith("CLAUDE_CODE_");

/** The names of every variable in env that holds a credential, sorted. */
export function secretVars(env: Readonly<Record<string, string | undefined>>, known?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) if (isSecretVar(k, v, known)) out.push(k);
  return out.sort();
}
