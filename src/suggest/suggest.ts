/**
 * A policy from practice (pure): the audit trail's service calls, decided
 * again under the current policy, turned into `command:` rules.
 *
 * What it promises, so that a suggestion is safe to adopt after a read:
 *  - it never allows a call the current policy does not allow: what was
 *    denied or reviewed (in the log or now) stays so; every restrictive rule
 *    of the current layers is kept, in order, above the new allow rules; the
 *    default becomes `review` (or stays `deny`), so what was not observed
 *    needs a human;
 *  - built-in guards are never relaxed: no `override_guards`;
 *  - an AWS session policy holds only actions the current one allows, on the
 *    same resources (each current Allow statement keeps its Resource and
 *    Condition and loses the actions never used); Deny statements stay;
 *  - after it is built, every observed call is decided under it, and an allow
 *    group that would let a restricted call through loses that alternative.
 * A log line someone forged (and `verify` missed) can therefore at most keep
 * something the current policy already allows.
 */
import { decideCommand, decideTool } from "../attacks/outcome.js";
import { analyzeCommand } from "../attacks/command-invocations.js";
import type { AuditEntry } from "../audit/record.js";
import { valueFlagsFor } from "../policy/cli-knowledge.js";
import { decide, type Decision } from "../policy/evaluate.js";
import type { Invocation } from "../policy/invocation.js";
import { covers } from "../policy/lint.js";
import { positionals } from "../policy/match.js";
import type { Policy } from "../policy/policy.js";
import type { Action, Config, IamPolicy, Rule, Service, TestCase } from "../policy/schema.js";
import { quote } from "../shell/quote.js";
import { compressActions, narrowSessionPolicy } from "./session-policy.js";

export interface Observed {
  service: string;
  inv: Invocation;
  /** The call as a test names it: a shell command, or the MCP tool. */
  command: string;
  /** The decision under the current policy. */
  current: Decision;
  /** deny/review when a log record of this call alone said so; else undefined. */
  logged?: "deny" | "review";
  count: number;
  last: string;
}

export interface SuggestOptions {
  since?: number;
  service?: string;
}

/** The service calls of the trail (hook, exec and mcp records), each decided under `policy`. */
export function observe(entries: readonly AuditEntry[], policy: Policy, opts: SuggestOptions = {}): Observed[] {
  // A trail repeats itself: each distinct call is decided once, each distinct hook command analysed once.
  const seen = new Map<string, Observed | null>();
  const analysed = new Map<string, ReturnType<typeof analyzeCommand>>();
  const add = (inv: Invocation, command: string, logged: Observed["logged"], time: string) => {
    const key = `${inv.kind === "mcp" ? `mcp ${inv.server}` : "cli"}\0${command}`;
    let o = seen.get(key);
    if (o === undefined) {
      const current = decide(policy, inv);
      o =
        current.service === undefined || (opts.service !== undefined && current.service !== opts.service)
          ? null
          : { service: current.service, inv, command, current, logged, count: 0, last: time };
      seen.set(key, o);
    }
    if (o === null) return;
    o.count++;
    if (time > o.last) o.last = time;
    if (logged === "deny" || (logged === "review" && o.logged === undefined)) o.logged = logged;
  };
  const analyse = (command: string) => {
    let a = analysed.get(command);
    if (a === undefined) analysed.set(command, (a = analyzeCommand(command)));
    return a;
  };
  for (const e of entries) {
    if (opts.since !== undefined && Date.parse(e.time) < opts.since) continue;
    const restrictive = e.action === "deny" || e.action === "review" ? e.action : undefined;
    if (e.event === "exec" && e.argv && e.argv.length > 0) {
      const [bin, ...args] = e.argv;
      const inv: Invocation = { kind: "cli", binary: baseName(bin!), args };
      add(inv, [baseName(bin!), ...args].map(quote).join(" "), restrictive, e.time);
    } else if (e.event === "hook" && e.argv?.length === 1) {
      const a = analyse(e.argv[0]!);
      if (a.invalid !== undefined) continue;
      for (const inv of a.invocations) {
        if (inv.kind !== "cli") continue;
        add(
          inv,
          [inv.binary, ...inv.args].map(quote).join(" "),
          a.invocations.length === 1 ? restrictive : undefined,
          e.time,
        );
      }
    } else if (e.event === "mcp" && e.tool !== undefined && e.service !== undefined) {
      const inv: Invocation = { kind: "mcp", server: e.service, tool: e.tool, arguments: {} };
      add(inv, e.tool, restrictive, e.time);
    }
  }
  return [...seen.values()].filter((o): o is Observed => o !== null);
}

