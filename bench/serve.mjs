// The decision service's figures for `npm run bench` (bench/run.mjs): one
// decision made the way Claude Code makes it (an HTTP POST on loopback, over a
// kept-alive connection), the same with 20 sessions posting at once, the
// service's memory under load and idle, and its CPU use while idle. Prints
// nothing itself; run.mjs reports the figures beside the others.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

const HEADERS = ["HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "PATH"];

/** Sets the service up in the bench's home (as install claude --serve would) and starts it. */
export async function startServe({ DS, env, home }) {
  // DS is <package>/bin/downscope.js; the client sits beside it.
  const port = await freePort();
  const key = randomBytes(32).toString("base64url");
  const dir = join(home, ".config/downscope");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "serve.json"), JSON.stringify({ version: 1, port, key }), { mode: 0o600 });
  writeFileSync(join(dir, "serve.key"), JSON.stringify({ version: 1, key: randomBytes(32).toString("base64url") }), {
    mode: 0o600,
  });
  const r = spawnSync(process.execPath, [DS, "serve", "--ensure"], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bench: downscope serve --ensure failed: ${r.stderr}`);
  const headers = { "content-type": "application/json", "x-downscope-key": key };
  for (const n of HEADERS) headers[`x-downscope-env-${n.toLowerCase().replaceAll("_", "-")}`] = env[n] ?? "";
  const headerFile = join(home, "serve-headers");
  writeFileSync(
    headerFile,
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n") + "\n",
    { mode: 0o600 },
  );
  const status = spawnSync(process.execPath, [DS, "serve", "--status"], { env, encoding: "utf8" }).stdout;
  const pid = Number(/pid (\d+)/.exec(status)?.[1]);
  const url = `http://127.0.0.1:${port}/v1/hook/claude/PreToolUse`;
  return {
    port,
    pid,
    url,
    headers,
    /** The sh + curl client (bin/serve-client.sh) an agent without http hooks runs instead of `downscope hook --agent`. */
    clientCase: (name, agent, input, cwd) => ({
      name,
      file: join(DS, "..", "serve-client.sh"),
      args: [agent, String(port), process.execPath, DS],
      input,
      env,
      cwd,
    }),
    stop: () => spawnSync(process.execPath, [DS, "serve", "--stop"], { env }),
  };
}

/** Latencies of `n` sequential POSTs on one kept-alive connection (after `warm` more). */
export async function sequential(serve, payload, n, warm = 20) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < warm; i++) await postOnce(serve, payload, agent);
  const ms = [];
  for (let i = 0; i < n; i++) ms.push(await postOnce(serve, payload, agent));
  agent.destroy();
  return ms;
}

/** 20 sessions, each with its own kept-alive connection, posting at once, `rounds` times: every call's latency. */
export async function concurrent(serve, payload, sessions, rounds) {
  const agents = Array.from({ length: sessions }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  await Promise.all(agents.map((a) => postOnce(serve, payload, a)));
  const ms = [];
  for (let r = 0; r < rounds; r++) ms.push(...(await Promise.all(agents.map((a) => postOnce(serve, payload, a)))));
  for (const a of agents) a.destroy();
  return ms;
}

/** Resident memory (RSS, peak, private) and CPU ticks (user + system) of the service process. */
export function processFigures(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const smaps = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const sk = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(smaps)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssMiB: kb("VmRSS") / 1024,
    peakMiB: kb("VmHWM") / 1024,
    privateMiB: (sk("Private_Dirty") + sk("Private_Clean")) / 1024,
    sharedMiB: (sk("Shared_Clean") + sk("Shared_Dirty")) / 1024,
    cpuTicks: Number(f[11]) + Number(f[12]),
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

function postOnce(serve, payload, agent) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(
      {
        host: "127.0.0.1",
        port: serve.port,
        method: "POST",
        path: new URL(serve.url).pathname,
        headers: serve.headers,
        agent,
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`bench: the service answered ${res.statusCode}`));
          resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    const port = 20000 + Math.floor(Math.random() * 12000);
    s.once("error", () => resolve(freePort()));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(port)));
  });
}
