/**
 * What a GCP grant asks for (pure): the access boundary or scopes of the rule
 * that matched (else the service's), in the form google-auth-library's
 * DownscopedClient and Impersonated clients take, checked before any token is
 * exchanged, plus the cache key of the resulting token.
 *
 * Boundary format: https://cloud.google.com/iam/docs/downscoping-short-lived-credentials
 */
import { sha256Hex } from "../lazy-crypto.js";
import { CredentialUnavailable } from "../errors.js";
import type { Grant } from "../policy/evaluate.js";
import { boundaryProblems, normalizeScopes } from "../policy/lint-gcp.js";
import type { AccessBoundaryRule } from "../policy/schema.js";

/** The JSON DownscopedClient sends to STS as `options` (camelCase, as the API expects). */
export interface CredentialAccessBoundary {
  accessBoundary: {
    accessBoundaryRules: {
      availableResource: string;
      availablePermissions: string[];
      availabilityCondition?: { expression: string; title?: string; description?: string };
    }[];
  };
}

export type GcpRequest =
  | { mode: "credential_access_boundary"; boundary: CredentialAccessBoundary; from: "rule" | "service" }
  | { mode: "oauth_scope"; scopes: string[]; targetServiceAccount?: string; from: "rule" | "service" }
  | { mode: "token_slot"; slot: string };

/** The boundary in STS form. Throws CredentialUnavailable if STS would refuse it. */
export function toCredentialAccessBoundary(rules: readonly AccessBoundaryRule[]): CredentialAccessBoundary {
  const errors = boundaryProblems(rules).filter((p) => p.severity === "error");
  if (errors.length > 0)
    throw new CredentialUnavailable(
      `invalid access boundary: ${errors.map((e) => (e.path.length ? `rule ${String(e.path[0])}: ` : "") + e.message).join("; ")}`,
    );
  return {
    accessBoundary: {
      accessBoundaryRules: rules.map((r) => ({
        availableResource: r.available_resource,
        availablePermissions: [...r.available_permissions],
        ...(r.availability_condition
          ? {
              availabilityCondition: {
                expression: r.availability_condition.expression,
                ...(r.availability_condition.title !== undefined ? { title: r.availability_condition.title } : {}),
                ...(r.availability_condition.description !== undefined
                  ? { description: r.availability_condition.description }
                  : {}),
              },
            }
          : {}),
      })),
    },
  };
}

/** What to mint for a grant: the rule's boundary/scopes override the service's. */
export function gcpRequestFor(grant: Grant): GcpRequest {
  const who = `service "${grant.service}"${grant.rule ? ` (rule "${grant.rule.name}")` : ""}`;
  switch (grant.mode) {
    case "credential_access_boundary": {
      const rules = grant.rule?.access_boundary ?? grant.config.access_boundary;
      if (rules === undefined)
        throw new CredentialUnavailable(
          `${who}: no access_boundary on the rule or the service, so there is nothing to downscope to; add one in the trusted policy`,
        );
      return {
        mode: "credential_access_boundary",
        boundary: toCredentialAccessBoundary(rules),
        from: grant.rule?.access_boundary ? "rule" : "service",
      };
    }
    case "oauth_scope": {
      const scopes = grant.rule?.scopes ?? grant.config.scopes;
      if (scopes === undefined || scopes.length === 0)
        throw new CredentialUnavailable(
          `${who}: oauth_scope needs scopes on the rule or the service (e.g. cloud-platform.read-only)`,
        );
      return {
        mode: "oauth_scope",
        scopes: normalizeScopes(scopes),
        ...(grant.config.target_service_account !== undefined
          ? { targetServiceAccount: grant.config.target_service_account }
          : {}),
        from: grant.rule?.scopes ? "rule" : "service",
      };
    }
    case "token_slot": {
      if (grant.slot === undefined)
        throw new CredentialUnavailable(`${who}: no slot (the rule names none and the service has no default_slot)`);
      return { mode: "token_slot", slot: grant.slot };
    }
    case "sts_policy":
    case "github_app":
    case "token_request":
    case "none":
      throw new CredentialUnavailable(`${who}: downscope_mode ${grant.mode} does not apply to Google Cloud`);
  }
}

/**
 * Cache key parts: everything that changes the token. `sourceIdentity` is a
 * fingerprint of the source credential (never the credential itself).
 */
export function gcpCacheKeyParts(req: GcpRequest, sourceIdentity: string): unknown {
  const hash = (v: unknown) => sha256Hex(JSON.stringify(v));
  switch (req.mode) {
    case "credential_access_boundary":
      return { v: 1, mode: req.mode, source: sourceIdentity, boundary: hash(req.boundary) };
    case "oauth_scope":
      return { v: 1, mode: req.mode, source: sourceIdentity, scopes: req.scopes, target: req.targetServiceAccount };
    case "token_slot":
      return { v: 1, mode: req.mode, slot: req.slot };
  }
}
