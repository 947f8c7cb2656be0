/**
 * `downscope install aws --profile ai-readonly --source-profile default
 *  [--policy NAME|FILE] [--role-arn ARN] [--duration SECONDS] [--dry-run]`
 * adds (or updates) one profile in the AWS config file ($AWS_CONFIG_FILE, else
 * ~/.aws/config) whose credential_process is `downscope credential-process`.
 * Any AWS SDK tool run with AWS_PROFILE=ai-readonly then gets downscoped
 * credentials. `downscope uninstall aws --profile ai-readonly` removes exactly
 * what install added: install then uninstall leaves the file byte-identical.
 *
 * The profile lives between two marker comments; everything outside them is
 * never touched. A backup of the previous file is kept next to it
 * (config.downscope-backup). --dry-run prints a unified diff and writes nothing.
 */
import { lineDiff } from "./unified-diff.js";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { awsConfigPath, profileSettings, sectionName, shellQuote } from "../credentials/aws-config-file.js";
import type { Command, Io } from "../io.js";

const PROFILE_RE = /^[A-Za-z0-9_.+-]+$/;

const begin = (profile: string, sep: string) => `# >>> downscope install aws --profile ${profile} (sep=${sep}) >>>`;
const end = (profile: string) => `# <<< downscope install aws --profile ${profile} <<<`;
const BEGIN_RE = (profile: string) =>
  new RegExp(`^# >>> downscope install aws --profile ${profile.replace(/[.+]/g, "\\$&")} \\(sep=(0|1|2|new)\\) >>>$`);

interface Block {
  /** Index of the begin and end marker lines. */
  first: number;
  last: number;
  sep: "0" | "1" | "2" | "new";
}

function findBlock(lines: string[], profile: string): Block | undefined {
  const re = BEGIN_RE(profile);
  const first = lines.findIndex((l) => re.test(l));
  if (first < 0) return undefined;
  const last = lines.indexOf(end(profile), first + 1);
  if (last < 0) return undefined;
  return { first, last, sep: re.exec(lines[first]!)![1] as Block["sep"] };
}

export interface InstallAwsOptions {
  profile: string;
  sourceProfile: string;
  policy?: string;
  roleArn?: string;
  duration?: number;
  node: string;
  bin: string;
}

/** The profile's lines, without markers (pure). */
export function profileLines(o: InstallAwsOptions, region: string | undefined): string[] {
  const argv = [
    o.node,
    o.bin,
    "credential-process",
    "--source-profile",
    o.sourceProfile,
    ...(o.policy !== undefined ? ["--policy", o.policy] : []),
    ...(o.roleArn !== undefined ? ["--role-arn", o.roleArn] : []),
    ...(o.duration !== undefined ? ["--duration", String(o.duration)] : []),
  ];
  return [
    `[${sectionName(o.profile)}]`,
    `credential_process = ${argv.map(shellQuote).join(" ")}`,
    ...(region !== undefined ? [`region = ${region}`] : []),
  ];
}

/** The new file text after install (pure). `existed`: whether the file was there. */
export function installText(text: string, existed: boolean, o: InstallAwsOptions): string {
  const lines = text.split("\n");
  const region = profileSettings(text, o.sourceProfile)
    .get("region")?.[0]
    ?.replace(/^region\s*=\s*/, "")
    .trim();
  const body = profileLines(o, region || undefined);
  const found = findBlock(lines, o.profile);
  if (found) {
    const replaced = [
      ...lines.slice(0, found.first),
      begin(o.profile, found.sep),
      ...body,
      end(o.profile),
      ...lines.slice(found.last + 1),
    ];
    return replaced.join("\n");
  }
  const header = new RegExp(
    `^\\s*\\[\\s*${sectionName(o.profile).replace(/[.+]/g, "\\$&").replace(" ", "\\s+")}\\s*\\]\\s*$`,
  );
  if (lines.some((l) => header.test(l)))
    throw new UsageError(
      `profile "${o.profile}" already exists and was not added by downscope; choose another --profile or remove it first`,
    );
  const sep = !existed ? "new" : text === "" ? "0" : text.endsWith("\n") ? "1" : "2";
  const prefix = sep === "1" ? "\n" : sep === "2" ? "\n\n" : "";
  return text + prefix + [begin(o.profile, sep), ...body, end(o.profile)].join("\n") + "\n";
}

/** The text after uninstall, or undefined when no block is present; null: remove the file (install created it). */
export function uninstallText(text: string, profile: string): string | null | undefined {
  const lines = text.split("\n");
  const found = findBlock(lines, profile);
  if (!found) return undefined;
  const before = lines.slice(0, found.first).join("\n");
  // The block is followed by "\n" (install wrote it); what comes after it is kept as is.
  const after = lines.slice(found.last + 1).join("\n");
  const cut = found.sep === "1" ? 1 : found.sep === "2" ? 2 : 0;
  // `before` lost the newline that ended its last line when split: restore, then drop what install added.
  const head = found.first === 0 ? "" : before + "\n";
  const restored = head.slice(0, head.length - cut) + after;
  if (found.sep === "new" && restored === "") return null;
  return restored;
}

