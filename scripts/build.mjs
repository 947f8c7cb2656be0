// Bundles each executable into one ESM file so startup reads one file, not
// hundreds. Heavy SDKs stay behind dynamic import() and end up in separate
// chunks that load only on the paths that need them.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
// Compiled configs are cached per build: a new schema never reads an old cache.
const buildId = createHash("sha256")
  .update(pkg.version)
  .update(readFileSync(new URL("../src/policy/schema.ts", import.meta.url)))
  .digest("hex")
  .slice(0, 16);

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    downscope: "src/cli/run.ts",
    "downscope-exec": "src/exec/run.ts",
    index: "src/index.ts",
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: false,
  legalComments: "none",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  define: { __BUILD_ID__: JSON.stringify(buildId), __VERSION__: JSON.stringify(pkg.version) },
});
