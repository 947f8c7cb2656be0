/**
 * Which upstream instance serves what, and with which environment (pure).
 *
 * Every token slot gets its own instance of the upstream server, holding only
 * that slot's token. The instance of the service's default slot (or, without
 * one, an instance holding no slot token at all) serves everything that is
 * not a `tools/call` routed elsewhere: initialize, tools/list, resources, prompts.
 */
import { githubAppToolScope, type GithubAppScope } from "../credentials/github-app-scope.js";
import type { Env } from "../paths.js";
import type { Grant, Policy } from "../policy/index.js";
import { serviceForServer } from "../policy/policy.js";
import type { Service, TokenSlot } from "../policy/schema.js";

/** The variable GitHub's MCP server reads its token from (github/github-mcp-server). */
export const GITHUB_MCP_TOKEN_ENV = "GITHUB_PERSONAL_ACCESS_TOKEN";

/** What an instance is started with. `slot` and `app` undefined: no token at all. */
export interface InstancePlan {
  /** Map key: the config file and slot name (or minted scope), or "" for the token-less instance. */
  key: string;
  slot?: { name: string; def: TokenSlot; injectAs: string | undefined };
  /** github_app: the instance runs with an installation token minted for this scope (and is replaced before it expires). */
  app?: { grant: Grant; scope: GithubAppScope; injectAs: string };
}

/**
 * The plan for an allow grant: a rule's slot or the service's default slot;
 * github_app: one instance per (permissions, repositories), the repository
 * taken from the call's owner/repo arguments for `from_command`. Throws
 * (PolicyDenied, CredentialUnavailable) when no token can be minted for the call.
 */
export function planForGrant(grant: Grant, args: Readonly<Record<string, unknown>> = {}): InstancePlan {
  if (grant.mode === "github_app") return appPlan(grant, githubAppToolScope(grant, args));
  if (grant.mode !== "token_slot" || grant.slot === undefined) return { key: "" };
  return planForSlot(grant.file, grant.config, grant.slot);
}

function appPlan(grant: Grant, scope: GithubAppScope): InstancePlan {
  return {
    key: `${grant.file}#github_app#${JSON.stringify([scope.permissions, scope.repositories])}`,
    app: { grant, scope, injectAs: grant.config.inject_as ?? GITHUB_MCP_TOKEN_ENV },
  };
}

function planForSlot(file: string, service: Service, name: string): InstancePlan {
  const def = service.token_slots?.[name];
  if (def === undefined) return { key: "" };
  return { key: `${file}#${name}`, slot: { name, def, injectAs: def.inject_as ?? service.inject_as } };
}

/**
 * The default instance: the default slot of the most specific TRUSTED layer
 * that configures the server (an untrusted file cannot hand out a token).
 */
export function defaultPlan(policy: Policy | undefined, server: string): InstancePlan {
  if (!policy) return { key: "" };
  const trusted = [...policy.layers].reverse().find((l) => l.trusted && serviceForServer(l.config, server));
  const hit = trusted && serviceForServer(trusted.config, server);
  const svc = hit?.[1];
  // github_app: the default instance (initialize, tools/list) holds a token only for fixed service-level defaults.
  if (trusted && hit && svc?.downscope_mode === "github_app") {
    if (svc.permissions === undefined || svc.repositories === undefined || svc.repositories === "from_command")
      return { key: "" };
    const grant: Grant = { service: hit[0], mode: "github_app", layer: trusted.name, file: trusted.file, config: svc };
    try {
      return appPlan(grant, githubAppToolScope(grant, {}));
    } catch {
      return { key: "" };
    }
  }
  if (!trusted || !svc || svc.downscope_mode !== "token_slot" || svc.default_slot === undefined) return { key: "" };
  return planForSlot(trusted.file, svc, svc.default_slot);
}

/**
 * Variables removed from every instance's environment before its own token is
 * set: the source variable of every slot of every service (so no instance can
 * read another slot's token from downscope's environment), every variable a
 * slot of this server is injected as (an ambient GITHUB_TOKEN the client put
 * in the server's entry), and the service's strip_env.
 */
export function strippedNames(policy: Policy | undefined, server: string): Set<string> {
  const out = new Set<string>();
  if (!policy) return out;
  for (const layer of policy.layers) {
    for (const svc of Object.values(layer.config.services)) {
      for (const slot of Object.values(svc.token_slots ?? {})) if (slot.env_var !== undefined) out.add(slot.env_var);
    }
    const own = serviceForServer(layer.config, server)?.[1];
    if (!own) continue;
    for (const slot of Object.values(own.token_slots ?? {})) {
      if (slot.inject_as !== undefined) out.add(slot.inject_as);
      if (slot.inject_file_env !== undefined) out.add(slot.inject_file_env);
    }
    if (own.inject_as !== undefined) out.add(own.inject_as);
    if (own.downscope_mode === "github_app") out.add(GITHUB_MCP_TOKEN_ENV);
    if (own.inject_file_env !== undefined) out.add(own.inject_file_env);
    for (const n of own.strip_env ?? []) out.add(n);
  }
  return out;
}

/** Strip first, then set the slot's token under its inject_as name. */
export function upstreamEnv(
  base: Env,
  strip: ReadonlySet<string>,
  token?: { name: string; value: string },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !strip.has(k)) env[k] = v;
  if (token) env[token.name] = token.value;
  return env;
}
