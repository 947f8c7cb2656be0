/**
 * kubectl: KUBECONFIG = a private kubeconfig (0600 in the run's 0700 dir) with
 * the current context's cluster (server, CA) and namespace and one user that
 * holds only the slot's token. The token goes only to an API server whose host
 * the trusted config names (the slot's `host` or the service's
 * `allowed_hosts`). Research: the kubectl table in docs/exec.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { CredentialUnavailable, PolicyDenied } from "../../errors.js";
import { valueFlagsFor } from "../../policy/cli-knowledge.js";
import { hasFlag, positionals } from "../../policy/match.js";
import type { Channel, ChannelInput } from "../channel.js";
import { without } from "../env.js";
import { slotToken } from "./slot-token.js";
import type { MintInfo } from "../../credentials/provider.js";

export const KUBECTL_STRIP = [
  "KUBECONFIG",
  "KUBE_EDITOR",
  "EDITOR",
  "VISUAL",
  "KUBECTL_EXTERNAL_DIFF",
  "KUBERNETES_SERVICE_HOST",
  "KUBERNETES_SERVICE_PORT",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
] as const;

/** kubectl's built-in commands; any other first word runs a `kubectl-<word>` plugin from PATH with the kubeconfig. */
export const KUBECTL_COMMANDS = new Set(
  (
    "create expose run set explain get edit delete rollout scale autoscale certificate cluster-info top cordon " +
    "uncordon drain taint describe logs attach exec port-forward proxy cp auth debug events diff apply patch " +
    "replace wait kustomize label annotate completion alpha api-resources api-versions config plugin version options help"
  ).split(" "),
);

/** Flags that run local programs (kustomize exec functions and plugins). */
const EXEC_FLAGS = ["--enable-alpha-plugins", "--enable-exec", "--enable-helm", "--helm-command"];
/** Flags that change which server certificate is trusted: with a proxy, the token could be read in transit. */
const TLS_FLAGS = ["--insecure-skip-tls-verify", "--certificate-authority", "--tls-server-name"];

interface NamedEntry {
  name?: unknown;
  cluster?: Record<string, unknown>;
  context?: Record<string, unknown>;
  user?: Record<string, unknown>;
}

interface Merged {
  currentContext?: string;
  clusters: Map<string, { cluster: Record<string, unknown>; dir: string }>;
  contexts: Map<string, Record<string, unknown>>;
  /** Read only to mint with (token_request); never copied into kubectl's kubeconfig. */
  users: Map<string, { user: Record<string, unknown>; dir: string }>;
}

function kubeconfigFiles(env: ChannelInput["parentEnv"], cwd: string): string[] {
  const k = env.KUBECONFIG;
  if (k !== undefined && k !== "")
    return k
      .split(delimiter)
      .filter((p) => p !== "")
      .map((p) => resolve(cwd, p));
  return [join(env.HOME ?? homedir(), ".kube", "config")];
}

/** Merges kubeconfig files the way kubectl does for what we need: the first file to set a name wins. */
async function readKubeconfig(files: string[]): Promise<Merged> {
  const { parse } = await import("yaml");
  const merged: Merged = { clusters: new Map(), contexts: new Map(), users: new Map() };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let data: Record<string, unknown>;
    try {
      data = (parse(text) ?? {}) as Record<string, unknown>;
    } catch {
      throw new CredentialUnavailable(`kubectl: ${file} is not valid YAML`);
    }
    const cc = data["current-context"];
    if (merged.currentContext === undefined && typeof cc === "string" && cc !== "") merged.currentContext = cc;
    for (const c of (data.clusters ?? []) as NamedEntry[])
      if (typeof c.name === "string" && c.cluster && !merged.clusters.has(c.name))
        merged.clusters.set(c.name, { cluster: c.cluster, dir: dirname(file) });
    for (const c of (data.contexts ?? []) as NamedEntry[])
      if (typeof c.name === "string" && c.context && !merged.contexts.has(c.name))
        merged.contexts.set(c.name, c.context);
    for (const c of (data.users ?? []) as NamedEntry[])
      if (typeof c.name === "string" && c.user && !merged.users.has(c.name))
        merged.users.set(c.name, { user: c.user, dir: dirname(file) });
  }
  return merged;
}

function normalizeHostEntry(h: string): string {
  return h
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, "")
    .replace(/\/.*$/, "");
}

/** Is the server URL's host one of the allowed entries (`host` or `host:port`)? */
export function serverAllowed(server: string, allowed: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(server);
  } catch {
    return false;
  }
  return allowed.map(normalizeHostEntry).some((e) => (e.includes(":") ? u.host === e : u.hostname === e));
}