function baseName(p: string): string {
  const i = p.lastIndexOf("/");
  return i === -1 ? p : p.slice(i + 1);
}

/** What the observed call was, in effect: the current decision, made stricter by a restrictive log record. */
export function effectiveAction(o: Observed): Action {
  const rank = { allow: 0, review: 1, deny: 2 } as const;
  const a = o.current.action;
  return o.logged !== undefined && rank[o.logged] > rank[a] ? o.logged : a;
}

// --- command paths -------------------------------------------------------------

const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const GH_ONE_WORD = new Set(["api", "browse", "status", "search"]);
const GCLOUD_VERB =
  /^(list|describe|create|delete|update|get|set|add|remove|ls|cp|mv|rm|cat|read|deploy|ssh|scp|start|stop|reset|resize|patch|call|submit|cancel|run|import|export|enable|disable|apply|tail|logs|connect|print|write|sign|activate|search|diff|resume|suspend|rollback|promote|wait)(-|$)/;
const KUBECTL_RESOURCE_VERBS = new Set([
  "get",
  "describe",
  "delete",
  "create",
  "edit",
  "patch",
  "label",
  "annotate",
  "scale",
  "explain",
  "top",
  "rollout",
  "set",
  "expose",
  "autoscale",
]);

/**
 * The subcommand path a rule names for this call (`pr list`, `ec2
 * describe-instances`, `compute instances list`, `get pods`), read as the
 * matcher's known reading does; undefined when a word is not plain (a `*` or
 * `|` in an argument must never become a wildcard in a rule).
 */
export function commandPath(
  binary: string,
  args: readonly string[],
  extraValueFlags?: readonly string[],
): string[] | undefined {
  const words = positionals(args, valueFlagsFor(binary, extraValueFlags), "known");
  if (words.length === 0) return undefined;
  let path: string[];
  switch (binary) {
    case "gh":
      path = words.slice(0, GH_ONE_WORD.has(words[0]!) ? 1 : 2);
      break;
    case "aws":
      path = words.slice(0, 2);
      break;
    case "gcloud": {
      const start = ["alpha", "beta", "preview"].includes(words[0]!) ? 1 : 0;
      const verb = words.findIndex((w, i) => i > start && GCLOUD_VERB.test(w));
      path = verb === -1 ? words.slice(0, Math.min(words.length, start + 3)) : words.slice(0, verb + 1);
      break;
    }
    case "kubectl": {
      const verb = words[0]!;
      const second = words[1]?.split("/")[0];
      path = KUBECTL_RESOURCE_VERBS.has(verb) && second !== undefined && second !== "" ? [verb, second] : [verb];
      break;
    }
    default:
      path = words.slice(0, 2);
  }
  return path.every((w) => SAFE_WORD.test(w)) ? path : undefined;
}

const READ_WORD =
  /^(list|ls|view|get|describe|show|status|search|diff|checks|logs|log|top|explain|version|cat|head|tail|info|read|watch|api-resources|api-versions|cluster-info|whoami|lookup|query|scan|batch-get|filter|select|download|browse|clone|checkout|wait|test-iam-permissions|presign)(-|$)/;

/** Is this call a read (it runs on the read-only slot)? */
export function isRead(binary: string, path: readonly string[], args: readonly string[]): boolean {
  if (binary === "gh" && path[0] === "api") {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (/^(-f|-F|--field|--raw-field|--input)(=|$)/.test(a) || /^-[fF]./.test(a)) return false;
      const m = /^(?:-X|--method)(?:=(.*))?$/.exec(a) ?? /^-X(.+)$/.exec(a);
      if (m) {
        const method = m[1] ?? args[i + 1] ?? "";
        if (method.toUpperCase() !== "GET") return false;
      }
    }
    return true;
  }
  const verb = binary === "kubectl" ? path[0]! : path[path.length - 1]!;
  return READ_WORD.test(verb);
}

