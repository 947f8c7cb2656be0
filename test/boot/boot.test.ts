/**
 * dist/boot.cjs: starts the hot-path bundles as CommonJS with V8's code cache.
 * Bypasses guarded against: a planted or loosened cache file feeding V8 bytes
 * the bundle's owner did not produce (ignored), a stale cache serving an old
 * build (keyed by the bundle's size and mtime), and a hook that cannot start
 * letting the command run (it answers deny). Each case runs real processes.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BOOT = join(ROOT, "dist/boot.cjs");

beforeAll(() => {
  if (!existsSync(BOOT)) throw new Error("dist/boot.cjs is missing: run `npm run build` (npm test does) first");
});

/** A package directory with dist/boot.cjs and a bundle that requires a sibling through the loader. */
function pkg() {
  const sb = sandbox();
  const dist = join(sb.root, "pkg/dist");
  mkdirSync(dist, { recursive: true });
  copyFileSync(BOOT, join(dist, "boot.cjs"));
  writeFileSync(
    join(dist, "main.cjs"),
    'const { answer } = require("./sibling.cjs");\nconst { sep } = require("node:path");\nconst once = require("./sibling.cjs") === require("./sibling.cjs") && globalThis.siblingRuns === 1;\nmodule.exports = { answer, sep, name: __filename, once };\n',
  );
  writeFileSync(
    join(dist, "sibling.cjs"),
    "globalThis.siblingRuns = (globalThis.siblingRuns ?? 0) + 1;\nexports.answer = 6 * 7;\n",
  );
  const run = () => {
    const r = spawnSync(
      process.execPath,
      [
        "-e",
        `const b = require(${JSON.stringify(join(dist, "boot.cjs"))}); const m = b.loadBundle(${JSON.stringify(join(dist, "main.cjs"))}); console.log(JSON.stringify({ m, loads: b.loads }));`,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout) as {
      m: { answer: number; sep: string; name: string };
      loads: { file: string; cache: string }[];
    };
  };
  const cacheFiles = () => (existsSync(join(dist, ".v8-cache")) ? readdirSync(join(dist, ".v8-cache")) : []);
  return { sb, dist, run, cacheFiles };
}

const statusOf = (loads: { file: string; cache: string }[], name: string) =>
  loads.find((l) => l.file.endsWith(`/${name}`))?.cache;

describe("boot: CommonJS bundles with V8's code cache", () => {
  it("runs a bundle, serves its ./x.cjs siblings and Node built-ins, and reuses the cache on the next run", () => {
    const p = pkg();
    const first = p.run();
    // A sibling required again is the same module, run once.
    expect(first.m).toEqual({ answer: 42, sep: "/", name: join(p.dist, "main.cjs"), once: true });
    expect(statusOf(first.loads, "main.cjs")).toBe("miss");
    expect(statusOf(first.loads, "sibling.cjs")).toBe("miss");
    // Written at exit, one file per bundle, writable by its owner only.
    expect(p.cacheFiles()).toHaveLength(2);
    for (const f of p.cacheFiles()) expect(statSync(join(p.dist, ".v8-cache", f)).mode & 0o022).toBe(0);
    const second = p.run();
    expect(second.m.answer).toBe(42);
    expect(statusOf(second.loads, "main.cjs")).toBe("hit");
    expect(statusOf(second.loads, "sibling.cjs")).toBe("hit");
  });

  it("a corrupt cache is rejected by V8, the bundle still runs, and the cache is rewritten", () => {
    const p = pkg();
    p.run();
    for (const f of p.cacheFiles())
      writeFileSync(join(p.dist, ".v8-cache", f), Buffer.alloc(4000, 0x41), { mode: 0o644 });
    const r = p.run();
    expect(r.m.answer).toBe(42);
    expect(statusOf(r.loads, "main.cjs")).toBe("rejected");
    expect(statusOf(p.run().loads, "main.cjs")).toBe("hit");
  });

  it("ignores a cache file others may write, or that someone else owns", () => {
    const p = pkg();
    p.run();
    const main = p.cacheFiles().find((f) => f.startsWith("main.cjs-"))!;
    const path = join(p.dist, ".v8-cache", main);
    chmodSync(path, 0o666);
    expect(statusOf(p.run().loads, "main.cjs")).toBe("ignored");
    // Rewritten by its owner, it is used again.
    expect(statusOf(p.run().loads, "main.cjs")).toBe("hit");
    if (process.getuid?.() === 0) {
      chownSync(path, 12345, 12345);
      expect(statusOf(p.run().loads, "main.cjs")).toBe("ignored");
    }
  });

  it("a rebuilt bundle never meets the cache of the old one", () => {
    const p = pkg();
    p.run();
    // Same length, new content and mtime.
    writeFileSync(
      join(p.dist, "sibling.cjs"),
      "globalThis.siblingRuns = (globalThis.siblingRuns ?? 0) + 1;\nexports.answer = 7 * 6;\n",
    );
    const r = p.run();
    expect(statusOf(r.loads, "sibling.cjs")).toBe("miss");
    expect(p.cacheFiles().filter((f) => f.startsWith("sibling.cjs-"))).toHaveLength(2);
  });

  it.runIf(process.getuid?.() === 0)("writes no cache beside a bundle someone else owns", () => {
    const p = pkg();
    chownSync(join(p.dist, "main.cjs"), 12345, 12345);
    expect(statusOf(p.run().loads, "main.cjs")).toBe("miss");
    expect(p.cacheFiles().filter((f) => f.startsWith("main.cjs-"))).toEqual([]);
  });

  it("a bundle that throws is not cached half-run: requiring it again throws again", () => {
    const p = pkg();
    writeFileSync(join(p.dist, "bad.cjs"), 'exports.partial = true;\nthrow new Error("bad bundle");\n');
    writeFileSync(
      join(p.dist, "main.cjs"),
      'const tries = [];\nfor (let i = 0; i < 2; i++) { try { require("./bad.cjs"); tries.push("loaded"); } catch (e) { tries.push(e.message); } }\nmodule.exports = { tries };\n',
    );
    expect(p.run().m).toEqual({ tries: ["bad bundle", "bad bundle"] });
  });

  /*
   * Bypass: a hook that cannot start exits 1, and Claude Code runs the command.
   * Fix: bin/downscope.js answers deny when the bundle does not load. Proves: a
   * package whose dist/hook.cjs is missing denies, exit 0, no stack trace.
   */
  it("the hook answers deny when its bundle cannot load", () => {
    const p = pkg();
    const bin = join(p.sb.root, "pkg/bin");
    mkdirSync(bin);
    for (const f of ["downscope.js", "package.json"]) copyFileSync(join(ROOT, "bin", f), join(bin, f));
    const r = spawnSync(process.execPath, [join(bin, "downscope.js"), "hook"], {
      input: JSON.stringify({ tool_name: "Bash", tool_input: { command: "gh repo delete x" } }),
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe("deny");
    expect(out.permissionDecisionReason).toContain("the hook cannot start");
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });
});
