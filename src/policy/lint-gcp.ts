/**
 * GCP checks for `downscope lint` (pure). The schema already bounds a
 * boundary to 1..10 rules with `inRole:` permissions; this adds what Google's
 * STS will refuse or silently ignore, so the mistake shows up at lint time
 * with a file:line instead of as a failed token exchange at run time.
 *
 * Credential Access Boundaries apply to Cloud Storage only:
 * https://cloud.google.com/iam/docs/downscoping-short-lived-credentials
 */
import type { LintCheck, LintIssue } from "./lint.js";
import type { AccessBoundaryRule, Service } from "./schema.js";

/** Google's limit on rules in one Credential Access Boundary. */
export const MAX_BOUNDARY_RULES = 10;

const STORAGE_RESOURCE = /^\/\/storage\.googleapis\.com\/projects\/_\/buckets\/([^/]+)$/;
// https://cloud.google.com/storage/docs/buckets#naming (dotted names may be up to 222 characters)
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Predefined Cloud Storage roles (the only ones a boundary may name). */
export const STORAGE_ROLES: ReadonlySet<string> = new Set([
  "roles/storage.objectViewer",
  "roles/storage.objectCreator",
  "roles/storage.objectUser",
  "roles/storage.objectAdmin",
  "roles/storage.admin",
  "roles/storage.bucketViewer",
  "roles/storage.legacyObjectReader",
  "roles/storage.legacyObjectOwner",
  "roles/storage.legacyBucketReader",
  "roles/storage.legacyBucketWriter",
  "roles/storage.legacyBucketOwner",
]);

export interface BoundaryProblem {
  /** Path below the boundary: [ruleIndex, field, ...]; [] for the boundary itself. */
  path: (string | number)[];
  severity: LintIssue["severity"];
  message: string;
}

/** What is wrong with a boundary, per rule. Errors mean STS would refuse it. */
export function boundaryProblems(rules: readonly AccessBoundaryRule[]): BoundaryProblem[] {
  const out: BoundaryProblem[] = [];
  if (rules.length === 0)
    out.push({ path: [], severity: "error", message: "an access boundary needs at least one rule" });
  if (rules.length > MAX_BOUNDARY_RULES)
    out.push({
      path: [],
      severity: "error",
      message: `${rules.length} rules: Google accepts at most ${MAX_BOUNDARY_RULES} access boundary rules per token; merge rules for the same bucket or use a CEL condition`,
    });
  rules.forEach((r, i) => {
    const m = STORAGE_RESOURCE.exec(r.available_resource);
    if (!m) {
      out.push({
        path: [i, "available_resource"],
        severity: "error",
        message: `"${r.available_resource}" is not a bucket resource name; expected //storage.googleapis.com/projects/_/buckets/BUCKET (access boundaries apply to Cloud Storage buckets only; narrow to objects with availability_condition)`,
      });
    } else if (!BUCKET_NAME.test(m[1]!) || m[1]!.includes("..")) {
      out.push({
        path: [i, "available_resource"],
        severity: "error",
        message: `"${m[1]}" is not a valid bucket name (3-222 characters: lowercase letters, digits, - _ .; starting and ending with a letter or digit)`,
      });
    }
    if (r.available_permissions.length === 0)
      out.push({ path: [i, "available_permissions"], severity: "error", message: "at least one permission is needed" });
    r.available_permissions.forEach((p, k) => {
      const role = p.startsWith("inRole:") ? p.slice("inRole:".length) : undefined;
      if (role === undefined || !role.startsWith("roles/")) {
        out.push({
          path: [i, "available_permissions", k],
          severity: "error",
          message: `"${p}": permissions are written inRole:roles/storage.objectViewer`,
        });
      } else if (!role.startsWith("roles/storage.")) {
        out.push({
          path: [i, "available_permissions", k],
          severity: "error",
          message: `"${role}" is not a Cloud Storage role; an access boundary can only name predefined Cloud Storage roles`,
        });
      } else if (!STORAGE_ROLES.has(role)) {
        out.push({
          path: [i, "available_permissions", k],
          severity: "warning",
          message: `"${role}" is not a predefined Cloud Storage role known to downscope; custom roles are not accepted in access boundaries`,
        });
      }
    });
    const c = r.availability_condition;
    if (c !== undefined) {
      if (c.expression.trim() === "") {
        out.push({
          path: [i, "availability_condition", "expression"],
          severity: "error",
          message:
            "a condition with a title or description needs a CEL expression, e.g. resource.name.startsWith('projects/_/buckets/logs/objects/2024/')",
        });
      } else if (!/resource\.name|api\.getAttribute/.test(c.expression)) {
        out.push({
          path: [i, "availability_condition", "expression"],
          severity: "warning",
          message:
            "access boundary conditions can only test resource.name, resource.type and api.getAttribute('storage.googleapis.com/objectListPrefix', ...); this expression uses neither resource.name nor api.getAttribute",
        });
      }
    }
  });
  return out;
}

