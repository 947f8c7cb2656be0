// Whole-process measurement: wall time (median of N, after a warm-up) and peak
// RSS of a child process, measured through GNU time so every figure, baseline
// included, pays the same overhead. Cases are interleaved run by run so that
// drift of a busy machine hits all of them alike.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const TIME = "/usr/bin/time";

export function haveGnuTime() {
  return existsSync(TIME);
}

function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ["-f", "%M", c.file, ...c.args], {
    input: c.input ?? "",
    env: c.env ?? process.env,
    cwd: c.cwd,
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !c.allowFailure) {
    throw new Error(`${c.name}: exit ${r.status}\n${r.stderr}`);
  }
  const lines = r.stderr.trim().split("\n");
  const rssKb = Number(lines[lines.length - 1]);
  return { ms, rssKb, stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** cases: [{name, file, args, env?, input?, cwd?}] → {name: {medianMs, p90Ms, maxRssKb, runs}} */
export function measure(cases, { runs = 30, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) for (const c of cases) once(c);
  const samples = Object.fromEntries(cases.map((c) => [c.name, { ms: [], rss: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = once(c);
      samples[c.name].ms.push(r.ms);
      samples[c.name].rss.push(r.rssKb);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, v]) => {
      const sorted = [...v.ms].sort((a, b) => a - b);
      return [
        k,
        {
          medianMs: median(v.ms),
          p90Ms: sorted[Math.floor(sorted.length * 0.9)],
          maxRssKb: Math.max(...v.rss),
          medianRssKb: median(v.rss),
          runs: v.ms.length,
        },
      ];
    }),
  );
}
