/**
 * `aws <service> <operation>` → the IAM action it needs, from the service
 * models of the installed AWS CLI (botocore's data/<service>/<version>/
 * service-2.json[.gz]): the action prefix is the model's
 * `metadata.signingName` (else `endpointPrefix`), the action name the
 * operation's name (the CLI spells `DescribeInstances` as
 * `describe-instances`). The high-level `s3` commands and a few other CLI
 * customizations are not operations; a small table maps those.
 *
 * Reads files only; nothing is spawned. The model directory is found from
 * the `aws` program on PATH (its `#!` interpreter's site-packages), the
 * usual install places, or DOWNSCOPE_AWS_MODELS.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Env } from "../paths.js";

/** CLI service names that differ from the model's directory name (awscli renames these). */
const CLI_RENAMES: Readonly<Record<string, string>> = { s3api: "s3", configservice: "config", deploy: "codedeploy" };

/** Signing names whose IAM prefix differs. */
const PREFIX_OVERRIDES: Readonly<Record<string, string>> = { monitoring: "cloudwatch", iotdata: "iot" };

/** s3api operations whose IAM action is not named like the operation. */
const S3_OPERATION_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  ListObjects: ["s3:ListBucket"],
  ListObjectsV2: ["s3:ListBucket"],
  ListObjectVersions: ["s3:ListBucketVersions"],
  ListBuckets: ["s3:ListAllMyBuckets"],
  HeadBucket: ["s3:ListBucket"],
  HeadObject: ["s3:GetObject"],
  DeleteObjects: ["s3:DeleteObject"],
  CopyObject: ["s3:GetObject", "s3:PutObject"],
  UploadPart: ["s3:PutObject"],
  CreateMultipartUpload: ["s3:PutObject"],
  CompleteMultipartUpload: ["s3:PutObject"],
  ListMultipartUploads: ["s3:ListBucketMultipartUploads"],
  ListParts: ["s3:ListMultipartUploadParts"],
};

/**
 * The high-level `aws s3` commands and other customizations (not operations
 * in any model). `s3 cp` reads or writes depending on the direction; both are
 * listed, so the policy lets the observed copies run either way.
 */
const CUSTOM_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  "s3 ls": ["s3:ListAllMyBuckets", "s3:ListBucket"],
  "s3 cp": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
  "s3 mv": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
  "s3 rm": ["s3:DeleteObject", "s3:ListBucket"],
  "s3 sync": ["s3:ListBucket", "s3:GetObject", "s3:PutObject"],
  "s3 mb": ["s3:CreateBucket"],
  "s3 rb": ["s3:DeleteBucket"],
  "s3 presign": ["s3:GetObject"],
  "s3 website": ["s3:PutBucketWebsite"],
  "eks update-kubeconfig": ["eks:DescribeCluster"],
  "logs tail": ["logs:FilterLogEvents", "logs:DescribeLogGroups"],
  "logs start-live-tail": ["logs:StartLiveTail"],
  "sts get-caller-identity": ["sts:GetCallerIdentity"],
};

interface Model {
  prefix: string;
  /** lower-cased operation name without separators → operation name */
  operations: Map<string, string>;
}

export interface AwsActionResolver {
  /** Where the models were found; undefined if they were not. */
  dir: string | undefined;
  /** IAM actions of `aws <service> <command>`, or undefined when unknown. */
  actions(service: string, command: string): string[] | undefined;
}

export function awsActionResolver(env: Env): AwsActionResolver {
  const dir = findModelDir(env);
  const models = new Map<string, Model | undefined>();
  const model = (name: string): Model | undefined => {
    if (!models.has(name)) models.set(name, dir === undefined ? undefined : readModel(dir, name));
    return models.get(name);
  };
  return {
    dir,
    actions(service, command) {
      const custom = CUSTOM_COMMANDS[`${service} ${command}`];
      if (custom) return [...custom];
      if (service === "s3") return undefined; // a high-level s3 command not in the table
      const m = model(CLI_RENAMES[service] ?? service);
      const op = m?.operations.get(command.replace(/-/g, "").toLowerCase());
      if (!m || op === undefined) return undefined;
      if (m.prefix === "s3" && S3_OPERATION_ACTIONS[op]) return [...S3_OPERATION_ACTIONS[op]];
      return [`${m.prefix}:${op}`];
    },
  };
}

