/**
 * The confined CLI's environment (contained mode): an allowlist on top of
 * exec's strip-then-set (src/exec/env.ts withoutUnsafe, which already removed
 * what loads code or redirects the credential in every mode). Kept: what the
 * channel set (the credential, the private config it wrote), the locale and
 * terminal, each service's harmless settings (region, output format, the
 * endpoints the channel checked against allowed_hosts), and what the trusted
 * policy passes with `pass_env`. Anything else the agent's environment holds —
 * a token under a name downscope does not know, a variable a future CLI
 * release starts honouring — does not reach a process that runs outside the
 * sandbox with a credential.
 */

/** Every confined CLI may keep these from the agent's environment. */
const COMMON = new Set(["PATH", "LANG", "LANGUAGE", "TERM", "COLORTERM", "COLUMNS", "LINES", "TZ"]);
const COMMON_PREFIXES = ["LC_"];
const DISPLAY = new Set(["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "USER", "LOGNAME"]);

/** Per service binary: settings that select nothing a credential depends on. */
const SERVICE: Record<string, { names: string[]; prefixes: string[] }> = {
  gh: {
    names: ["GH_REPO", "GH_NO_UPDATE_NOTIFIER", "GH_PROMPT_DISABLED", "GH_SPINNER_DISABLED", "GH_FORCE_TTY"],
    prefixes: ["GH_MDWIDTH", "GLAMOUR_STYLE"],
  },
  aws: {
    names: ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_DEFAULT_OUTPUT", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"],
    // The endpoint variables survive the aws channel only for hosts in allowed_hosts (src/exec/channels/aws.ts).
    prefixes: ["AWS_ENDPOINT_URL", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK"],
  },
  gcloud: {
    names: ["CLOUDSDK_CORE_PROJECT", "CLOUDSDK_CORE_DISABLE_PROMPTS", "CLOUDSDK_COMPUTE_REGION"],
    // Endpoint overrides survive the gcloud channel only for allowed hosts (src/exec/channels/gcloud.ts).
    prefixes: ["CLOUDSDK_COMPUTE_ZONE", "CLOUDSDK_API_ENDPOINT_OVERRIDES_"],
  },
  kubectl: { names: [], prefixes: [] },
};

/**
 * The allowlisted environment. `set` names what the channel set itself (kept
 * whatever it is called); `passEnv` comes from a trusted layer.
 */
export function confinedEnv(
  binary: string,
  env: Readonly<Record<string, string>>,
  set: ReadonlySet<string>,
  passEnv: readonly string[],
): { env: Record<string, string>; dropped: string[] } {
  const svc = SERVICE[binary] ?? { names: [], prefixes: [] };
  const pass = new Set(passEnv);
  const keep = (k: string) =>
    set.has(k) ||
    pass.has(k) ||
    COMMON.has(k) ||
    DISPLAY.has(k) ||
    COMMON_PREFIXES.some((p) => k.startsWith(p)) ||
    svc.names.includes(k) ||
    svc.prefixes.some((p) => k.startsWith(p));
  const out: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (keep(k)) out[k] = v;
    else dropped.push(k);
  }
  return { env: out, dropped: dropped.sort() };
}
