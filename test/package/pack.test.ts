/**
 * The published package works on its own: `npm pack`, install the tarball into
 * an empty directory, then run the demo, `check`, `downscope-exec` and a shim
 * from the installed copy with nothing else on hand. The install prefers the
 * npm cache that `npm ci` filled; `npm ci` caches tarballs but not the
 * registry's package documents, which resolving the tarball's dependencies
 * needs, so on a fresh machine those come from the registry (the same one
 * `npm ci` uses; nothing else is reached). Everything the installed copy runs
 * afterwards is offline.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWithTty } from "../helpers/with-tty.js";

const ROOT = resolve(import.meta.dirname, "../..");
let dir: string;
let installed: string;
let env: Record<string, string>;
let bins: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "downscope-pack-"));
  const out = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" });
  const tgz = join(dir, out.trim().split("\n").pop()!);
  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tgz], {
    cwd: app,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  installed = join(app, "node_modules", "downscope");
  const home = join(dir, "home");
  mkdirSync(home);
  env = {
    PATH: `${join(app, "node_modules", ".bin")}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_STATE_HOME: join(home, ".state"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_DATA_HOME: join(home, ".data"),
    DOWNSCOPE_MANAGED_CONFIG: join(dir, "managed.yaml"),
    npm_config_update_notifier: "false",
    npm_config_cache: join(process.env.HOME ?? home, ".npm"),
  };
  bins = join(app, "node_modules", ".bin");
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (file: string, args: string[], cwd = join(dir, "app"), extra: Record<string, string> = {}) =>
  spawnSync(file, args, { cwd, env: { ...env, ...extra }, encoding: "utf8" });

describe("npm pack → install → run", () => {
  it("ships only what runs", () => {
    const top = readdirSync(installed).sort();
    expect(top).toEqual(expect.arrayContaining(["bin", "dist", "policies", "schema", "shims", "package.json"]));
    expect(top).not.toContain("src");
    // Types for the library exports (policy engine, Agent SDK hook).
    expect(readdirSync(join(installed, "dist/types"))).toContain("index.d.ts");
    expect(top).not.toContain("test");
  });

  it("npx downscope demo prints the table", () => {
    const r = run("npx", ["--offline", "downscope", "demo"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("12 commands:");
    expect(r.status).toBe(0);
  });

  it("npx downscope check decides with a project policy", () => {
    const proj = join(dir, "proj");
    mkdirSync(join(proj, ".claude"), { recursive: true });
    writeFileSync(
      join(proj, ".claude/downscoping.yaml"),
      "version: 1\nservices:\n  gh:\n    rules:\n      - { name: no delete, match: { command: [repo, delete] }, action: deny }\n",
    );
    const r = run(join(bins, "downscope"), ["check", "--", "gh", "repo", "delete", "x"], proj);
    expect(r.stdout).toContain("decision: deny");
    expect(r.stdout).toContain('rule:     #1 "no delete"');
  });

  it("downscope-exec and the gh shim run the real (pinned) binary with the slot token", () => {
    const proj = join(dir, "proj2");
    const bin = join(dir, "realbin");
    mkdirSync(join(proj, ".claude"), { recursive: true });
    mkdirSync(bin);
    const fakeGh = join(bin, "gh");
    writeFileSync(fakeGh, '#!/bin/sh\necho "gh-args:$*"\n[ "$GH_TOKEN" = fake-token-ro-1 ] && echo token-ok\n');
    chmodSync(fakeGh, 0o755);
    writeFileSync(
      join(proj, ".claude/downscoping.yaml"),
      `version: 1\nservices:\n  gh:\n    binary_path: ${fakeGh}\n    token_slots: { ro: { env_var: TOKEN_RO } }\n    default_slot: ro\n    rules:\n      - { name: no delete, match: { command: [repo, delete] }, action: deny }\n`,
    );
    // Without a terminal trust refuses; a person at one confirms it.
    expect(run(join(bins, "downscope"), ["trust"], proj).status).toBe(77);
    expect(runWithTty(join(bins, "downscope"), ["trust"], { cwd: proj, env }).status).toBe(0);
    const exec = run(join(bins, "downscope-exec"), ["gh", "pr", "list"], proj, { TOKEN_RO: "fake-token-ro-1" });
    expect(exec.stdout).toContain("gh-args:pr list");
    expect(exec.stdout).toContain("token-ok");
    const shim = run(join(installed, "shims/gh"), ["repo", "delete", "x"], proj, { TOKEN_RO: "fake-token-ro-1" });
    expect(shim.status).toBe(77);
    expect(shim.stderr).toContain('denied by rule "no delete"');
  });
});
