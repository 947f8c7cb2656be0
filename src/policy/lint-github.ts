/**
 * Lint for github_app and token_request services (pure): permission names and
 * levels as GitHub defines them, and allow rules that could never be minted for.
 */
import { GITHUB_PERMISSIONS, SENSITIVE_PERMISSIONS } from "./github-permissions.js";
import type { LintCheck } from "./lint.js";
import { didYouMean } from "./parse.js";
import type { Rule, Service } from "./schema.js";

type Report = Parameters<LintCheck>[1];

function checkPermissions(perms: Record<string, string>, at: (string | number)[], report: Report): void {
  for (const [name, level] of Object.entries(perms)) {
    const levels = GITHUB_PERMISSIONS[name];
    if (levels === undefined) {
      const guess = didYouMean(name, Object.keys(GITHUB_PERMISSIONS));
      report(
        [...at, name],
        "error",
        `unknown GitHub App permission "${name}"${guess ? `; did you mean "${guess}"?` : "; see the list in docs/github.md"}`,
      );
      continue;
    }
    if (!(levels as readonly string[]).includes(level))
      report(
        [...at, name],
        "error",
        `GitHub does not grant "${name}" at level ${level}; it accepts ${levels.join(" or ")}`,
      );
    else if (SENSITIVE_PERMISSIONS.has(name) && level !== "read")
      report(
        [...at, name],
        "warning",
        `${name}: ${level} lets the command change who may do what (or run code) in the repository; make sure an agent needs it`,
      );
  }
}

const GITHUB_FIELDS = ["permissions", "repositories", "fallback_repositories"] as const;
const KUBE_FIELDS = ["service_account", "expiration_seconds", "audiences"] as const;

function lintService(name: string, svc: Service, report: Report): void {
  const base = ["services", name];
  const mode = svc.downscope_mode;
  if (svc.permissions) checkPermissions(svc.permissions, [...base, "permissions"], report);
  const ignored = (
    at: (string | number)[],
    r: Pick<Rule, (typeof GITHUB_FIELDS)[number] | (typeof KUBE_FIELDS)[number]>,
  ) => {
    if (mode !== "github_app")
      for (const k of GITHUB_FIELDS)
        if (r[k] !== undefined)
          report(
            [...at, k],
            "warning",
            `ignored: ${k} applies only with downscope_mode github_app (this service uses ${mode})`,
          );
    if (mode !== "token_request")
      for (const k of KUBE_FIELDS)
        if (r[k] !== undefined)
          report(
            [...at, k],
            "warning",
            `ignored: ${k} applies only with downscope_mode token_request (this service uses ${mode})`,
          );
  };
  ignored(base, svc);
  svc.rules.forEach((r, i) => {
    const at = [...base, "rules", i];
    if (r.permissions) checkPermissions(r.permissions, [...at, "permissions"], report);
    ignored(at, r);
    if (r.action !== "allow") return;
    if (mode === "github_app") {
      if ((r.permissions ?? svc.permissions) === undefined)
        report(
          at,
          "error",
          `allow rule "${r.name}" names no permissions and the service has none: it could never get a token`,
        );
      else if (Object.keys(r.permissions ?? svc.permissions ?? {}).length === 0)
        report(
          at,
          "error",
          `allow rule "${r.name}" has an empty permissions map: GitHub would mint a token with every permission of the installation`,
        );
      if ((r.repositories ?? svc.repositories) === undefined)
        report(
          at,
          "error",
          `allow rule "${r.name}" names no repositories and the service has none: downscope never mints a token for the whole installation; set repositories (a list, or from_command)`,
        );
    }
    if (mode === "token_request" && (r.service_account ?? svc.service_account) === undefined)
      report(
        at,
        "error",
        `allow rule "${r.name}" names no service_account and the service has none: it could never get a token`,
      );
  });
  if (
    mode === "github_app" &&
    svc.default_action === "allow" &&
    (svc.permissions === undefined || svc.repositories === undefined)
  )
    report(
      base,
      "warning",
      "no service-level permissions and repositories: commands that no allow rule matches will be refused for lack of a credential",
    );
  if (mode === "token_request" && svc.default_action === "allow" && svc.service_account === undefined)
    report(
      base,
      "warning",
      "no service-level service_account: commands that no allow rule matches will be refused for lack of a credential",
    );
  if (mode === "token_request" && (svc.allowed_hosts ?? []).length === 0)
    report(
      base,
      "error",
      "token_request needs allowed_hosts: the API server host(s) your kubeconfig credential may mint at and the minted token may go to; without it every command is refused",
    );
  if ((mode === "github_app" || mode === "token_request") && svc.token_slots !== undefined)
    report([...base, "token_slots"], "warning", `ignored: token_slots are not used with downscope_mode ${mode}`);
}

export const githubLintCheck: LintCheck = (config, report) => {
  for (const [name, svc] of Object.entries(config.services)) lintService(name, svc, report);
};
