/**
 * Where the CLIs an agent may reach for keep their credentials. Two uses:
 *   - contained mode hides the whole stores from the sandbox
 *     (`CREDENTIAL_STORES`, directories and files, home-relative);
 *   - in default mode the hook denies the plain ways of reading the secret
 *     files in them (`credentialReads`: `cat ~/.aws/credentials`, the Read tool
 *     on `~/.config/gh/hosts.yml`) — the same best-effort protection the hook
 *     gives downscope's own files against writes. It stops an eager agent,
 *     not a determined one: a program that assembles the path at run time is
 *     not seen. Contained mode stops that one.
 */
import { isAbsolute, join, resolve } from "node:path";
import { expandHome, type Env } from "../paths.js";
import { home, type ProtectedPath } from "./protected-paths.js";

/** Credential stores of the CLIs an agent may reach for; home-relative. Contained mode hides each one. */
export const CREDENTIAL_STORES = [
  ".aws",
  ".config/gh",
  ".config/gcloud",
  ".kube",
  ".docker/config.json",
  ".netrc",
  ".git-credentials",
  ".ssh",
  ".config/hub",
  ".config/git/credentials",
  ".npmrc",
  ".pypirc",
  ".azure",
  ".terraform.d/credentials.tfrc.json",
  ".cargo/credentials.toml",
  ".cargo/credentials",
] as const;

/** The credential stores above that are files, not directories. */
export const STORE_FILES: ReadonlySet<string> = new Set([
  ".docker/config.json",
  ".netrc",
  ".git-credentials",
  ".config/git/credentials",
  ".npmrc",
  ".pypirc",
  ".terraform.d/credentials.tfrc.json",
  ".cargo/credentials.toml",
  ".cargo/credentials",
]);

/**
 * The secret files (or directories of them) inside the stores, home-relative:
 * what default mode refuses to let the agent read. Configuration next to them
 * (`~/.aws/config`, `~/.kube/cache`, `~/.ssh/*.pub`, `known_hosts`) stays
 * readable.
 */
const SECRET_FILES: readonly [string, string][] = [
  [".aws/credentials", "the AWS credentials"],
  [".aws/sso/cache", "the AWS SSO token cache"],
  [".aws/cli/cache", "the AWS CLI credential cache"],
  [".config/gh/hosts.yml", "gh's stored login"],
  [".kube/config", "the kubeconfig"],
  [".config/gcloud/credentials.db", "gcloud's stored credentials"],
  [".config/gcloud/access_tokens.db", "gcloud's stored credentials"],
  [".config/gcloud/legacy_credentials", "gcloud's stored credentials"],
  [".config/gcloud/application_default_credentials.json", "Google application default credentials"],
  ...["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"].map(
    (k) => [`.ssh/${k}`, "an SSH private key"] as [string, string],
  ),
  [".netrc", "~/.netrc"],
  [".git-credentials", "git's stored credentials"],
  [".config/git/credentials", "git's stored credentials"],
  [".docker/config.json", "Docker's registry logins"],
  [".npmrc", "npm's registry tokens"],
  [".pypirc", "PyPI upload credentials"],
  [".cargo/credentials.toml", "Cargo's registry token"],
  [".cargo/credentials", "Cargo's registry token"],
  [".azure/accessTokens.json", "Azure CLI tokens"],
  [".azure/msal_token_cache.json", "Azure CLI tokens"],
  [".azure/msal_token_cache.bin", "Azure CLI tokens"],
  [".azure/service_principal_entries.json", "Azure CLI service principal secrets"],
  [".config/hub", "hub's stored login"],
  [".terraform.d/credentials.tfrc.json", "Terraform Cloud tokens"],
  [".bash_history", "a shell history"],
  [".zsh_history", "a shell history"],
  [".zhistory", "a shell history"],
  [".histfile", "a shell history"],
  [".sh_history", "a shell history"],
  [".local/share/fish/fish_history", "a shell history"],
  [".python_history", "a REPL history"],
  [".node_repl_history", "a REPL history"],
  [".psql_history", "a REPL history"],
  [".mysql_history", "a REPL history"],
];

/** The files some variable points at instead of the default location. */
const LOCATED_BY = ["AWS_SHARED_CREDENTIALS_FILE", "GOOGLE_APPLICATION_CREDENTIALS"] as const;

/**
 * The secret files default mode keeps the agent from reading, as protected
 * paths (`secret: true`): the built-in list, the files the environment points
 * at (`AWS_SHARED_CREDENTIALS_FILE`, `GOOGLE_APPLICATION_CREDENTIALS`,
 * `KUBECONFIG`), the policy's slot `file:` sources, and the paths the policy
 * adds (`settings.protect_reads`); minus the ones a trusted layer gives back
 * (`settings.allow_reads`).
 */
export function credentialReads(
  env: Env,
  extra: { add?: readonly string[]; allow?: readonly string[] } = {},
): ProtectedPath[] {
  const h = home(env);
  const out: ProtectedPath[] = SECRET_FILES.map(([rel, what]) => ({ path: join(h, rel), secret: true, what }));
  for (const v of LOCATED_BY) {
    const p = env[v];
    if (p && isAbsolute(p)) out.push({ path: p, secret: true, what: `the credential file ${v} names` });
  }
  for (const p of (env.KUBECONFIG ?? "").split(":"))
    if (isAbsolute(p)) out.push({ path: p, secret: true, what: "the kubeconfig KUBECONFIG names" });
  for (const p of extra.add ?? [])
    out.push({ path: resolve(expandHome(p, env)), secret: true, what: "a path the policy protects from reads" });
  const allowed = new Set((extra.allow ?? []).map((p) => resolve(expandHome(p, env))));
  return out.map((p) => ({ ...p, path: resolve(p.path) })).filter((p) => !allowed.has(p.path));
}
