import { describe, expect, it } from "vitest";
import { checkSessionPolicy, minifyPolicy } from "../../src/policy/iam.js";
import { ServiceSchema, type Rule } from "../../src/policy/schema.js";
import type { Grant } from "../../src/policy/evaluate.js";
import {
  buildMintRequest,
  mintCacheKey,
  sessionNameFor,
  sourceError,
  stsError,
  stsInput,
  type AwsMintRequest,
} from "../../src/credentials/aws.js";
import { packageRoot } from "../../src/package-root.js";
import { sandbox } from "../helpers/sandbox.js";

const ok = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] };

describe("checkSessionPolicy", () => {
  it.each([
    ["a valid policy", ok, []],
    [
      "a single statement object",
      { Version: "2012-10-17", Statement: { Effect: "Deny", NotAction: ["iam:*"], NotResource: "*" } },
      [],
    ],
    ["no Version", { Statement: ok.Statement }, ['missing "Version"']],
    ["a bad Version", { ...ok, Version: "2020-01-01" }, ['"Version" must be']],
    ["no Statement", { Version: "2012-10-17" }, ['missing "Statement"']],
    [
      "Effect Permit",
      { ...ok, Statement: [{ Effect: "Permit", Action: "s3:*", Resource: "*" }] },
      ['"Effect" must be "Allow" or "Deny"'],
    ],
    [
      "Action and NotAction",
      { ...ok, Statement: [{ Effect: "Allow", Action: "s3:*", NotAction: "iam:*", Resource: "*" }] },
      ['exactly one of "Action" or "NotAction"'],
    ],
    [
      "no Resource",
      { ...ok, Statement: [{ Effect: "Allow", Action: "s3:*" }] },
      ['exactly one of "Resource" or "NotResource"'],
    ],
    [
      "a Principal",
      { ...ok, Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" }] },
      ['remove "Principal"'],
    ],
    [
      "a malformed action",
      { ...ok, Statement: [{ Effect: "Allow", Action: "s3 GetObject", Resource: "*" }] },
      ["not of the form service:Action"],
    ],
    [
      "a resource that is no ARN",
      { ...ok, Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "my-bucket" }] },
      ['neither "*" nor an ARN'],
    ],
    ["an unknown key", { ...ok, Statment: [] }, ['unknown top-level key "Statment"']],
    ["not an object", [ok], ["expected a JSON object"]],
  ])("%s", (_name, doc, expected) => {
    const problems = checkSessionPolicy(doc);
    if (expected.length === 0) expect(problems).toEqual([]);
    for (const e of expected) expect(problems.join("\n")).toContain(e);
  });

  it("limits the minified plaintext to 2048 characters", () => {
    const big = (n: number) => ({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: Array.from({ length: n }, (_, i) => `arn:aws:s3:::b${i}/*`),
        },
      ],
    });
    let n = 1;
    while (minifyPolicy(big(n + 1)).length <= 2048) n++;
    expect(checkSessionPolicy(big(n))).toEqual([]);
    expect(checkSessionPolicy(big(n + 1)).join()).toMatch(
      /minified policy is \d+ characters; STS accepts at most 2048/,
    );
  });
});

function grant(svc: Record<string, unknown>, rule?: Partial<Rule>, file = "/etc/downscope/config.yaml"): Grant {
  return {
    service: "aws",
    mode: "sts_policy",
    layer: "user",
    file,
    config: ServiceSchema.parse({ downscope_mode: "sts_policy", ...svc }),
    ...(rule ? { rule: { name: "r", match: {}, action: "allow", ...rule } } : {}),
  };
}
const opts = { env: {}, packageRoot: packageRoot() };