// --- the suggestion ------------------------------------------------------------

export interface AwsInfo {
  /** IAM actions of `aws <service> <command>`, undefined when unknown. */
  actions: (service: string, command: string) => string[] | undefined;
  /** Where the service models were read from (for the comment); undefined if not found. */
  modelsDir: string | undefined;
  /** The current session policy document of each sts_policy service, when known. */
  currentPolicy: (service: string) => IamPolicy | undefined;
}

export interface ServiceNotes {
  /** Comment lines above the service. */
  comments: string[];
}

export interface Suggestion {
  config: Config;
  /** Per service name: comment lines for the rendered file. */
  notes: Record<string, ServiceNotes>;
  /** Header comment lines. */
  header: string[];
  observed: Observed[];
}

const API_WRITE_FLAGS = ["-X", "--method", "-f", "-F", "--field", "--raw-field", "--input"];
const MAX_TESTS = 200;

export function buildSuggestion(
  policy: Policy,
  observed: Observed[],
  aws?: AwsInfo,
  header: string[] = [],
): Suggestion {
  const services: Record<string, Service> = {};
  const notes: Record<string, ServiceNotes> = {};
  const byService = new Map<string, Observed[]>();
  for (const o of observed) byService.set(o.service, [...(byService.get(o.service) ?? []), o]);

  for (const [name, obs] of [...byService.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const layers = policy.layers.flatMap((l) => {
      const svc = l.config.services[name];
      return svc ? [{ layer: l, svc }] : [];
    });
    const base = layers[layers.length - 1]?.svc;
    if (base === undefined) continue;
    const comments: string[] = [];
    const built = suggestService(
      name,
      base,
      layers.map((l) => l.svc),
      obs,
      comments,
      aws,
    );
    services[name] = built;
    notes[name] = { comments };
  }

  let config: Config = { version: 1, services };
  const settings = policy.layers[policy.layers.length - 1]?.config.settings;
  if (settings?.unresolved === "deny") config.settings = { unresolved: "deny" };

  // Fixpoint: no allow group may let a call through that was restricted.
  for (let round = 0; round < 50; round++) {
    const p = asPolicy(config);
    let changed = false;
    for (const o of observed) {
      const eff = effectiveAction(o);
      if (eff === "allow") continue;
      const d = decide(p, o.inv);
      if (d.action !== "allow" || d.source !== "rule" || d.rule === undefined) continue;
      const svc = config.services[o.service]!;
      const rule = svc.rules[d.rule.index]!;
      svc.rules = narrowRule(svc.rules, d.rule.index, o, rule);
      changed = true;
    }
    if (!changed) break;
    config = { ...config };
  }

  // Tests: every observed call (up to MAX_TESTS), expecting what the suggestion decides.
  const p = asPolicy(config);
  const tests: TestCase[] = [];
  for (const o of [...observed].sort((a, b) => b.count - a.count).slice(0, MAX_TESTS)) {
    const got = o.inv.kind === "cli" ? decideCommand(p, o.command) : decideTool(p, o.inv.server, o.inv.tool, {});
    if (got.action === "ask") continue;
    const t: TestCase =
      o.inv.kind === "cli"
        ? { command: o.command, expect: got.action }
        : { tool: o.inv.tool, server: o.inv.server, expect: got.action };
    if (got.action === "allow" && got.slot !== undefined) t.slot = got.slot;
    tests.push(t);
  }
  if (tests.length) config.tests = tests;
  return { config, notes, header, observed };
}

function asPolicy(config: Config): Policy {
  return { layers: [{ name: "project", file: "(suggestion)", trusted: true, config, sha256: "" }], warnings: [] };
}

/** Removes the alternative of `rule` that let `o` through (or the rule, if that was its only one). */
function narrowRule(rules: Rule[], index: number, o: Observed, rule: Rule): Rule[] {
  const out = [...rules];
  const words = rule.match.command;
  if (o.inv.kind === "cli" && words !== undefined && words.length > 0) {
    const path = commandPath(o.inv.binary, o.inv.args);
    const last = words[words.length - 1]!;
    const word = path?.[words.length - 1];
    const alts = last.split("|").filter((a) => a !== word);
    if (word !== undefined && alts.length > 0 && alts.length < last.split("|").length) {
      out[index] = { ...rule, match: { ...rule.match, command: [...words.slice(0, -1), alts.join("|")] } };
      return out;
    }
  }
  const inv = o.inv;
  if (inv.kind === "mcp" && rule.match.tools !== undefined) {
    const tools = rule.match.tools.filter((t) => t !== inv.tool);
    if (tools.length > 0 && tools.length < rule.match.tools.length) {
      out[index] = { ...rule, match: { ...rule.match, tools } };
      return out;
    }
  }
  out.splice(index, 1);
  return out;
}

function suggestService(
  name: string,
  base: Service,
  all: readonly Service[],
  obs: readonly Observed[],
  comments: string[],
  aws: AwsInfo | undefined,
): Service {
  // Credential settings come from the most specific layer; rules are rebuilt.
  const { rules: _rules, default_action: currentDefault, ...settings } = base;
  void _rules;
  const svc: Service = { ...settings, default_action: currentDefault === "deny" ? "deny" : "review", rules: [] };
  // passthrough (run with the ambient credential) is not suggested; deny is the default and left unsaid.
  delete (svc as Partial<Service>).on_missing_credential;

  // 1. Every restrictive rule of every layer, in order (restrictions are never dropped).
  const kept = new Set<string>();
  for (const s of all)
    for (const r of s.rules)
      if (r.action !== "allow") {
        const key = JSON.stringify(r);
        if (!kept.has(key)) {
          kept.add(key);
          // Merged from several layers, an `examples:` list may be decided by a rule of another layer now above it.
          if (all.length > 1 && r.examples !== undefined) {
            const { examples: _examples, ...rest } = r;
            void _examples;
            svc.rules.push(rest);
          } else svc.rules.push(r);
        }
      }
  const keptCount = svc.rules.length;

  const isMcp = obs[0]!.inv.kind === "mcp";
  const readSlot = pickReadSlot(base);
  if (readSlot !== undefined) svc.default_slot = readSlot;

  // 2. Calls denied by a default (no rule names them): an explicit deny, so a `review` default does not soften them.
  const denyPaths = new Map<string, string[]>();
  const allowGroups = new Map<
    string,
    { words: string[]; last: Set<string>; slot?: string; read: boolean; count: number }
  >();
  const tools = new Map<string, string | undefined>();
  const pathOwner = new Map<string, string>();
  const unmapped = new Set<string>();
  const awsReads = new Set<string>();
  let apiAllowed = false;

  for (const o of obs) {
    const eff = effectiveAction(o);
    if (o.inv.kind === "mcp") {
      if (eff === "allow") tools.set(o.inv.tool, o.current.grant?.slot);
      continue;
    }
    const path = commandPath(o.inv.binary, o.inv.args, base.value_flags);
    if (path === undefined) {
      if (eff === "allow")
        comments.push(`not turned into a rule (an argument is not a plain word): ${truncate(o.command)}`);
      continue;
    }
    if (eff === "deny" && o.current.source === "default") denyPaths.set(path.join(" "), path);
    if (eff !== "allow") continue;
    const read = isRead(o.inv.binary, path, o.inv.args);
    if (o.inv.binary === "gh" && path[0] === "api") {
      apiAllowed = true;
      // A write through gh api goes to the review rule above the api allow.
      if (!read) continue;
    }
    let slot: string | undefined;
    if (svc.downscope_mode === "token_slot")
      slot = read && readSlot !== undefined ? readSlot : (o.current.grant?.slot ?? readSlot);
    const prefix = path.slice(0, -1);
    const key = JSON.stringify([read, slot ?? null, prefix]);
    // One path, one rule: a second slot for the same path would be a rule that can never match.
    const pathKey = path.join(" ");
    const owner = pathOwner.get(pathKey);
    if (owner !== undefined && owner !== key) continue;
    pathOwner.set(pathKey, key);
    const g = allowGroups.get(key) ?? { words: prefix, last: new Set<string>(), slot, read, count: 0 };
    g.last.add(path[path.length - 1]!);
    g.count += o.count;
    allowGroups.set(key, g);
    if (svc.downscope_mode === "sts_policy" && o.inv.binary === "aws" && path.length === 2) {
      const acts = aws?.actions(path[0]!, path[1]!);
      if (acts === undefined) unmapped.add(path.join(" "));
      else for (const a of acts) awsReads.add(a);
    }
  }

  // A new restrictive rule only where no rule above already covers it (lint would call it unreachable).
  const pushRestrictive = (r: Rule) => {
    if (!svc.rules.some((earlier) => covers(earlier, r))) svc.rules.push(r);
  };
  if (apiAllowed)
    pushRestrictive({
      name: "gh api writes need a human",
      match: { command: ["api"], flags: API_WRITE_FLAGS },
      action: "review",
      reason: "gh api with a method or fields can write; the observed calls were reads",
    });
  for (const [key, path] of [...denyPaths.entries()].sort())
    pushRestrictive({ name: `observed denial: ${key}`, match: { command: path }, action: "deny" });

  const groups = [...allowGroups.values()].sort(
    (a, b) => Number(b.read) - Number(a.read) || a.words.join(" ").localeCompare(b.words.join(" ")),
  );
  for (const g of groups) {
    const last = [...g.last].sort();
    const words = [...g.words, last.join("|")];
    const rule: Rule = {
      name: truncate(
        `${g.read ? "observed reads" : "observed writes"}: ${g.words.join(" ")}${g.words.length ? " " : ""}${last.join(", ")}`,
        90,
      ),
      match: { command: words },
      action: "allow",
    };
    if (g.slot !== undefined && (!g.read || g.slot !== readSlot)) rule.slot = g.slot;
    svc.rules.push(rule);
  }
  if (isMcp && tools.size > 0) {
    const bySlot = new Map<string | undefined, string[]>();
    for (const [t, s] of tools) bySlot.set(s, [...(bySlot.get(s) ?? []), t]);
    for (const [slot, ts] of bySlot) {
      const rule: Rule = {
        name: `observed tools${slot ? ` (${slot})` : ""}`,
        match: { tools: ts.sort() },
        action: "allow",
      };
      if (slot !== undefined && slot !== svc.default_slot) rule.slot = slot;
      svc.rules.push(rule);
    }
  }

  comments.push(
    `${svc.rules.length - keptCount} rule(s) from ${obs.length} observed call(s); ${keptCount} restrictive rule(s) kept from the current policy; default_action ${svc.default_action}: what was not observed needs a human`,
  );

  // AWS: a session policy of exactly the actions the allowed calls used.
  if (svc.downscope_mode === "sts_policy" && aws !== undefined) {
    if (aws.modelsDir === undefined) {
      comments.push(
        "the AWS CLI's service models were not found (set DOWNSCOPE_AWS_MODELS to botocore/data), so the session policy is the current one",
      );
    } else if (awsReads.size > 0) {
      const current = aws.currentPolicy(name);
      const narrowed = narrowSessionPolicy(current, [...awsReads].sort());
      const packed = compressActions(narrowed);
      delete svc.policy_file;
      delete svc.policy_arns;
      svc.inline_policy = packed.doc;
      comments.push(
        `session policy: the ${awsReads.size} IAM action(s) the allowed commands used (from the service models in ${aws.modelsDir})${current ? ", each only where the current session policy allowed it, on its resources" : ""}`,
      );
      if (narrowed.dropped.length)
        comments.push(
          `left out because the current session policy does not allow them: ${narrowed.dropped.join(", ")}`,
        );
      if (packed.compressed.length)
        comments.push(
          `wildcard-compressed to stay under the 2,048-character limit (${packed.size} characters): ${packed.compressed.join(", ")}`,
        );
      if (packed.size > 2048)
        comments.push(
          `still ${packed.size} characters, over the 2,048-character limit: split the allow rules and give each its own policy`,
        );
    }
    if (unmapped.size)
      comments.push(
        `no IAM action known for: ${[...unmapped].sort().join(", ")} (add their actions to inline_policy by hand)`,
      );
  }
  return svc;
}

function pickReadSlot(s: Service): string | undefined {
  const slots = Object.keys(s.token_slots ?? {});
  return slots.find((n) => /read|(^|[-_])ro($|[-_])|view/i.test(n)) ?? s.default_slot;
}

function truncate(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
