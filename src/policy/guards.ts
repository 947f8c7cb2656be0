/**
 * Built-in guards: subcommands that print, mint or change stored credentials,
 * and flags that select another credential or send the scoped one elsewhere.
 * Letting the agent run them would hand it a token to use outside downscope.
 *
 * They apply to every service whose binary is one of these CLIs, after the
 * policy's own rules: a trusted allow rule with `override_guards: true` re-allows one,
 * a default allow does not. See docs/exec.md for the research behind the list.
 */
import type { Match } from "./schema.js";

export interface Guard {
  name: string;
  match: Match;
  reason: string;
  /** Always deny: present so a guard list compiles like a rule list (match.ts cliMatchers). */
  action: "deny";
}

const cred = "it would print or change a stored credential, handing the agent a token to use outside downscope";
const select = "it selects a credential other than the scoped one";
const endpoint = "it would send the scoped credential to another endpoint; list the host in allowed_hosts to permit it";

const LIST: Readonly<Record<string, readonly Omit<Guard, "action">[]>> = {
  gh: [
    { name: "gh auth", match: { command: ["auth"] }, reason: cred },
    {
      name: "gh extension install/exec",
      match: { command: ["extension"] },
      reason: "extensions run arbitrary code with the token",
    },
    {
      name: "gh alias set --shell",
      match: { command: ["alias", "set"], flags: ["--shell", "-s"] },
      reason: "shell aliases run arbitrary commands with the token",
    },
    { name: "gh secret", match: { command: ["secret"] }, reason: "secrets are credentials" },
  ],
  kubectl: [
    { name: "kubectl config view --raw", match: { command: ["config", "view"], flags: ["--raw"] }, reason: cred },
    { name: "kubectl config set-credentials", match: { command: ["config", "set-credentials"] }, reason: cred },
    { name: "kubectl config use-context", match: { command: ["config", "use-context"] }, reason: select },
    { name: "kubectl config set", match: { command: ["config", "set"] }, reason: cred },
    { name: "kubectl create token", match: { command: ["create", "token"] }, reason: cred },
    {
      name: "kubectl proxy",
      match: { command: ["proxy"] },
      reason: "it serves the cluster API with the token to anything on the machine",
    },
    { name: "kubectl plugin", match: { command: ["plugin"] }, reason: "plugins run arbitrary code with the token" },
    {
      name: "kubectl credential flags",
      match: {
        flags: [
          "--kubeconfig",
          "--token",
          "--user",
          "--username",
          "--password",
          "--client-certificate",
          "--client-key",
          "--as",
          "--as-group",
          "--as-uid",
        ],
      },
      reason: select,
    },
    { name: "kubectl endpoint override", match: { flags: ["-s", "--server"] }, reason: endpoint },
  ],
  aws: [
    { name: "aws configure", match: { command: ["configure"] }, reason: cred },
    { name: "aws sso login", match: { command: ["sso"] }, reason: cred },
    {
      name: "aws sts get-session-token",
      match: { command: ["sts", "get-session-token"] },
      reason: "it mints credentials that escape the session policy",
    },
    {
      name: "aws sts credential minting",
      match: {
        command: ["sts", "assume-role|assume-role-with-saml|assume-role-with-web-identity|get-federation-token"],
      },
      reason: "it mints credentials that escape the session policy",
    },
    {
      name: "aws ecr get-login-password",
      match: { command: ["ecr|ecr-public", "get-login-password|get-authorization-token"] },
      reason: cred,
    },
    { name: "aws eks get-token", match: { command: ["eks", "get-token"] }, reason: cred },
    {
      name: "aws codeartifact get-authorization-token",
      match: { command: ["codeartifact", "get-authorization-token"] },
      reason: cred,
    },
    { name: "aws --profile", match: { flags: ["--profile"] }, reason: select },
    { name: "aws endpoint override", match: { flags: ["--endpoint-url"] }, reason: endpoint },
  ],
  gcloud: [
    { name: "gcloud auth", match: { command: ["auth"] }, reason: cred },
    {
      name: "gcloud config set",
      match: { command: ["config", "set"] },
      reason: "it changes stored settings, including the account",
    },
    {
      name: "gcloud service account keys create",
      match: { command: ["iam", "service-accounts", "keys", "create"] },
      reason: cred,
    },
    { name: "gcloud config config-helper", match: { command: ["config", "config-helper"] }, reason: cred },
    {
      name: "gcloud alpha/beta config config-helper",
      match: { command: ["alpha|beta|preview", "config", "config-helper"] },
      reason: cred,
    },
    // Release tracks carry the same command groups (gcloud beta auth print-access-token).
    { name: "gcloud alpha/beta auth", match: { command: ["alpha|beta|preview", "auth"] }, reason: cred },
    {
      name: "gcloud alpha/beta config set",
      match: { command: ["alpha|beta|preview", "config", "set"] },
      reason: "it changes stored settings, including the account",
    },
    {
      name: "gcloud alpha/beta service account keys create",
      match: { command: ["alpha|beta|preview", "iam", "service-accounts", "keys", "create"] },
      reason: cred,
    },
    {
      name: "gcloud credential flags",
      match: {
        flags: [
          "--access-token-file",
          "--impersonate-service-account",
          "--account",
          "--credential-file-override",
          "--configuration",
          // Hidden global flags (calliope/cli.py): another token or an authority header.
          "--authorization-token-file",
          "--authority-selector",
        ],
      },
      reason: select,
    },
    {
      // A YAML file of flags: it can carry any of the flags above past the argv check.
      name: "gcloud --flags-file",
      match: { flags: ["--flags-file"] },
      reason: "the file can carry credential-selecting flags that downscope cannot see",
    },
  ],
};

export const GUARDS: Readonly<Record<string, readonly Guard[]>> = Object.fromEntries(
  Object.entries(LIST).map(([binary, guards]) => [binary, guards.map((g) => ({ ...g, action: "deny" as const }))]),
);
