/**
 * IAM policy documents used as STS session policies (pure): structural
 * checks, minification and the plaintext size limit.
 *
 * Limits (STS API reference, AssumeRole / GetFederationToken, `Policy` and
 * `PolicyArns`): the plaintext of the inline session policy may not exceed
 * 2,048 characters (after we minify it); at most 10 managed policy ARNs; and
 * AWS packs the inline policy, the ARNs and session tags into a binary form
 * with its own, undisclosed limit, reported as `PackedPolicySize` (a
 * percentage) in the response and as PackedPolicyTooLarge when exceeded. The
 * packed size cannot be computed offline: lint checks the plaintext and the
 * mint warns when STS reports a packed size of 90 % or more.
 */
import type { Config } from "./schema.js";

export const SESSION_POLICY_MAX_CHARS = 2048;
export const SESSION_POLICY_MAX_ARNS = 10;
export const PACKED_POLICY_WARN_PERCENT = 90;

/** The compact JSON STS receives: no insignificant whitespace. */
export function minifyPolicy(doc: unknown): string {
  return JSON.stringify(doc);
}

const STATEMENT_KEYS = new Set([
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
]);

function stringOrStrings(v: unknown): boolean {
  return (
    (typeof v === "string" && v !== "") ||
    (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== ""))
  );
}

/**
 * Problems with a document as a session policy; [] when it is fine.
 * Each message is self-contained ("Statement[1]: ...").
 */
export function checkSessionPolicy(doc: unknown): string[] {
  const out: string[] = [];
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    return ["expected a JSON object (an IAM policy document)"];
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (k !== "Version" && k !== "Statement" && k !== "Id")
      out.push(`unknown top-level key "${k}" (expected Version, Statement, Id)`);
  }
  if (d.Version === undefined)
    out.push('missing "Version": use "2012-10-17" (without it IAM policy variables are not expanded)');
  else if (d.Version !== "2012-10-17" && d.Version !== "2008-10-17")
    out.push(`"Version" must be "2012-10-17" (or the old "2008-10-17"), got ${JSON.stringify(d.Version)}`);
  const st = d.Statement;
  const list = Array.isArray(st) ? st : st !== undefined && typeof st === "object" && st !== null ? [st] : undefined;
  if (list === undefined) {
    out.push('missing "Statement": a statement or a list of statements');
    return out;
  }
  if (list.length === 0) out.push('"Statement" is empty: the session could do nothing');
  list.forEach((s: unknown, i) => {
    const at = `Statement[${i}]`;
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      out.push(`${at}: expected an object`);
      return;
    }
    const stmt = s as Record<string, unknown>;
    for (const k of Object.keys(stmt)) if (!STATEMENT_KEYS.has(k)) out.push(`${at}: unknown key "${k}"`);
    if (stmt.Effect !== "Allow" && stmt.Effect !== "Deny")
      out.push(`${at}: "Effect" must be "Allow" or "Deny", got ${JSON.stringify(stmt.Effect)}`);
    if (stmt.Principal !== undefined || stmt.NotPrincipal !== undefined)
      out.push(`${at}: a session policy is an identity policy; remove "Principal"/"NotPrincipal"`);
    const hasA = stmt.Action !== undefined;
    const hasNA = stmt.NotAction !== undefined;
    if (hasA === hasNA) out.push(`${at}: give exactly one of "Action" or "NotAction"`);
    else if (!stringOrStrings(hasA ? stmt.Action : stmt.NotAction))
      out.push(`${at}: "${hasA ? "Action" : "NotAction"}" must be a string or a list of strings like "s3:GetObject"`);
    else {
      const acts = [hasA ? stmt.Action : stmt.NotAction].flat() as string[];
      for (const a of acts)
        if (a !== "*" && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a))
          out.push(`${at}: action "${a}" is not of the form service:Action (wildcards * and ? allowed)`);
    }
    const hasR = stmt.Resource !== undefined;
    const hasNR = stmt.NotResource !== undefined;
    if (hasR === hasNR) out.push(`${at}: give exactly one of "Resource" or "NotResource"`);
    else if (!stringOrStrings(hasR ? stmt.Resource : stmt.NotResource))
      out.push(`${at}: "${hasR ? "Resource" : "NotResource"}" must be a string or a list of strings ("*" or ARNs)`);
    else {
      const res = [hasR ? stmt.Resource : stmt.NotResource].flat() as string[];
      for (const r of res)
        if (r !== "*" && !r.startsWith("arn:")) out.push(`${at}: resource "${r}" is neither "*" nor an ARN`);
    }
    if (
      stmt.Condition !== undefined &&
      (typeof stmt.Condition !== "object" || stmt.Condition === null || Array.isArray(stmt.Condition))
    )
      out.push(`${at}: "Condition" must be an object`);
  });
  const text = minifyPolicy(doc);
  if (text.length > SESSION_POLICY_MAX_CHARS)
    out.push(
      `the minified policy is ${text.length} characters; STS accepts at most ${SESSION_POLICY_MAX_CHARS}: use wildcards, fewer statements, or managed policy ARNs (policy_arns)`,
    );
  // STS accepts \u0009, \u000A, \u000D and \u0020-\u00FF only.
  if (/[^\t\n\r\u0020-\u00ff]/.test(text))
    out.push("the policy contains characters outside the range STS accepts (\\u0020-\\u00FF)");
  return out;
}

/** lint: inline session policies (policy, inline_policy) and the number of ARNs. Files are checked by the CLI. */
export function awsInlinePolicyCheck(
  config: Config,
  report: (path: (string | number)[], severity: "error" | "warning", message: string) => void,
): void {
  for (const [name, svc] of Object.entries(config.services)) {
    if (svc.downscope_mode !== "sts_policy") continue;
    const base = ["services", name];
    if (svc.inline_policy !== undefined)
      for (const m of checkSessionPolicy(svc.inline_policy)) report([...base, "inline_policy"], "error", m);
    if ((svc.policy_arns?.length ?? 0) > SESSION_POLICY_MAX_ARNS)
      report([...base, "policy_arns"], "error", `at most ${SESSION_POLICY_MAX_ARNS} managed policy ARNs per session`);
    svc.rules.forEach((r, i) => {
      if (r.policy !== undefined)
        for (const m of checkSessionPolicy(r.policy)) report([...base, "rules", i, "policy"], "error", m);
      if ((r.policy_arns?.length ?? 0) > SESSION_POLICY_MAX_ARNS)
        report(
          [...base, "rules", i, "policy_arns"],
          "error",
          `at most ${SESSION_POLICY_MAX_ARNS} managed policy ARNs per session`,
        );
    });
  }
}
