import { readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  childEnv,
  credentialProcessArgv,
  makeAwsChannel,
  privateConfig,
  STRIPPED,
} from "../../src/exec/channels/aws.js";
import { buildMintRequest } from "../../src/credentials/aws.js";
import { packageRoot } from "../../src/package-root.js";
import { ServiceSchema } from "../../src/policy/schema.js";
import type { Decision, Grant } from "../../src/policy/evaluate.js";
import { sandbox } from "../helpers/sandbox.js";

function grant(svc: Record<string, unknown> = {}, rule?: string): Grant {
  return {
    service: "aws",
    mode: "sts_policy",
    layer: "user",
    file: "/home/u/.config/downscope/config.yaml",
    config: ServiceSchema.parse({ downscope_mode: "sts_policy", role_arn: "arn:aws:iam::1:role/agent", ...svc }),
    ...(rule ? { rule: { name: rule, match: {}, action: "allow" } } : {}),
  };
}

const ambient: Record<string, string> = {
  PATH: "/usr/bin",
  HOME: "/home/u",
  AWS_ACCESS_KEY_ID: "fake-ambient-id",
  AWS_SECRET_ACCESS_KEY: "fake-ambient-secret",
  AWS_SESSION_TOKEN: "fake-ambient-token",
  AWS_SECURITY_TOKEN: "fake-ambient-token",
  AWS_PROFILE: "admin",
  AWS_DEFAULT_PROFILE: "admin",
  AWS_CREDENTIAL_FILE: "/x",
  AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.2/creds",
  AWS_CONTAINER_AUTHORIZATION_TOKEN: "fake",
  AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
  AWS_ROLE_ARN: "arn:aws:iam::1:role/admin",
  AWS_CONFIG_FILE: "/home/u/.aws/config",
  AWS_SHARED_CREDENTIALS_FILE: "/home/u/.aws/credentials",
  AWS_ENDPOINT_URL: "http://evil.example",
  AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000",
  AWS_REGION: "eu-west-1",
};

describe("aws channel environment", () => {
  /*
   * Bypass: ambient AWS credentials (keys, profiles, container/web-identity
   * credentials, IMDS) reaching the child next to the scoped profile. Fix:
   * strip every one, then set the private config. Proves: none survives.
   */
  it("strips every ambient credential, then points at the private profile", () => {
    const env = childEnv(ambient, grant({ allowed_hosts: ["127.0.0.1"] }), {
      config: "/t/aws-config",
      credentials: "/t/aws-credentials",
    });
    for (const k of STRIPPED)
      if (!["AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"].includes(k))
        expect(env[k]).toBeUndefined();
    expect(Object.keys(env).filter((k) => k.startsWith("AWS_CONTAINER_"))).toEqual([]);
    expect(env).toMatchObject({
      AWS_CONFIG_FILE: "/t/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/t/aws-credentials",
      AWS_PROFILE: "downscope",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_REGION: "eu-west-1",
      PATH: "/usr/bin",
    });
    // Endpoint variables only for hosts the trusted policy allows.
    expect(env.AWS_ENDPOINT_URL).toBeUndefined();
    expect(env.AWS_ENDPOINT_URL_S3).toBe("http://127.0.0.1:9000");
    expect(JSON.stringify(env)).not.toContain("fake-ambient");
  });

  it("also strips the service's strip_env", () => {
    const env = childEnv({ ...ambient, MY_TOKEN: "x" }, grant({ strip_env: ["MY_TOKEN"] }), {
      config: "c",
      credentials: "k",
    });
    expect(env.MY_TOKEN).toBeUndefined();
  });
});

describe("aws channel private config", () => {
  it("one profile: credential_process with absolute node and bin, the rule, copied settings, no credentials copied", () => {
    const g = grant({ source_profile: "dev" }, "reports write");
    const req = buildMintRequest(g, {
      env: {},
      packageRoot: packageRoot(),
      source: { configFile: "/home/u/.aws/config" },
    });
    const argv = credentialProcessArgv(g, req, "/usr/bin/node", "/opt/ds/bin/downscope.js");
    const text = privateConfig(
      argv,
      "[profile dev]\nregion = ap-south-1\naws_access_key_id = fake-id\nrole_arn = arn:aws:iam::1:role/x\nmfa_serial = arn:x\ns3 =\n  max_concurrent_requests = 4\nendpoint_url = http://evil\n[default]\nregion = us-west-2\n",
      req,
      g,
    );
    expect(text).toBe(
      [
        "# Written by downscope-exec for one command and removed when it ends.",
        "[profile downscope]",
        `credential_process = /usr/bin/node /opt/ds/bin/downscope.js credential-process --service aws --layer user --rule 'reports write' --expect-key ${argv[argv.indexOf("--expect-key") + 1]} --source-profile dev --aws-config-file /home/u/.aws/config`,
        "region = ap-south-1",
        "s3 =",
        "  max_concurrent_requests = 4",
        "",
      ].join("\n"),
    );
  });

  it("writes private files in the run's directory and no secrets in the environment", async () => {
    const sb = sandbox();
    const ch = makeAwsChannel({
      node: "/n",
      bin: "/b",
      interactive: false,
      processEnv: {},
      prime: false,
      stderr: () => {},
    });
    const plan = await ch({
      decision: {} as Decision,
      grant: grant(),
      binary: "aws",
      realBinary: "/usr/bin/aws",
      args: ["sts", "get-caller-identity"],
      parentEnv: { ...sb.env, AWS_CONFIG_FILE: sb.write("aws/config", "[default]\nregion = eu-west-2\n") },
      baseEnv: { ...sb.env },
      cwd: sb.project,
      tmpDir: sb.root,
      now: () => new Date(),
    });
    expect(statSync(plan.env.AWS_CONFIG_FILE!).mode & 0o777).toBe(0o600);
    expect(readFileSync(plan.env.AWS_SHARED_CREDENTIALS_FILE!, "utf8")).toBe("");
    expect(readFileSync(plan.env.AWS_CONFIG_FILE!, "utf8")).toContain("region = eu-west-2\n");
  });

  it("refuses a grant that is not sts_policy", async () => {
    const ch = makeAwsChannel({
      node: "/n",
      bin: "/b",
      interactive: false,
      processEnv: {},
      prime: false,
      stderr: () => {},
    });
    await expect(
      ch({
        decision: {} as Decision,
        grant: { ...grant(), mode: "token_slot" },
        binary: "aws",
        realBinary: "/a",
        args: [],
        parentEnv: {},
        baseEnv: {},
        cwd: "/",
        tmpDir: "/tmp",
        now: () => new Date(),
      }),
    ).rejects.toThrow(/sts_policy/);
  });
});
