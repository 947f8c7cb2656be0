/**
 * One interface for every way of obtaining a scoped credential. Providers live
 * one per file (github/token slots, aws, gcp, kube) and are chosen by the
 * grant's mode. Only exec/ (and the credential-process command) call them.
 */
import type { Grant } from "../policy/evaluate.js";
import type { Env } from "../paths.js";

/** A secret value with its expiry. `expiresAt` undefined: does not expire (a static token). */
export interface ScopedToken {
  value: string;
  expiresAt?: Date;
  /** Short, non-reversible fingerprint for the audit log (sha256 prefix). */
  fingerprint: string;
}

export interface ProviderContext {
  /** downscope's own environment (token sources are read from here). */
  env: Env;
  cwd: string;
  /** Current time; a collaborator so cache tests need no fake timers. */
  now: () => Date;
}

export interface CredentialProvider<T = ScopedToken> {
  /** Obtain the credential for a grant, or throw CredentialUnavailable naming the missing source. */
  obtain(grant: Grant, ctx: ProviderContext): Promise<T>;
}

/**
 * What a minting provider made, for the audit record and `--explain`: never
 * the token, only its fingerprint. `minted` false: served from the cache.
 */
export type MintInfo =
  | {
      kind: "github_app";
      permissions: Record<string, string>;
      repositories: string[];
      expires_at: string;
      fingerprint: string;
      minted: boolean;
    }
  | {
      kind: "token_request";
      service_account: string;
      audiences?: string[];
      expires_at: string;
      fingerprint: string;
      minted: boolean;
    };
