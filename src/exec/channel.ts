/**
 * A channel hands a scoped credential to one CLI the way that CLI reads it
 * (gh: GH_TOKEN and a private GH_CONFIG_DIR; kubectl: a private KUBECONFIG;
 * aws: a private AWS config whose profile uses credential_process; gcloud: an
 * access-token file and a private CLOUDSDK_CONFIG; custom: inject_as or
 * inject_file_env). One channel per file under exec/channels/.
 *
 * A channel only prepares: it returns the child's complete environment (built
 * by stripping the ambient credentials first, then setting the scoped ones)
 * and never spawns the CLI itself.
 */
import type { Decision, Grant } from "../policy/evaluate.js";
import type { Env } from "../paths.js";
import type { MintInfo } from "../credentials/provider.js";

export interface ChannelInput {
  decision: Decision;
  grant: Grant;
  /** The service's binary name (gh, aws, ...). */
  binary: string;
  /** Absolute path of the pinned real binary. */
  realBinary: string;
  args: readonly string[];
  /** downscope-exec's own environment (the agent's, plus whatever the user exported). Token sources read it. */
  parentEnv: Env;
  /**
   * parentEnv without every variable any token slot of any service reads, the
   * service's `strip_env` and downscope's internal variables. Channels build
   * the child's environment from this, never from parentEnv.
   */
  baseEnv: Readonly<Record<string, string>>;
  cwd: string;
  /** A private directory (0700) removed on every exit path; put credential files here (0600). */
  tmpDir: string;
  now: () => Date;
  /**
   * Contained mode: the child runs confined (src/exec/confine.ts), and the
   * credential goes only into its environment, never into a file: the
   * namespace it runs in then holds no secret on any path.
   */
  confined?: boolean;
}

export interface ChildPlan {
  /** The child's complete environment. */
  env: Record<string, string>;
  /** Secret values handed out, for redaction and the audit fingerprint. Never logged. */
  secrets: string[];
  /** What was minted for this command (github_app, token_request), for the audit record. */
  minted?: MintInfo;
  /** Started once the child runs (e.g. keep a token file fresh); the returned function stops it. */
  whileRunning?: () => () => void;
}

export type Channel = (input: ChannelInput) => Promise<ChildPlan>;