function readModel(dir: string, name: string): Model | undefined {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  const base = join(dir, name);
  let versions: string[];
  try {
    versions = readdirSync(base).filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v));
  } catch {
    return undefined;
  }
  // The newest API version is the one the CLI uses.
  const newest = versions.sort().pop();
  if (newest === undefined) return undefined;
  const file = join(base, newest, "service-2.json");
  let text: string;
  try {
    text = existsSync(file)
      ? readFileSync(file, "utf8")
      : process
          .getBuiltinModule("node:zlib")
          .gunzipSync(readFileSync(`${file}.gz`))
          .toString("utf8");
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as {
      metadata?: { signingName?: string; endpointPrefix?: string };
      operations?: Record<string, unknown>;
    };
    const signing = doc.metadata?.signingName ?? doc.metadata?.endpointPrefix;
    if (signing === undefined || doc.operations === undefined) return undefined;
    const operations = new Map(Object.keys(doc.operations).map((op) => [op.toLowerCase(), op]));
    return { prefix: PREFIX_OVERRIDES[signing] ?? signing, operations };
  } catch {
    return undefined;
  }
}

const isModelDir = (d: string) => existsSync(join(d, "sts")) && existsSync(join(d, "ec2"));

function sitePackagesModels(prefix: string): string[] {
  const out: string[] = [];
  for (const lib of ["lib", "lib64"]) {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(prefix, lib)).filter((e) => /^python3(\.\d+)?$/.test(e));
    } catch {
      continue;
    }
    for (const py of entries)
      for (const sp of ["site-packages", "dist-packages"]) out.push(join(prefix, lib, py, sp, "botocore", "data"));
  }
  return out;
}

/** The interpreter a `#!` script names, or undefined. */
function shebangInterpreter(file: string): string | undefined {
  try {
    const head = readFileSync(file, { encoding: "utf8", flag: "r" }).slice(0, 256);
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
    if (!m) return undefined;
    // `#!/usr/bin/env python3` names the interpreter by PATH lookup; not followed.
    return m[1]!.endsWith("/env") ? undefined : m[1];
  } catch {
    return undefined;
  }
}

export function findModelDir(env: Env): string | undefined {
  const candidates: string[] = [];
  if (env.DOWNSCOPE_AWS_MODELS) candidates.push(env.DOWNSCOPE_AWS_MODELS);
  const home = env.HOME ?? "";
  // The `aws` programs on PATH: a pip install's script names its interpreter.
  for (const d of (env.PATH ?? "").split(":").filter((p) => p.startsWith("/"))) {
    const aws = join(d, "aws");
    if (!existsSync(aws)) continue;
    let real = aws;
    try {
      real = realpathSync(aws);
    } catch {
      continue;
    }
    // A pyenv shim (…/.pyenv/shims/aws) is a shell script; its versions hold the real installs.
    if (dirname(real).endsWith("/shims"))
      try {
        const versions = join(dirname(dirname(real)), "versions");
        for (const v of readdirSync(versions)) candidates.push(...sitePackagesModels(join(versions, v)));
      } catch {
        /* not pyenv */
      }
    const interp = shebangInterpreter(real);
    if (interp !== undefined) candidates.push(...sitePackagesModels(dirname(dirname(interp))));
    // AWS CLI v2 bundles botocore next to its executable.
    candidates.push(join(dirname(real), "awscli", "botocore", "data"));
  }
  // pyenv's shims are shell scripts; the versions hold the real installs.
  const pyenv = env.PYENV_ROOT ?? (home ? join(home, ".pyenv") : "");
  if (pyenv) {
    try {
      for (const v of readdirSync(join(pyenv, "versions")))
        candidates.push(...sitePackagesModels(join(pyenv, "versions", v)));
    } catch {
      /* no pyenv */
    }
  }
  candidates.push(
    "/usr/local/aws-cli/v2/current/dist/awscli/botocore/data",
    ...sitePackagesModels("/usr"),
    ...sitePackagesModels("/usr/local"),
    ...(home ? sitePackagesModels(join(home, ".local")) : []),
  );
  return candidates.find(isModelDir);
}
