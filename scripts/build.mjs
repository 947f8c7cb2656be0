// Bundles each executable so startup reads one file, not hundreds. Heavy SDKs
// stay behind dynamic import() and load only on the paths that need them.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

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
//    credential-process before every aws call) are each ONE CommonJS file
//    (an ES module entry costs Node about 8 ms more to start) with no chunks,
//    started by dist/boot.cjs with V8's code cache (src/boot.ts); code they
//    import lazily is bundled but evaluated only when used;
//  - the hook is three files: hook.cjs answers commands that name no service
//    (src/shell/prefilter.ts); hook-service.cjs, with the decision and the
//    audit trail, loads for the others; shell.cjs, the parser, only for those
//    that are not plain (src/shell/simple.ts); hook-cursor.cjs,
//    hook-gemini.cjs, hook-codex.cjs, hook-copilot.cjs and hook-plugin.cjs
//    (OpenCode, pi), the other agents' protocols, only with --agent;
//  - the YAML parser and zod, needed only when a policy file is not in the
//    compiled-config cache, live in policy-parse.cjs, loaded on demand;
//  - the cloud SDKs stay external: they load from node_modules only on the
//    paths that mint a credential;
//  - every other command is ESM and shares chunks from dist/downscope.js.
const external = ["@aws-sdk/*", "google-auth-library", "@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*"];
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  external,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  define: { __BUILD_ID__: JSON.stringify(buildId), __VERSION__: JSON.stringify(pkg.version) },
  // jsonc-parser's "main" is a UMD build whose require() calls esbuild cannot follow; bundle its ES build.
  alias: { "jsonc-parser": "./node_modules/jsonc-parser/lib/esm/main.js" },
};
const esm = {
  ...common,
  format: "esm",
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __dsCreateRequire } from "node:module"; const require = __dsCreateRequire(import.meta.url);',
  },
};
const cjs = {
  ...common,
  format: "cjs",
  outExtension: { ".js": ".cjs" },
  // Sources read import.meta.url only where __filename is undefined (ES modules); here it is empty.
  logOverride: { "empty-import-meta": "silent" },
  // import() of a sibling bundle becomes require(), which dist/boot.cjs serves from the code cache.
  supported: { "dynamic-import": false },
};
/** Leaves `import(specifier)` in files under `importer` pointing at the sibling bundle `to` instead of bundling it. */
const outside = (specifier, importer, to) => ({
  name: `outside-${to}`,
  setup(b) {
    const filter = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
    b.onResolve({ filter }, (args) => (args.importer.includes(importer) ? { path: to, external: true } : undefined));
  },
});
const parseOutside = outside("./parse.js", "/src/policy/load.ts", "./policy-parse.cjs");
const shellOutside = outside("../shell/analyze.js", "/src/hook/service.ts", "./shell.cjs");
// The hook's decision and audit trail load only once the prefilter sees a service.
const serviceOutside = [
  outside("./service.js", "/src/hook/answer.ts", "./hook-service.cjs"),
  outside("./file-tools.js", "/src/hook/answer.ts", "./hook-files.cjs"),
  outside("./service.js", "/src/hook/hook-call.ts", "./hook-service.cjs"),
];
// The other agents' hook adapters load only for `downscope hook --agent …`: Claude Code's hook never reads them.
const agentsOutside = [
  outside("../hook/agents/cursor.js", "/src/cli/hook.ts", "./hook-cursor.cjs"),
  outside("../hook/agents/gemini.js", "/src/cli/hook.ts", "./hook-gemini.cjs"),
  outside("../hook/agents/codex.js", "/src/cli/hook.ts", "./hook-codex.cjs"),
  outside("../hook/agents/copilot.js", "/src/cli/hook.ts", "./hook-copilot.cjs"),
  outside("../hook/agents/plugin.js", "/src/cli/hook.ts", "./hook-plugin.cjs"),
];
const postOutside = [
  outside("../hook/tool-record.js", "/src/cli/post-tool-use.ts", "./post-tool-record.cjs"),
  outside("../hook/agents/gemini-after-tool.js", "/src/cli/post-tool-use.ts", "./post-tool-use-gemini.cjs"),
  outside("../hook/agents/cursor-post-tool-use.js", "/src/cli/post-tool-use.ts", "./post-tool-use-cursor.cjs"),
];
// The gh and kubectl channels read YAML only when the user has a gh config or a kubeconfig.
const yamlOutside = outside("yaml", "/src/exec/channels/", "./yaml.cjs");