describe("request construction", () => {
  it("AssumeRole with the rule's policy, ARNs, duration and a session name naming downscope and the rule", () => {
    const req = buildMintRequest(
      grant(
        { role_arn: "arn:aws:iam::1:role/agent", duration_seconds: 1800, region: "eu-west-1" },
        { name: "s3 cp → reports!", policy: ok, policy_arns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] },
      ),
      opts,
    );
    expect(stsInput(req)).toEqual({
      RoleArn: "arn:aws:iam::1:role/agent",
      RoleSessionName: "downscope.aws.s3-cp-reports-",
      Policy: JSON.stringify(ok),
      PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
      DurationSeconds: 1800,
    });
    expect(req.region).toBe("eu-west-1");
  });

  it("GetFederationToken without role_arn; the service's inline policy; default duration 3600", () => {
    const req = buildMintRequest(grant({ inline_policy: ok }), opts);
    expect(stsInput(req)).toEqual({ Name: "ds.default", Policy: JSON.stringify(ok), DurationSeconds: 3600 });
  });

  it("the packaged read-only policy when nothing is configured", () => {
    const req = buildMintRequest(grant({}), opts);
    expect(req.policyOrigin).toContain("policies/aws/read-only.json");
    expect(JSON.parse(req.policy!).Statement[0].Sid).toBe("ReadOnly");
  });

  it("managed policy ARNs alone send no inline policy", () => {
    const req = buildMintRequest(grant({ policy_arns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }), opts);
    expect(stsInput(req)).toEqual({
      Name: "ds.default",
      PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
      DurationSeconds: 3600,
    });
  });

  it("policy_file: next to the config file first, then the package's policies/", () => {
    const sb = sandbox();
    const cfg = sb.write("cfg/config.yaml", "version: 1\n");
    sb.write("cfg/mine.json", JSON.stringify(ok));
    expect(buildMintRequest(grant({}, { policy_file: "mine.json" }, cfg), opts).policy).toBe(JSON.stringify(ok));
    const pkg = buildMintRequest(grant({}, { policy_file: "aws/s3-write-reports.json" }, cfg), opts);
    expect(pkg.policyOrigin).toMatch(/policies\/aws\/s3-write-reports\.json$/);
    expect(() => buildMintRequest(grant({}, { policy_file: "nope.json" }, cfg), opts)).toThrow(
      /policy file "nope.json" not found/,
    );
    sb.write("cfg/bad.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}');
    expect(() => buildMintRequest(grant({}, { policy_file: "bad.json" }, cfg), opts)).toThrow(/Action/);
    sb.write("cfg/broken.json", "{");
    expect(() => buildMintRequest(grant({}, { policy_file: "broken.json" }, cfg), opts)).toThrow(/not valid JSON/);
  });

  it("session names keep to STS's charset and length", () => {
    expect(sessionNameFor(["downscope", "aws", "x".repeat(100)], 64)).toHaveLength(64);
    expect(sessionNameFor(["ds", "a b/c:d"], 32)).toBe("ds.a-b-c-d");
    expect(sessionNameFor(["é"], 64)).toHaveLength(2);
  });

  it("the cache key changes with everything that changes the credential", () => {
    const base = buildMintRequest(grant({ role_arn: "arn:aws:iam::1:role/a", source_profile: "p" }), opts);
    const variants: Partial<AwsMintRequest>[] = [
      { roleArn: "arn:aws:iam::1:role/b" },
      { policyHash: "other" },
      { policyArns: ["arn:aws:iam::aws:policy/X"] },
      { durationSeconds: 900 },
      { source: { profile: "q" } },
      { region: "eu-west-1" },
      { stsEndpoint: "http://127.0.0.1:1" },
    ];
    for (const v of variants) expect(mintCacheKey({ ...base, ...v })).not.toBe(mintCacheKey(base));
    expect(mintCacheKey({ ...base })).toBe(mintCacheKey(base));
  });

  it("an STS endpoint override needs its host in the trusted allowed_hosts", () => {
    const env = { DOWNSCOPE_AWS_STS_ENDPOINT: "http://127.0.0.1:5000" };
    expect(() => buildMintRequest(grant({}), { ...opts, env })).toThrow(/not in allowed_hosts/);
    expect(buildMintRequest(grant({ allowed_hosts: ["127.0.0.1"] }), { ...opts, env }).stsEndpoint).toBe(
      "http://127.0.0.1:5000",
    );
    expect(() =>
      buildMintRequest(grant({ allowed_hosts: ["127.0.0.1"] }), {
        ...opts,
        env: { DOWNSCOPE_AWS_STS_ENDPOINT: "file:///x" },
      }),
    ).toThrow(/not an http/);
  });
});

describe("error mapping", () => {
  const req = buildMintRequest(grant({ role_arn: "arn:aws:iam::1:role/agent", source_profile: "dev" }), opts);
  const fed = buildMintRequest(grant({ source_profile: "dev" }), opts);
  const err = (name: string, message: string) => Object.assign(new Error(message), { name });
  it.each([
    [fed, err("AccessDenied", "Cannot call GetFederationToken with session credentials"), /set role_arn/],
    [
      req,
      err(
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      ),
      /duration_seconds to 3600 or less/,
    ],
    [
      req,
      err("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
      /MaxSessionDuration/,
    ],
    [
      req,
      err(
        "AccessDenied",
        "User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/agent",
      ),
      /needs sts:AssumeRole on arn:aws:iam::1:role\/agent, and the role's trust policy/,
    ],
    [fed, err("AccessDenied", "not authorized"), /needs sts:GetFederationToken/],
    [
      req,
      err("PackedPolicyTooLargeException", "Packed policy consumes 104% of allotted space"),
      /too large once packed/,
    ],
    [
      req,
      err("ExpiredTokenException", "The security token included in the request is expired"),
      /aws sso login --profile dev/,
    ],
    [req, err("Whatever", "boom"), /STS AssumeRole failed: Whatever: boom/],
  ])("%#: %s", (r, e, expected) => {
    const mapped = stsError(e, r);
    expect(mapped.exitCode).toBe(77);
    expect(mapped.message).toMatch(expected);
  });

  it.each([
    [
      new Error("The SSO session associated with this profile has expired or is otherwise invalid."),
      /aws sso login --profile dev/,
    ],
    [new Error("Profile dev requires multi-factor authentication, but no MFA code callback was provided."), /MFA code/],
    [new Error("Could not load credentials from any providers"), /profile "dev" was not found or has no credentials/],
  ])("source: %s", (e, expected) => expect(sourceError(e, "dev", true).message).toMatch(expected));
});

describe("downscope lint: AWS session policies", () => {
  it("reports invalid inline policies and policy files with positions", async () => {
    const { runCli } = await import("../helpers/run-cli.js");
    const sb = sandbox();
    sb.write("cfg/bad.json", '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}');
    const file = sb.write(
      "cfg/config.yaml",
      `version: 1
services:
  aws:
    downscope_mode: sts_policy
    inline_policy:
      Statement:
        - Effect: Permit
          Action: s3:GetObject
          Resource: "*"
    rules:
      - name: w
        match: { command: [s3, cp] }
        policy_file: bad.json
      - name: m
        match: { command: [s3, mv] }
        policy_file: missing.json
`,
    );
    const r = await runCli(["lint", file], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config\.yaml:6:\d+: services\.aws\.inline_policy: missing "Version"/);
    expect(r.stderr).toMatch(/config\.yaml:6:\d+: services\.aws\.inline_policy: Statement\[0\]: "Effect" must be/);
    expect(r.stderr).toMatch(
      /services\.aws\.rules\[0\]\.policy_file: .*bad\.json: Statement\[0\]: give exactly one of "Resource"/,
    );
    expect(r.stderr).toMatch(/services\.aws\.rules\[1\]\.policy_file: policy file "missing\.json" not found/);
  });
});
