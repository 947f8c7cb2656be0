/**
 * An agent's real CLI for the end-to-end tests, installed on first run into
 * test/.e2e/<name> (git-ignored, cached) from test/e2e/<name>/package.json,
 * as test/e2e/claude-cli.ts and gemini-cli.ts do for Claude Code and Gemini
 * CLI. The npm packages of Codex CLI, OpenCode and Copilot CLI ship a native
 * binary per platform as an optional dependency; `bin` names it. A failed
 * install fails the tests with the reason.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export interface NpmCli {
  /** test/e2e/<name>/package.json names the package and its pinned version. */
  name: string;
  pkg: string;
  /** The executable, relative to the install's node_modules, and how to start it (node for a JS entry). */
  bin: string;
  node?: boolean;
  /** A line of `--version` output that proves the pinned version runs. */
  versionLine: (version: string) => RegExp;
}

export function pinnedVersion(cli: NpmCli): string {
  const spec = JSON.parse(readFileSync(join(here, cli.name, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return spec.dependencies[cli.pkg]!;
}

/** [file, ...args] that start the CLI. */
export function commandOf(cli: NpmCli): string[] {
  const bin = join(here, "..", ".e2e", cli.name, "node_modules", cli.bin);
  return cli.node ? [process.execPath, bin] : [bin];
}

function working(cli: NpmCli): boolean {
  const [file, ...args] = commandOf(cli);
  if (!existsSync(file!) || !existsSync(args[0] ?? file!)) return false;
  const dir = join(here, "..", ".e2e", cli.name);
  const r = spawnSync(file!, [...args, "--version"], {
    encoding: "utf8",
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, COPILOT_AUTO_UPDATE: "false" },
    timeout: 60_000,
  });
  return r.status === 0 && cli.versionLine(pinnedVersion(cli)).test(r.stdout + r.stderr);
}

/** The command that starts the pinned CLI; installs it if needed. */
export function ensureNpmCli(cli: NpmCli): string[] {
  if (working(cli)) return commandOf(cli);
  const dir = join(here, "..", ".e2e", cli.name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(here, cli.name, "package.json"), join(dir, "package.json"));
  try {
    // --ignore-scripts: the platform binary comes as an optional dependency; nothing needs a build step.
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `cannot install ${cli.pkg}@${pinnedVersion(cli)} into ${dir} for the end-to-end tests: ${err.stderr?.toString().slice(-800) ?? err.message}`,
    );
  }
  if (!working(cli)) throw new Error(`${cli.pkg}@${pinnedVersion(cli)} was installed into ${dir} but does not run`);
  return commandOf(cli);
}

const platform = `${process.platform}-${process.arch}`;

export const CODEX: NpmCli = {
  name: "codex",
  pkg: "@openai/codex",
  bin: `@openai/codex-${platform}/vendor/${process.arch === "arm64" ? "aarch64" : "x86_64"}-unknown-linux-musl/bin/codex`,
  versionLine: (v) => new RegExp(`^codex-cli ${v.replace(/\./g, "\\.")}$`, "m"),
};
export const OPENCODE: NpmCli = {
  name: "opencode",
  pkg: "opencode-ai",
  bin: `opencode-${platform}/bin/opencode`,
  versionLine: (v) => new RegExp(`^${v.replace(/\./g, "\\.")}$`, "m"),
};
export const COPILOT: NpmCli = {
  name: "copilot",
  pkg: "@github/copilot",
  bin: `@github/copilot-${platform}/copilot`,
  versionLine: (v) => new RegExp(`Copilot CLI ${v.replace(/\./g, "\\.")}`),
};
export const PI: NpmCli = {
  name: "pi",
  pkg: "@mariozechner/pi-coding-agent",
  bin: "@mariozechner/pi-coding-agent/dist/cli.js",
  node: true,
  versionLine: (v) => new RegExp(`^${v.replace(/\./g, "\\.")}$`, "m"),
};
