/**
 * What a github_app grant asks GitHub for: the rule's (else the service's)
 * permissions, and its repositories — a fixed list, or `from_command`: the
 * repository the command is about (its -R/--repo value; the repository its
 * arguments name: `gh api repos/OWNER/REPO/…`, `gh repo view OWNER/REPO`, a
 * pull request or issue URL; GH_REPO; else the `origin` remote of the working
 * directory). A command whose repository cannot be known gets the rule's
 * fallback_repositories or is denied: never a token for the whole installation.
 *
 * The origin remote is read from .git/config by this module (no git process:
 * git would honour the agent's GIT_* variables and includes).
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { CredentialUnavailable, PolicyDenied } from "../errors.js";
import type { Env } from "../paths.js";
import type { Grant } from "../policy/evaluate.js";
import { valueFlagsFor } from "../policy/cli-knowledge.js";
import { positionals } from "../policy/match.js";

export const DEFAULT_API_URL = "https://api.github.com";

export interface GithubAppScope {
  permissions: Record<string, string>;
  /** Repository names (without owner), sorted; never empty. */
  repositories: string[];
  /** Where the repositories came from. */
  from: "rule" | "command" | "fallback";
  /** The owner the command named (from_command), when it named one. */
  owner?: string;
}

/** The host gh talks to for an API base URL: api.github.com → github.com, https://HOST/api/v3 → HOST. */
export function ghHostForApi(apiUrl: string): string {
  const u = new URL(apiUrl);
  const host = u.host.toLowerCase();
  if (host === "api.github.com") return "github.com";
  if (/^api\.[^.]+\.ghe\.com$/.test(host)) return host.slice(4);
  return host;
}

export interface RepoRef {
  host?: string;
  owner: string;
  repo: string;
}

/** [HOST/]OWNER/REPO, a URL, or git@host:owner/repo(.git). */
export function parseRepoRef(v: string): RepoRef | undefined {
  let host: string | undefined;
  let path: string;
  if (v.includes("://")) {
    try {
      const u = new URL(v);
      host = u.host.toLowerCase();
      path = u.pathname.replace(/^\/+/, "");
    } catch {
      return undefined;
    }
  } else if (/^[^/@\s]+@[^:/\s]+:/.test(v)) {
    host = v.slice(v.indexOf("@") + 1, v.indexOf(":")).toLowerCase();
    path = v.slice(v.indexOf(":") + 1);
  } else {
    const parts = v.split("/");
    if (parts.length === 3) {
      host = parts[0]!.toLowerCase();
      path = parts.slice(1).join("/");
    } else path = v;
  }
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(path);
  if (!m || /^\.+$/.test(m[1]!) || /^\.+$/.test(m[2]!)) return undefined;
  return { ...(host !== undefined ? { host } : {}), owner: m[1]!, repo: m[2]! };
}

/** The -R/--repo value of a gh command line, if any (the last one wins, as in gh). */
export function repoFlag(args: readonly string[]): string | undefined {
  let found: string | undefined;
  const valueFlags = valueFlagsFor("gh", []);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    if (a === "-R" || a === "--repo") found = args[++i];
    else if (a.startsWith("--repo=")) found = a.slice(7);
    else if (a.startsWith("-R") && a.length > 2) found = a.slice(2).replace(/^=/, "");
    else if (a.startsWith("-") && !a.includes("=") && valueFlags.has(a)) i++;
  }
  return found;
}

/**
 * The repository named by the command's own arguments: the `repos/OWNER/REPO`
 * path of `gh api`, the OWNER/REPO argument of `gh repo <verb>`, or a
 * github URL of a pull request or issue (`gh pr view https://HOST/o/r/pull/1`).
 */
