/**
 * A loaded policy: the config layers in order of precedence, each marked
 * trusted or not. Built by load.ts; read by evaluate.ts.
 */
import type { Config, Service } from "./schema.js";

/**
 * managed: /etc/downscope/config.yaml (organisation), always trusted.
 * user:    $XDG_CONFIG_HOME/downscope/config.yaml, always trusted.
 * project: .claude/downscoping.yaml found upward from cwd (or DOWNSCOPE_CONFIG);
 *          trusted only while its sha256 matches the one `downscope trust` pinned.
 */
export type LayerName = "managed" | "user" | "project";
export const LAYER_ORDER: readonly LayerName[] = ["managed", "user", "project"];

export interface Layer {
  name: LayerName;
  /** Absolute path of the file. */
  file: string;
  /** Whether credentials and other widening settings from this file are honoured. */
  trusted: boolean;
  /** Why the layer is not trusted (never trusted, or modified since). */
  untrustedReason?: string;
  config: Config;
  sha256: string;
}

export interface Policy {
  /** Present layers, most general first (managed, user, project). */
  layers: readonly Layer[];
  warnings: readonly string[];
}

/** Services in a layer that cover a CLI binary name. */
export function serviceForBinary(config: Config, binary: string): [string, Service] | undefined {
  for (const [name, svc] of Object.entries(config.services)) {
    if (svc.server !== undefined && svc.binary === undefined) continue;
    if ((svc.binary ?? name) === binary) return [name, svc];
  }
  return undefined;
}

/** The service in a layer that covers an MCP server. */
export function serviceForServer(config: Config, server: string): [string, Service] | undefined {
  for (const [name, svc] of Object.entries(config.services)) {
    if (svc.server === server) return [name, svc];
  }
  return undefined;
}

/** Every CLI binary name some layer covers (the hook looks for these). */
export function serviceBinaries(policy: Policy): Set<string> {
  const out = new Set<string>();
  for (const l of policy.layers)
    for (const [name, svc] of Object.entries(l.config.services)) {
      if (svc.server !== undefined && svc.binary === undefined) continue;
      out.add(svc.binary ?? name);
    }
  return out;
}

export function settingsOf(policy: Policy) {
  // Widening settings only from trusted layers; restricting ones from any.
  let autoApprove = true;
  const harmless = new Set<string>();
  let unresolved: "ask" | "deny" = "ask";
  let deadline: number | undefined;
  let margin: number | undefined;
  const protectReads: string[] = [];
  const allowReads: string[] = [];
  const containedWritable: string[] = [];
  for (const l of policy.layers) {
    const s = l.config.settings;
    if (!s) continue;
    protectReads.push(...(s.protect_reads ?? []));
    if (l.trusted) allowReads.push(...(s.allow_reads ?? []));
    if (l.trusted) containedWritable.push(...(s.contained_writable ?? []));
    // Any layer may turn auto-approval off; none can turn it back on.
    if (s.auto_approve === false) autoApprove = false;
    if (l.trusted) for (const h of s.harmless_commands ?? []) harmless.add(h);
    if (s.unresolved === "deny") unresolved = "deny";
    if (l.trusted && s.hook_deadline_ms !== undefined) deadline = s.hook_deadline_ms;
    if (l.trusted && s.cache_margin_seconds !== undefined) margin = s.cache_margin_seconds;
  }
  return {
    autoApprove,
    harmless,
    unresolved,
    hookDeadlineMs: deadline,
    cacheMarginSeconds: margin,
    protectReads,
    allowReads,
    containedWritable,
  };
}
