// Bundles each executable into one ESM file so startup reads one file, not
// hundreds. Heavy SDKs stay behind dynamic import() and end up in separate
// chunks that load only on the paths that need them.
import { build } from "esbuild";
import { rmSync } from "node:fs";

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
});
