/**
 * GitHub App permission names and the levels GitHub accepts for each, as in
 * the `permissions` body of "Create an installation access token for an app"
 * (https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app,
 * the `app-permissions` schema). Pure data for `lint` and the provider.
 */
import type { z } from "zod";
import type { PermissionLevelSchema } from "./schema.js";

export type PermissionLevel = z.infer<typeof PermissionLevelSchema>;

const RW: readonly PermissionLevel[] = ["read", "write"];
const RWA: readonly PermissionLevel[] = ["read", "write", "admin"];
const R: readonly PermissionLevel[] = ["read"];
const W: readonly PermissionLevel[] = ["write"];

export const GITHUB_PERMISSIONS: Readonly<Record<string, readonly PermissionLevel[]>> = {
  // Repository permissions
  actions: RW,
  administration: RW,
  attestations: RW,
  checks: RW,
  codespaces: RW,
  contents: RW,
  dependabot_secrets: RW,
  deployments: RW,
  environments: RW,
  issues: RW,
  metadata: RW,
  packages: RW,
  pages: RW,
  pull_requests: RW,
  repository_custom_properties: RW,
  repository_hooks: RW,
  repository_projects: RWA,
  secret_scanning_alerts: RW,
  secrets: RW,
  security_events: RW,
  single_file: RW,
  statuses: RW,
  vulnerability_alerts: RW,
  workflows: W,
  // Organization permissions
  members: RW,
  organization_administration: RW,
  organization_announcement_banners: RW,
  organization_copilot_seat_management: W,
  organization_custom_org_roles: RW,
  organization_custom_properties: RWA,
  organization_custom_roles: RW,
  organization_events: R,
  organization_hooks: RW,
  organization_packages: RW,
  organization_personal_access_token_requests: RW,
  organization_personal_access_tokens: RW,
  organization_plan: R,
  organization_projects: RWA,
  organization_secrets: RW,
  organization_self_hosted_runners: RW,
  organization_user_blocking: RW,
  team_discussions: RW,
  // Account permissions
  email_addresses: RW,
  followers: RW,
  git_ssh_keys: RW,
  gpg_keys: RW,
  interaction_limits: RW,
  profile: W,
  starring: RW,
};

/** Permissions that change who may do what, or run code: worth a warning on an agent's token. */
export const SENSITIVE_PERMISSIONS = new Set([
  "administration",
  "organization_administration",
  "members",
  "secrets",
  "organization_secrets",
  "dependabot_secrets",
  "workflows",
  "repository_hooks",
  "organization_hooks",
  "organization_personal_access_tokens",
]);
