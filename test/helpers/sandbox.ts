import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";

/**
 * An isolated HOME/XDG tree for a test: nothing reads the developer's own
 * config or credentials. Removed after each test.
 */
export interface Sandbox {
  root: string;
  home: string;
  project: string;
  env: Record<string, string>;
  write(rel: string, text: string, mode?: number): string;
}

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * `base`: where to make the tree (default: the temp directory). Contained
 * mode's tests need one outside it: the confined CLI gets a private /tmp, so a
 * home under /tmp would be hidden whether or not downscope hides it.
 */
export function sandbox(base: string = tmpdir()): Sandbox {
  mkdirSync(base, { recursive: true });
  const root = mkdtempSync(join(base, "downscope-test-"));
  made.push(root);
  const home = join(root, "home");
  const project = join(root, "project");
  mkdirSync(home, { recursive: true });
  mkdirSync(project, { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".local/state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".local/share"),
    DOWNSCOPE_MANAGED_CONFIG: join(root, "etc/downscope/config.yaml"),
    DOWNSCOPE_CLAUDE_MANAGED_DIR: join(root, "etc/claude-code"),
    PATH: process.env.PATH ?? "/usr/bin:/bin",
  };
  return {
    root,
    home,
    project,
    env,
    write(rel, text, mode = 0o644) {
      const p = rel.startsWith("/") ? rel : join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text, { mode });
      return p;
    },
  };
}
