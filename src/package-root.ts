/**
 * The installed package's root (where policies/, shims/ and schema/ live),
 * found from this module's location. Works from src/ (tests) and dist/ (bundle).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;
declare const __filename: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  // A CommonJS bundle knows its file without building a URL (about 0.4 ms at startup).
  let dir = dirname(typeof __filename === "string" ? __filename : fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "policies"))) return (cached = dir);
    dir = dirname(dir);
  }
  throw new Error("downscope: cannot find the package root (policies/ next to package.json)");
}
