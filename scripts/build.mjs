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

// Startup is dominated by module loading, not by our code. So:
//  - the hot paths (the hook before every Bash command, downscope-exec, and
//    credential-process before every aws call) are each ONE file, with no
//    chunks; code they import lazily is bundled but evaluated only when used;
//  - the shell parser lives in shell.js: the hook loads it only for commands
//    its prefilter cannot clear (src/shell/prefilter.ts);
//  - the YAML parser and zod, needed only when a policy file is not in the
//    compiled-config cache, live in their own file, policy-parse.js, imported
//    on demand from those bundles;
//  - the cloud SDKs stay external: they load from node_modules only on the
//    paths that mint a credential;
//  - every other command shares chunks from dist/downscope.js.
const external = ["@aws-sdk/*", "google-auth-library", "@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*"];
const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __dsCreateRequire } from "node:module"; const require = __dsCreateRequire(import.meta.url);',
  },
  define: { __BUILD_ID__: JSON.stringify(buildId), __VERSION__: JSON.stringify(pkg.version) },
};
/** Leaves `import("./parse.js")` of the policy loader pointing at dist/policy-parse.js. */
const parseOutside = {
  name: "policy-parse-outside",
  setup(b) {
    b.onResolve({ filter: /^\.\/parse\.js$/ }, (args) =>
      args.importer.endsWith("/src/policy/load.ts") ? { path: "./policy-parse.js", external: true } : undefined,
    );
  },
};
/** Leaves the hook's `import("../shell/analyze.js")` pointing at dist/shell.js (the parser, ~250 KB). */
const shellOutside = {
  name: "shell-outside",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/shell\/analyze\.js$/ }, (args) =>
      args.importer.endsWith("/src/hook/answer.ts") ? { path: "./shell.js", external: true } : undefined,
    );
  },
};
await Promise.all([
  build({ ...common, entryPoints: { "policy-parse": "src/policy/parse.ts" }, outdir: "dist" }),
  build({ ...common, entryPoints: { shell: "src/shell/analyze.ts" }, outdir: "dist" }),
  build({
    ...common,
    entryPoints: { hook: "src/cli/run-hook.ts" },
    outdir: "dist",
    plugins: [parseOutside, shellOutside],
  }),
  build({ ...common, entryPoints: { "downscope-exec": "src/exec/run.ts" }, outdir: "dist", plugins: [parseOutside] }),
  build({
    ...common,
    entryPoints: { "credential-process": "src/cli/run-credential-process.ts" },
    outdir: "dist",
    plugins: [parseOutside],
  }),
  build({
    ...common,
    entryPoints: { downscope: "src/cli/run.ts", index: "src/index.ts" },
    outdir: "dist",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  }),
]);
