/**
 * Bypass: a script sets NODE_OPTIONS=--require evil.js and calls a shim; the
 * wrapper (a Node program) would run the agent's code inside itself, next to
 * the token sources. Fix: shims drop NODE_OPTIONS (and the other Node
 * code-loading / TLS-trust variables) before starting the wrapper.
 * Proves: the required file never runs through the shim, and does run when
 * node is started directly with the same variable (so the test can fail).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sandbox } from "../helpers/sandbox.js";

const SHIM = resolve(import.meta.dirname, "../../shims/gh");

describe("shims start the wrapper without the caller's NODE_OPTIONS", () => {
  it("a --require planted through NODE_OPTIONS does not run in the wrapper", () => {
    const sb = sandbox();
    const marker = join(sb.root, "ran");
    const evil = sb.write("evil.cjs", `require("fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`);
    const env = { ...sb.env, NODE_OPTIONS: `--require ${evil}` };
    spawnSync(SHIM, ["pr", "list"], { cwd: sb.project, env, encoding: "utf8" });
    expect(existsSync(marker)).toBe(false);
    spawnSync(process.execPath, ["-e", ""], { cwd: sb.project, env, encoding: "utf8" });
    expect(existsSync(marker)).toBe(true);
  });
});
