// Round-trip time of a trivial MCP tool call (server-everything's `echo`),
// directly, through `downscope mcp-proxy`, and through the proxy with an MCP
// tool lock in force (every call checked against the pinned definitions).
// Prints figures; asserts nothing.
//   npm run build && node bench/mcp-latency.mjs [calls]
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
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

// Not under /tmp: downscope refuses to read trusted files from scratch directories.
const benchRoot = join(homedir(), ".cache", "downscope-bench");
mkdirSync(benchRoot, { recursive: true, mode: 0o700 });
const home = mkdtempSync(join(benchRoot, "run-"));
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

// A project whose MCP lock pins server-everything's tools. `mcp lock` asks a person: as root the bench
// provisions as an image build would (managed admin_without_terminal), otherwise it types yes on a pty.
const project = join(home, "project");
mkdirSync(project);
const lockArgs = [
  join(root, "bin/downscope.js"),
  "mcp",
  "lock",
  "--server",
  "everything",
  "--",
  process.execPath,
  everything,
  "stdio",
];
const lockEnv = { ...env };
if (process.getuid?.() === 0) {
  lockEnv.DOWNSCOPE_MANAGED_CONFIG = join(home, "managed.yaml");
  writeFileSync(
    lockEnv.DOWNSCOPE_MANAGED_CONFIG,
    "version: 1\nsettings: { admin_without_terminal: true }\nservices: {}\n",
  );
}
const locked =
  process.getuid?.() === 0
    ? spawnSync(process.execPath, lockArgs, { cwd: project, env: lockEnv, encoding: "utf8" })
    : spawnSync(
        "python3",
        [join(root, "test/helpers/with-tty.py"), 'type "yes"', "yes", "--", process.execPath, ...lockArgs],
        {
          cwd: project,
          env,
          encoding: "utf8",
          timeout: 120_000,
        },
      );
if (locked.status !== 0) throw new Error(`bench: downscope mcp lock failed: ${locked.stderr}`);

async function connect(command, args, cwd = home) {
  const client = new Client({ name: "bench", version: "1" });
  const t0 = performance.now();
  await client.connect(new StdioClientTransport({ command, args, env, cwd, stderr: "ignore" }));
  return { client, connectMs: performance.now() - t0, times: [] };
}

async function call(c, i) {
  const s = performance.now();
  await c.client.callTool({ name: "echo", arguments: { message: `m${i}` } });
  c.times.push(performance.now() - s);
}

function stats(label, c) {
  const t = [...c.times].sort((a, b) => a - b);
  const pct = (p) => t[Math.min(t.length - 1, Math.floor((p / 100) * t.length))];
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  console.log(
    `${label.padEnd(10)} connect ${c.connectMs.toFixed(0).padStart(5)} ms   call p50 ${pct(50).toFixed(3)} ms  p95 ${pct(95).toFixed(3)} ms  p99 ${pct(99).toFixed(3)} ms  mean ${mean.toFixed(3)} ms  (${t.length} calls)`,
  );
  return { p50: pct(50), mean };
}

try {
  const direct = await connect(process.execPath, [everything, "stdio"]);
  const proxied = await connect(process.execPath, [
    join(root, "bin/downscope.js"),
    "mcp-proxy",
    "--server",
    "everything",
    "--",
    process.execPath,
    everything,
    "stdio",
  ]);
  const withLock = await connect(
    process.execPath,
    [
      join(root, "bin/downscope.js"),
      "mcp-proxy",
      "--server",
      "everything",
      "--",
      process.execPath,
      everything,
      "stdio",
    ],
    project,
  );
  for (const c of [proxied, withLock]) {
    const probe = await c.client.callTool({ name: "echo", arguments: { message: "probe" } });
    if (probe.isError) throw new Error(`the proxy denied the benchmark call: ${JSON.stringify(probe.content)}`);
  }
  for (let i = 0; i < 50; i++) await Promise.all([call(direct, i), call(proxied, i), call(withLock, i)]);
  direct.times = [];
  proxied.times = [];
  withLock.times = [];
  // Interleaved, so the drift of a busy machine hits all alike.
  for (let i = 0; i < calls; i++) {
    await call(direct, i);
    await call(proxied, i);
    await call(withLock, i);
  }
  await direct.client.close();
  await proxied.client.close();
  await withLock.client.close();
  const d = stats("direct", direct);
  const p = stats("mcp-proxy", proxied);
  const l = stats("+ mcp lock", withLock);
  console.log(
    `added by the proxy: p50 ${(p.p50 - d.p50).toFixed(3)} ms, mean ${(p.mean - d.mean).toFixed(3)} ms per call (includes the policy decision)\n` +
      `added by the lock check: p50 ${(l.p50 - p.p50).toFixed(3)} ms, mean ${(l.mean - p.mean).toFixed(3)} ms per call`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
