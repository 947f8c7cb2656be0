// Round-trip time of a trivial MCP tool call (server-everything's `echo`),
// directly and through `downscope mcp-proxy`. Prints figures; asserts nothing.
//   npm run build && node bench/mcp-latency.mjs [calls]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const everything = join(
  dirname(require.resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist/index.js",
);
const calls = Number(process.argv[2] ?? 500);

const home = mkdtempSync(join(tmpdir(), "downscope-bench-"));
mkdirSync(join(home, ".config/downscope"), { recursive: true });
writeFileSync(
  join(home, ".config/downscope/config.yaml"),
  `version: 1
services:
  everything:
    server: everything
    downscope_mode: none
    rules:
      - { name: no images, match: { tools: [get-tiny-image] }, action: deny }
      - { name: src only, match: { tools: [echo], allowed_paths: [./src] }, action: deny }
`,
);
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  XDG_STATE_HOME: join(home, ".state"),
  DOWNSCOPE_MANAGED_CONFIG: join(home, "none.yaml"),
};

async function measure(label, command, args) {
  const client = new Client({ name: "bench", version: "1" });
  const t0 = performance.now();
  await client.connect(new StdioClientTransport({ command, args, env, cwd: home, stderr: "ignore" }));
  const connectMs = performance.now() - t0;
  for (let i = 0; i < 50; i++) await client.callTool({ name: "echo", arguments: { message: "warm" } });
  const times = [];
  for (let i = 0; i < calls; i++) {
    const s = performance.now();
    await client.callTool({ name: "echo", arguments: { message: `m${i}` } });
    times.push(performance.now() - s);
  }
  await client.close();
  times.sort((a, b) => a - b);
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `${label.padEnd(14)} connect ${connectMs.toFixed(0).padStart(5)} ms   call p50 ${pct(50).toFixed(3)} ms  p95 ${pct(95).toFixed(3)} ms  p99 ${pct(99).toFixed(3)} ms  mean ${mean.toFixed(3)} ms  (${calls} calls)`,
  );
  return { p50: pct(50), mean };
}

try {
  const direct = await measure("direct", process.execPath, [everything, "stdio"]);
  const proxied = await measure("mcp-proxy", process.execPath, [
    join(root, "bin/downscope.js"),
    "mcp-proxy",
    "--server",
    "everything",
    "--",
    process.execPath,
    everything,
    "stdio",
  ]);
  console.log(
    `added by the proxy: p50 ${(proxied.p50 - direct.p50).toFixed(3)} ms, mean ${(proxied.mean - direct.mean).toFixed(3)} ms per call (policy decision with a path rule included)`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