function flagValues(args: readonly string[], flag: string): string[] {
  const out: string[] = [];
  const end = args.indexOf("--");
  const words = end === -1 ? args : args.slice(0, end);
  for (let i = 0; i < words.length; i++) {
    const a = words[i]!;
    if (a === flag && words[i + 1] !== undefined) out.push(words[++i]!);
    else if (a.startsWith(flag + "=")) out.push(a.slice(flag.length + 1));
  }
  return out;
}

export function checkKubectlArgs(args: readonly string[], context: string, cluster: string): void {
  const first = positionals(args, valueFlagsFor("kubectl", []), "known")[0];
  if (first !== undefined && !KUBECTL_COMMANDS.has(first))
    throw new PolicyDenied(
      `kubectl: "${first}" is not a built-in kubectl command; kubectl would run the plugin kubectl-${first} from PATH with the credential`,
    );
  const exec = EXEC_FLAGS.find((f) => args.some((a) => a === f || a.startsWith(f + "=")));
  if (exec !== undefined) throw new PolicyDenied(`kubectl: ${exec} runs local programs with the credential`);
  const tls = TLS_FLAGS.find((f) => hasFlag(args, [f], false) !== undefined);
  if (tls !== undefined)
    throw new PolicyDenied(`kubectl: ${tls} changes which server the token is trusted to; the kubeconfig's CA is used`);
  for (const v of flagValues(args, "--context"))
    if (v !== context)
      throw new PolicyDenied(
        `kubectl: --context ${v} selects a context other than the one the scoped credential is for (${context})`,
      );
  for (const v of flagValues(args, "--cluster"))
    if (v !== cluster)
      throw new PolicyDenied(
        `kubectl: --cluster ${v} selects a cluster other than the one the scoped credential is for (${cluster})`,
      );
}

export const channel: Channel = async (input) => {
  const tokenRequest = input.grant.mode === "token_request";
  const slot = tokenRequest ? undefined : await slotToken(input);
  const kc = await readKubeconfig(kubeconfigFiles(input.parentEnv, input.cwd));
  const ctxName = kc.currentContext;
  if (ctxName === undefined)
    throw new CredentialUnavailable("kubectl: the kubeconfig has no current-context; set one in your kubeconfig");
  const ctx = kc.contexts.get(ctxName);
  const clusterName = typeof ctx?.cluster === "string" ? ctx.cluster : undefined;
  const entry = clusterName === undefined ? undefined : kc.clusters.get(clusterName);
  if (!ctx || clusterName === undefined || !entry)
    throw new CredentialUnavailable(`kubectl: context "${ctxName}" or its cluster is not defined in the kubeconfig`);
  const server = entry.cluster.server;
  if (typeof server !== "string" || server === "")
    throw new CredentialUnavailable(`kubectl: cluster "${clusterName}" has no server`);
  checkKubectlArgs(input.args, ctxName, clusterName);

  const allowed = [
    ...(slot?.slot.host !== undefined ? [slot.slot.host] : []),
    ...(input.grant.config.allowed_hosts ?? []),
  ];
  const carries = slot !== undefined || tokenRequest;
  if (carries && !serverAllowed(server, allowed))
    throw new CredentialUnavailable(
      allowed.length === 0
        ? slot !== undefined
          ? `kubectl: slot "${slot.slotName}" does not say which API server its token is for; set \`host:\` on the slot (or allowed_hosts on the service) to the host of ${server}`
          : `kubectl: services.${input.grant.service} does not say which API server may mint and receive tokens; set allowed_hosts on the service to the host of ${server}`
        : `kubectl: the current context's server ${server} is not the host the ${slot !== undefined ? "slot's token" : "minted token"} is for (${allowed.join(", ")}); no credential is sent there`,
    );

  // -s/--server is a built-in guard; a trusted allow rule with override_guards may re-allow it, but
  // the token still goes only to a host the config names.
  for (const v of [...flagValues(input.args, "--server"), ...flagValues(input.args, "-s")])
    if (carries && !serverAllowed(v, allowed))
      throw new PolicyDenied(
        `kubectl: --server ${v} is not a host the ${slot !== undefined ? "slot's token" : "minted token"} is for (${allowed.join(", ") || "none configured"})`,
      );

  const cluster: Record<string, unknown> = { server };
  const caData = entry.cluster["certificate-authority-data"];
  const caFile = entry.cluster["certificate-authority"];
  if (typeof caData === "string") cluster["certificate-authority-data"] = caData;
  else if (typeof caFile === "string") {
    const path = resolve(entry.dir, caFile);
    try {
      cluster["certificate-authority-data"] = readFileSync(path).toString("base64");
    } catch {
      throw new CredentialUnavailable(`kubectl: cannot read the cluster's certificate-authority ${path}`);
    }
  }
  for (const k of ["insecure-skip-tls-verify", "tls-server-name", "proxy-url"])
    if (entry.cluster[k] !== undefined) cluster[k] = entry.cluster[k];

  let token: string | undefined = slot?.value;
  let minted: MintInfo | undefined;
  if (tokenRequest) {
    const m = await mintFor(input, { ctx, ctxName, kc, server, cluster });
    token = m.value;
    minted = m.info;
  }

  const context: Record<string, unknown> = { cluster: clusterName, user: "downscope" };
  if (typeof ctx.namespace === "string") context.namespace = ctx.namespace;
  // Confined (contained mode): the token is in no file, only in kubectl's environment, and an exec
  // credential plugin (/bin/sh printing that variable) hands it over; the kubeconfig holds no secret.
  const user = token === undefined ? {} : input.confined ? { exec: execCredentialUser() } : { token };
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster }],
    contexts: [{ name: ctxName, context }],
    "current-context": ctxName,
    users: [{ name: "downscope", user }],
    preferences: {},
  };
  const file = join(input.tmpDir, "kubeconfig");
  // JSON is valid YAML, and kubectl reads it; no serializer needed.
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  const env = without(input.baseEnv, KUBECTL_STRIP);
  for (const k of input.grant.config.pass_env ?? []) if (input.parentEnv[k] !== undefined) env[k] = input.parentEnv[k];
  env.KUBECONFIG = file;
  if (token !== undefined && input.confined) env[EXEC_CREDENTIAL_ENV] = execCredential(token);
  return { env, secrets: token === undefined ? [] : [token], ...(minted ? { minted } : {}) };
};