/** OAuth scopes as Google expects them: short names get the googleapis prefix. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [
    ...new Set(
      scopes.map((s) =>
        /^https:\/\//.test(s) || ["openid", "email", "profile"].includes(s)
          ? s
          : `https://www.googleapis.com/auth/${s}`,
      ),
    ),
  ].sort();
}

function lintService(
  name: string,
  svc: Service,
  report: (path: (string | number)[], severity: LintIssue["severity"], message: string) => void,
): void {
  const base = ["services", name];
  const boundaryAt = (path: (string | number)[], rules: readonly AccessBoundaryRule[]) => {
    for (const p of boundaryProblems(rules)) report([...path, ...p.path], p.severity, p.message);
  };
  if (svc.access_boundary) boundaryAt([...base, "access_boundary"], svc.access_boundary);
  svc.rules.forEach((r, i) => {
    if (r.access_boundary) boundaryAt([...base, "rules", i, "access_boundary"], r.access_boundary);
  });

  const mode = svc.downscope_mode;
  svc.rules.forEach((r, i) => {
    const at = [...base, "rules", i];
    if (r.access_boundary && mode !== "credential_access_boundary")
      report(
        [...at, "access_boundary"],
        "warning",
        `ignored: access_boundary applies only with downscope_mode credential_access_boundary (this service uses ${mode})`,
      );
    if (r.scopes && mode !== "oauth_scope")
      report(
        [...at, "scopes"],
        "warning",
        `ignored: scopes apply only with downscope_mode oauth_scope (this service uses ${mode})`,
      );
  });
  const allowRules = svc.rules.map((r, i) => [r, i] as const).filter(([r]) => r.action === "allow");
  if (mode === "credential_access_boundary" && svc.access_boundary === undefined) {
    for (const [r, i] of allowRules)
      if (r.access_boundary === undefined)
        report(
          [...base, "rules", i],
          "error",
          `allow rule "${r.name}" has no access_boundary and the service has none: it could never get a credential`,
        );
    if (svc.default_action === "allow")
      report(
        base,
        "warning",
        "no service-level access_boundary: commands that no allow rule matches will be refused for lack of a credential",
      );
  }
  if (mode === "oauth_scope") {
    if (svc.scopes === undefined || svc.scopes.length === 0)
      for (const [r, i] of allowRules)
        if (r.scopes === undefined || r.scopes.length === 0)
          report(
            [...base, "rules", i],
            "error",
            `allow rule "${r.name}" has no scopes and the service has none: oauth_scope needs scopes such as cloud-platform.read-only`,
          );
    for (const [p, scopes] of [
      [[...base, "scopes"], svc.scopes] as const,
      ...svc.rules.map((r, i) => [[...base, "rules", i, "scopes"], r.scopes] as const),
    ])
      (scopes ?? []).forEach((s, k) => {
        if (s === "cloud-platform" || s === "https://www.googleapis.com/auth/cloud-platform")
          report(
            [...p, k],
            "warning",
            "cloud-platform is the full scope: it narrows nothing; use cloud-platform.read-only or a service-specific scope",
          );
      });
    if (svc.target_service_account === undefined)
      report(
        base,
        "warning",
        "no target_service_account: oauth_scope then works only when the source credential is a service account key (key_file)",
      );
  }
}

export const gcpLintCheck: LintCheck = (config, report) => {
  for (const [name, svc] of Object.entries(config.services)) lintService(name, svc, report);
};
