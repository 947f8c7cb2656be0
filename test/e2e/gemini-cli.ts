/**
 * The real Gemini CLI for the end-to-end tests, installed on first run into
 * test/.e2e/gemini (git-ignored, cached) from test/e2e/gemini/package.json,
 * like Claude Code in test/e2e/claude-cli.ts. A failed install fails the
 * tests with the reason.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const spec = join(here, "gemini", "package.json");
const dir = join(here, "..", ".e2e", "gemini");

export const GEMINI_VERSION: string = (
  JSON.parse(readFileSync(spec, "utf8")) as { dependencies: Record<string, string> }
).dependencies["@google/gemini-cli"]!;

const bin = join(dir, "node_modules", "@google", "gemini-cli", "bundle", "gemini.js");

function working(): boolean {
  if (!existsSync(bin)) return false;
  const r = spawnSync(process.execPath, [bin, "--version"], {
    encoding: "utf8",
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir },
    timeout: 30_000,
  });
  return r.status === 0 && r.stdout.trim() === GEMINI_VERSION;
}

/** Path of the pinned Gemini CLI's entry script (run it with node); installs it if needed. */
export function ensureGemini(): string {
  if (working()) return bin;
  mkdirSync(dir, { recursive: true });
  copyFileSync(spec, join(dir, "package.json"));
  try {
    // --ignore-scripts: the optional native parts (node-pty, keytar) are not needed headless.
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--ignore-scripts"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 170_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `cannot install @google/gemini-cli@${GEMINI_VERSION} into ${dir} for the end-to-end tests: ${err.stderr?.toString().slice(-800) ?? err.message}`,
    );
  }
  if (!working())
    throw new Error(`@google/gemini-cli@${GEMINI_VERSION} was installed into ${dir} but ${bin} does not run`);
  return bin;
}