/** The variable the confined kubectl's credential plugin prints. */
export const EXEC_CREDENTIAL_ENV = "DOWNSCOPE_KUBE_EXEC_CREDENTIAL";

/**
 * An exec credential plugin (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins)
 * that prints the ExecCredential kept in kubectl's own environment: kubectl
 * runs it with its environment, once per process.
 */
function execCredentialUser(): Record<string, unknown> {
  return {
    apiVersion: "client.authentication.k8s.io/v1",
    command: "/bin/sh",
    args: ["-c", `printf '%s' "$${EXEC_CREDENTIAL_ENV}"`],
    interactiveMode: "Never",
    provideClusterInfo: false,
  };
}

function execCredential(token: string): string {
  return JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token },
  });
}

/**
 * token_request: mint a service account token with the current context's user
 * credential (read here, never written for kubectl), for the same server and CA.
 */
async function mintFor(
  input: ChannelInput,
  k: { ctx: Record<string, unknown>; ctxName: string; kc: Merged; server: string; cluster: Record<string, unknown> },
) {
  const svc = input.grant.config;
  const rule = input.grant.rule;
  const sa = rule?.service_account ?? svc.service_account;
  if (sa === undefined)
    throw new CredentialUnavailable(
      `services.${input.grant.service}${rule ? ` rule "${rule.name}"` : ""} (${input.grant.file}) names no service_account to mint a token for`,
    );
  if (k.cluster["insecure-skip-tls-verify"] === true)
    throw new CredentialUnavailable(
      `kubectl: the cluster of context "${k.ctxName}" sets insecure-skip-tls-verify; downscope does not send your credential to a server whose certificate it cannot verify`,
    );
  if (k.cluster["proxy-url"] !== undefined)
    throw new CredentialUnavailable(
      `kubectl: the cluster of context "${k.ctxName}" sets proxy-url; downscope does not mint through a proxy`,
    );
  const userName = typeof k.ctx.user === "string" ? k.ctx.user : undefined;
  const user = userName === undefined ? undefined : k.kc.users.get(userName);
  if (userName === undefined || user === undefined)
    throw new CredentialUnavailable(
      `kubectl: context "${k.ctxName}" has no user in the kubeconfig to mint a token with`,
    );
  const caData = k.cluster["certificate-authority-data"];
  const tlsName = k.cluster["tls-server-name"];
  const { obtainServiceAccountToken, DEFAULT_EXPIRATION_SECONDS } =
    await import("../../credentials/kube-token-request.js");
  const audiences = rule?.audiences ?? svc.audiences;
  return obtainServiceAccountToken(
    {
      server: k.server,
      ...(typeof caData === "string" ? { ca: Buffer.from(caData, "base64") } : {}),
      ...(typeof tlsName === "string" ? { tlsServerName: tlsName } : {}),
      user: user.user,
      userDir: user.dir,
      userName,
      serviceAccount: sa,
      expirationSeconds: rule?.expiration_seconds ?? svc.expiration_seconds ?? DEFAULT_EXPIRATION_SECONDS,
      ...(audiences ? { audiences } : {}),
    },
    { env: input.parentEnv, cwd: input.cwd, now: input.now },
  );
}