function argumentRepo(args: readonly string[]): RepoRef | undefined {
  const pos = positionals(args, valueFlagsFor("gh", []), "known");
  const dots = (r: RepoRef | undefined) => (r && !/^\.+$/.test(r.owner) && !/^\.+$/.test(r.repo) ? r : undefined);
  if (pos[0] === "api" && pos[1] !== undefined) {
    const m = /^\/?repos\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)(?:[/?#]|$)/.exec(pos[1]);
    return m ? dots({ owner: m[1]!, repo: m[2]! }) : undefined;
  }
  if (pos[0] === "repo" && pos[2] !== undefined && pos[2].includes("/")) return parseRepoRef(pos[2]);
  for (const p of pos.slice(1)) {
    const m = /^https?:\/\/([^/]+)\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/(?:pull|issues)\/\d+/.exec(p);
    if (m) return dots({ host: m[1]!.toLowerCase(), owner: m[2]!, repo: m[3]! });
  }
  return undefined;
}

/** The .git/config that applies to cwd (a worktree's .git file and commondir followed). */
function gitConfigFor(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (let depth = 0; depth < 64; depth++) {
    const dotGit = join(dir, ".git");
    try {
      const st = statSync(dotGit);
      let gitDir = dotGit;
      if (st.isFile()) {
        const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"));
        if (!m) return undefined;
        gitDir = isAbsolute(m[1]!.trim()) ? m[1]!.trim() : resolve(dir, m[1]!.trim());
        try {
          const common = readFileSync(join(gitDir, "commondir"), "utf8").trim();
          gitDir = isAbsolute(common) ? common : resolve(gitDir, common);
        } catch {
          /* not a worktree */
        }
      }
      return readFileSync(join(gitDir, "config"), "utf8");
    } catch {
      /* keep looking upwards */
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/** remote.origin.url of a git config text (the last value wins, as in git). */
export function originUrl(configText: string): string | undefined {
  let inOrigin = false;
  let url: string | undefined;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inOrigin = /^\[\s*remote\s+"origin"\s*\]$/.test(line);
      continue;
    }
    if (!inOrigin) continue;
    const m = /^url\s*=\s*(.*)$/.exec(line);
    if (m) url = m[1]!.replace(/^"(.*)"$/, "$1").trim();
  }
  return url;
}

/** The repository a gh command is about, or undefined if it cannot be known. */
export function commandRepo(args: readonly string[], env: Env, cwd: string, appHost: string): RepoRef | undefined {
  const flag = repoFlag(args);
  if (flag !== undefined) return parseRepoRef(flag);
  const named = argumentRepo(args);
  if (named) return named.host !== undefined && named.host !== appHost ? undefined : named;
  if (env.GH_REPO) return parseRepoRef(env.GH_REPO);
  const text = gitConfigFor(cwd);
  const url = text === undefined ? undefined : originUrl(text);
  const ref = url === undefined ? undefined : parseRepoRef(url);
  // A remote on another host is not this app's repository.
  if (ref?.host !== undefined && ref.host !== appHost) return undefined;
  return ref;
}

/** The permissions and repositories a grant mints for a gh command (throws when none can be given). */
export function githubAppScope(grant: Grant, args: readonly string[], env: Env, cwd: string): GithubAppScope {
  const appHost = ghHostForApi(grant.config.api_url ?? DEFAULT_API_URL);
  return scopeOf(
    grant,
    () => commandRepo(args, env, cwd, appHost),
    `no -R/--repo, no GH_REPO, no origin remote on ${appHost}`,
    "run it with -R OWNER/REPO",
  );
}

/**
 * The same for an MCP tool call: `from_command` is the repository the call's
 * `owner` and `repo` arguments name (the convention of GitHub's MCP server).
 */
export function githubAppToolScope(grant: Grant, args: Readonly<Record<string, unknown>>): GithubAppScope {
  return scopeOf(
    grant,
    () => {
      const owner = args.owner;
      const repo = args.repo;
      if (typeof owner !== "string" || typeof repo !== "string") return undefined;
      return parseRepoRef(`${owner}/${repo}`);
    },
    "no owner and repo arguments",
    "name the repository in the owner and repo arguments",
  );
}

function scopeOf(
  grant: Grant,
  resolveRef: () => RepoRef | undefined,
  unknownWhy: string,
  hint: string,
): GithubAppScope {
  const svc = grant.config;
  const rule = grant.rule;
  const who = `services.${grant.service}${rule ? ` rule "${rule.name}"` : ""} (${grant.file})`;
  const permissions = rule?.permissions ?? svc.permissions;
  if (permissions === undefined || Object.keys(permissions).length === 0)
    throw new CredentialUnavailable(
      `${who} names no permissions for the GitHub App token; add permissions: { … } to the rule or the service`,
    );
  const sorted = Object.fromEntries(Object.entries(permissions).sort(([a], [b]) => (a < b ? -1 : 1)));
  const wanted = rule?.repositories ?? svc.repositories;
  const fallback = rule?.repositories !== undefined ? rule.fallback_repositories : svc.fallback_repositories;
  if (wanted === undefined)
    throw new CredentialUnavailable(
      `${who} names no repositories; downscope never mints a token for the whole installation: add repositories (a list, or from_command)`,
    );
  if (wanted !== "from_command") return { permissions: sorted, repositories: [...wanted].sort(), from: "rule" };
  const ref = resolveRef();
  if (ref === undefined) {
    if (fallback !== undefined) return { permissions: sorted, repositories: [...fallback].sort(), from: "fallback" };
    throw new PolicyDenied(
      `${grant.service}: the repository this command is about cannot be known (${unknownWhy}), and ${who} has no fallback_repositories; ${hint}`,
    );
  }
  if (svc.owner !== undefined && ref.owner.toLowerCase() !== svc.owner.toLowerCase())
    throw new PolicyDenied(
      `${grant.service}: the command is about ${ref.owner}/${ref.repo}, but the GitHub App installation is for ${svc.owner}; no token is minted for it`,
    );
  return { permissions: sorted, repositories: [ref.repo], from: "command", owner: ref.owner };
}
