/**
 * The real Claude Code CLI for the end-to-end tests, installed on first run
 * into test/.e2e/claude (git-ignored, cached) from test/e2e/claude/package.json,
 * so `npm install` for users stays light while `npm test` and CI need no
 * extra step. A failed install fails the tests with the reason.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const spec = join(here, "claude", "package.json");
const dir = join(here, "..", ".e2e", "claude");

export const CLAUDE_VERSION: string = (
  JSON.parse(readFileSync(spec, "utf8")) as { dependencies: Record<string, string> }
).dependencies["@anthropic-ai/claude-code"]!;

function candidates(): string[] {
  const nm = join(dir, "node_modules", "@anthropic-ai");
  return [
    join(nm, `claude-code-${process.platform}-${process.arch}`, "claude"),
    join(nm, `claude-code-${process.platform}-${process.arch}-musl`, "claude"),
    join(nm, "claude-code", "bin", "claude.exe"),
  ];
}

function working(): string | undefined {
  for (const c of candidates()) {
    if (!existsSync(c)) continue;
    const r = spawnSync(c, ["--version"], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: dir },
      timeout: 30_000,
    });
    if (r.status === 0 && r.stdout.includes(CLAUDE_VERSION)) return c;
  }
  return undefined;
}

/** Path of a working `claude` binary of the pinned version; installs it if needed. */
export function ensureClaude(): string {
  const found = working();
  if (found) return found;
  mkdirSync(dir, { recursive: true });
  copyFileSync(spec, join(dir, "package.json"));
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 170_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `cannot install @anthropic-ai/claude-code@${CLAUDE_VERSION} into ${dir} for the end-to-end tests: ${err.stderr?.toString().slice(-800) ?? err.message}`,
    );
  }
  const installed = working();
  if (!installed)
    throw new Error(
      `@anthropic-ai/claude-code@${CLAUDE_VERSION} was installed into ${dir} but no working claude binary was found (looked at ${candidates().join(", ")})`,
    );
  return installed;
}
