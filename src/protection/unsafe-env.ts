/**
 * What a service's CLI must never be handed from the agent's environment
 * (src/exec/env.ts applies it to every child, in every mode; the policy
 * schema refuses a `pass_env` that names one). A leaf: the policy's pure
 * core reads it too.
 */

/**
 * Variables a service's CLI never gets, in any mode, whatever `pass_env`
 * says: each loads code into the CLI or a program it starts, or makes it
 * print, log or send its credential (`GH_DEBUG=api` and `GODEBUG=http2debug=2`
 * log request headers, `SSLKEYLOGFILE` writes the TLS keys, `BASH_ENV` runs a
 * file in gcloud's bash wrapper, `OPENSSL_CONF` loads engines,
 * `NODE_TLS_REJECT_UNAUTHORIZED`/`PYTHONHTTPSVERIFY` switch off certificate
 * checks, `GIT_*` redirect or configure the git the CLI starts, `BROWSER`,
 * `EDITOR`, `PAGER`, `LESSOPEN` run programs). The agent can set any of them
 * on the command line; the hook denies the plain spellings (src/hook/decide.ts),
 * and downscope-exec removes them whatever reached it.
 */
export const NEVER_PASSED: ReadonlySet<string> = new Set([
  ...["GH_DEBUG", "DEBUG", "GODEBUG", "SSLKEYLOGFILE", "GH_PATH", "GH_BROWSER", "BROWSER", "GH_EDITOR", "EDITOR"],
  ...["VISUAL", "PAGER", "GH_PAGER", "MANPAGER", "LESSOPEN", "LESSCLOSE", "KUBE_EDITOR", "KUBECTL_EXTERNAL_DIFF"],
  ...["AWS_PAGER", "CLOUDSDK_PYTHON", "CLOUDSDK_PYTHON_ARGS", "CLOUDSDK_GSUTIL_PYTHON", "CLOUDSDK_BQ_PYTHON"],
  ...["BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "ZDOTDIR", "GCONV_PATH", "HOSTALIASES"],
  ...["OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CURL_HOME"],
]);
/** Prefixes of the same (`LD_PRELOAD`, `DYLD_INSERT_LIBRARIES`, `PYTHONPATH`, `NODE_OPTIONS`, `BASH_FUNC_f%%`, …). */
const NEVER_PASSED_PREFIXES = ["LD_", "DYLD_", "PYTHON", "PERL5", "PERLLIB", "RUBY", "BASH_FUNC_", "GIT_", "NODE_"];

/**
 * Variables that change where the CLI's requests go or which certificates it
 * trusts: a proxy plus a CA the agent chose reads the credential in transit.
 * Passed only when the trusted policy names them in `pass_env` (a private CA,
 * a corporate proxy).
 */
export const TRUST_VARS: ReadonlySet<string> = new Set([
  ...["SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE"],
  ...["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"],
]);

export function neverPassed(name: string, value?: string): boolean {
  // An empty pager switches paging off: the gh and aws channels set GH_PAGER="" and AWS_PAGER="" themselves.
  if (value === "" && name.endsWith("PAGER")) return false;
  if (NEVER_PASSED.has(name)) return true;
  if (name === "NODE_EXTRA_CA_CERTS") return false;
  return NEVER_PASSED_PREFIXES.some((p) => name.startsWith(p));
}