await Promise.all([
  build({ ...cjs, entryPoints: { boot: "src/boot.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "policy-parse": "src/policy/parse.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { shell: "src/shell/analyze.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { yaml: "node_modules/yaml/dist/index.js" }, outdir: "dist" }),
  build({
    ...cjs,
    entryPoints: { hook: "src/cli/run-hook.ts" },
    outdir: "dist",
    plugins: [parseOutside, ...serviceOutside, ...agentsOutside],
  }),
  build({ ...cjs, entryPoints: { "hook-cursor": "src/hook/agents/cursor.ts" }, outdir: "dist" }),
  // The decision service (its HTTP side), resident.
  build({
    ...cjs,
    entryPoints: { serve: "src/cli/run-serve.ts" },
    outdir: "dist",
    plugins: [
      outside("../hook/agents/cursor.js", "/src/serve/routes.ts", "./hook-cursor.cjs"),
      outside("../hook/agents/gemini.js", "/src/serve/routes.ts", "./hook-gemini.cjs"),
    ],
  }),
  // The decision service's decision thread: the hook's own code (hook-call.ts), with the same lazily loaded bundles.
  build({
    ...cjs,
    entryPoints: { "serve-worker": "src/serve/decision-worker.ts" },
    outdir: "dist",
    plugins: [
      parseOutside,
      ...serviceOutside,
      ...agentsOutside,
      outside("../hook/service.js", "/src/serve/decision-worker.ts", "./hook-service.cjs"),
      outside("../hook/agents/cursor.js", "/src/serve/routes.ts", "./hook-cursor.cjs"),
      outside("../hook/agents/gemini.js", "/src/serve/routes.ts", "./hook-gemini.cjs"),
      outside("../hook/file-tools.js", "/src/serve/decision-worker.ts", "./hook-files.cjs"),
    ],
  }),
  build({ ...cjs, entryPoints: { "hook-files": "src/hook/file-tools.ts" }, outdir: "dist" }),
  // The masking hook after every tool call: its own bundle; the audit record and the other agents' adapters load on demand.
  build({
    ...cjs,
    entryPoints: { "post-tool-use": "src/cli/run-post-tool-use.ts" },
    outdir: "dist",
    plugins: [parseOutside, ...postOutside],
  }),
  build({
    ...cjs,
    entryPoints: { "post-tool-record": "src/hook/tool-record.ts" },
    outdir: "dist",
    plugins: [parseOutside],
  }),
  build({ ...cjs, entryPoints: { "post-tool-use-gemini": "src/hook/agents/gemini-after-tool.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "post-tool-use-cursor": "src/hook/agents/cursor-post-tool-use.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "hook-gemini": "src/hook/agents/gemini.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "hook-codex": "src/hook/agents/codex.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "hook-copilot": "src/hook/agents/copilot.ts" }, outdir: "dist" }),
  build({ ...cjs, entryPoints: { "hook-plugin": "src/hook/agents/plugin.ts" }, outdir: "dist" }),
  build({
    ...cjs,
    entryPoints: { "hook-service": "src/hook/service.ts" },
    outdir: "dist",
    plugins: [parseOutside, shellOutside],
  }),
  build({
    ...cjs,
    entryPoints: { "downscope-exec": "src/exec/run.ts" },
    outdir: "dist",
    plugins: [parseOutside, yamlOutside],
  }),
  build({
    ...cjs,
    entryPoints: { "credential-process": "src/cli/run-credential-process.ts" },
    outdir: "dist",
    plugins: [parseOutside],
  }),
  build({
    ...esm,
    entryPoints: { downscope: "src/cli/run.ts", index: "src/index.ts" },
    outdir: "dist",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  }),
]);

// esbuild escapes every non-ASCII character in code but keeps comments as
// written; one such character makes V8 hold the whole source as a two-byte
// string, which tripled the time to read the shell parser. Escaped in
// comments they change nothing.
for (const f of readdirSync(new URL("../dist", import.meta.url))) {
  if (!f.endsWith(".cjs")) continue;
  const url = new URL(`../dist/${f}`, import.meta.url);
  const text = readFileSync(url, "utf8");
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (ascii !== text) writeFileSync(url, ascii);
}