/** The dry-run diff of ~/.aws/config. */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  return lineDiff(a, b, nameA, nameB);
}

function readState(file: string): { text: string; existed: boolean; mode: number } {
  try {
    const st = statSync(file);
    return { text: readFileSync(file, "utf8"), existed: true, mode: st.mode & 0o777 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { text: "", existed: false, mode: 0o600 };
    throw new UsageError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

function writeWithBackup(file: string, before: { text: string; existed: boolean; mode: number }, after: string | null) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (before.existed) writeFileSync(`${file}.downscope-backup`, before.text, { mode: before.mode });
  if (after === null) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = join(dirname(file), `.config.downscope.${Date.now()}.tmp`);
  writeFileSync(tmp, after, { mode: before.mode });
  renameSync(tmp, file);
}

function parse(argv: string[], kind: "install" | "uninstall") {
  try {
    return parseArgs({
      args: argv,
      options: {
        profile: { type: "string" },
        "source-profile": { type: "string" },
        policy: { type: "string" },
        "role-arn": { type: "string" },
        duration: { type: "string" },
        "dry-run": { type: "boolean" },
      },
    }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${kind === "install" ? INSTALL_USAGE : UNINSTALL_USAGE}`);
  }
}

const INSTALL_USAGE =
  "downscope install aws --profile NAME --source-profile NAME [--policy NAME|FILE] [--role-arn ARN] [--duration SECONDS] [--dry-run]  (file: $AWS_CONFIG_FILE or ~/.aws/config)";
const UNINSTALL_USAGE = "downscope uninstall aws --profile NAME [--dry-run]";

function report(io: Io, file: string, before: string, after: string | null, dryRun: boolean, what: string) {
  if (dryRun) {
    io.stdout(unifiedDiff(before, after ?? "", file, `${file} (after ${what})`));
    io.stderr(`downscope: dry run: ${file} not changed\n`);
  }
}

export const install: Command = async (argv, io) => {
  const v = parse(argv, "install");
  if (v.profile === undefined || v["source-profile"] === undefined) throw new UsageError(`usage: ${INSTALL_USAGE}`);
  if (!PROFILE_RE.test(v.profile) || !PROFILE_RE.test(v["source-profile"]))
    throw new UsageError("profile names may contain letters, digits and _ . + - only");
  if (v.profile === v["source-profile"]) throw new UsageError("--profile and --source-profile must differ");
  if (v["role-arn"] !== undefined && !v["role-arn"].startsWith("arn:"))
    throw new UsageError("--role-arn must be an ARN (arn:aws:iam::ACCOUNT:role/NAME)");
  let duration: number | undefined;
  if (v.duration !== undefined) {
    duration = Number(v.duration);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200)
      throw new UsageError("--duration must be a whole number of seconds between 900 and 43200");
  }
  const file = awsConfigPath(io.env);
  const before = readState(file);
  const after = installText(before.text, before.existed, {
    profile: v.profile,
    sourceProfile: v["source-profile"],
    ...(v.policy !== undefined ? { policy: v.policy } : {}),
    ...(v["role-arn"] !== undefined ? { roleArn: v["role-arn"] } : {}),
    ...(duration !== undefined ? { duration } : {}),
    node: process.execPath,
    bin: join(packageRoot(), "bin", "downscope.js"),
  });
  if (after === before.text) {
    io.stderr(`downscope: profile ${v.profile} in ${file} is already up to date\n`);
    return 0;
  }
  report(io, file, before.text, after, v["dry-run"] === true, "install");
  if (v["dry-run"]) return 0;
  writeWithBackup(file, before, after);
  io.stderr(
    `downscope: added profile ${v.profile} to ${file}${before.existed ? ` (backup: ${file}.downscope-backup)` : ""}\n` +
      `Use it with AWS_PROFILE=${v.profile} (any AWS SDK tool) or --profile ${v.profile}.\n`,
  );
  return 0;
};

export const uninstall: Command = async (argv, io) => {
  const v = parse(argv, "uninstall");
  if (v.profile === undefined) throw new UsageError(`usage: ${UNINSTALL_USAGE}`);
  if (!PROFILE_RE.test(v.profile)) throw new UsageError("profile names may contain letters, digits and _ . + - only");
  const file = awsConfigPath(io.env);
  const before = readState(file);
  const after = uninstallText(before.text, v.profile);
  if (after === undefined) {
    io.stderr(`downscope: ${file} has no profile ${v.profile} added by downscope; nothing to do\n`);
    return 0;
  }
  report(io, file, before.text, after, v["dry-run"] === true, "uninstall");
  if (v["dry-run"]) return 0;
  writeWithBackup(file, before, after);
  io.stderr(`downscope: removed profile ${v.profile} from ${file}\n`);
  return 0;
};
