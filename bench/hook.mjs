// Wall time of `downscope hook` on a typical command, beside bare `node -e ''`
// (Claude Code starts one hook process per Bash call). Prints figures; asserts
// nothing. Run after `npm run build`: node bench/hook.mjs [runs]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "unbash";

const runs = Number(process.argv[2] ?? 30);
const root = mkdtempSync(join(tmpdir(), "downscope-bench-"));
const home = join(root, "home");
mkdirSync(join(home, ".config/downscope"), { recursive: true });
writeFileSync(
  join(home, ".config/downscope/config.yaml"),
  `version: 1
settings: { harmless_commands: [jq, head] }
services:
  gh:
    token_slots: { ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN } }
    default_slot: ro
    rules:
      - { name: no deletes, match: { command: [repo, delete] }, action: deny }
      - { name: merges, match: { command: [pr, merge] }, action: review }
  aws: { downscope_mode: none }
  kubectl: { downscope_mode: none }
`,
);
const env = {
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  XDG_STATE_HOME: join(home, ".local/state"),
  XDG_CACHE_HOME: join(home, ".cache"),
  DOWNSCOPE_MANAGED_CONFIG: join(root, "none.yaml"),
  PATH: process.env.PATH,
};
const bin = new URL("../bin/downscope.js", import.meta.url).pathname;
const payload = (command) =>
  JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command }, cwd: root });

function time(label, file, args, input) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(file, args, { env, input, encoding: "utf8" });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0) throw new Error(`${label}: exit ${r.status} ${r.stderr}`);
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
  console.log(`${label.padEnd(46)} median ${q(0.5).padStart(6)} ms   p90 ${q(0.9).padStart(6)} ms   (${runs} runs)`);
}

console.log(`node ${process.version}`);
time("node -e ''", process.execPath, ["-e", ""], "");
time("downscope hook: ls -la (no service)", process.execPath, [bin, "hook"], payload("ls -la"));
time(
  "downscope hook: gh pr list | jq . (allow)",
  process.execPath,
  [bin, "hook"],
  payload("gh pr list --json number | jq ."),
);
time(
  "downscope hook: compound, nested (deny)",
  process.execPath,
  [bin, "hook"],
  payload("cd repo && for r in a b; do gh pr list -R o/$r; done; bash -c 'gh repo delete o/r'"),
);

const cmd = "cd repo && gh pr list --json number | jq '.[].number' | head -5; echo $(git rev-parse HEAD)";
const n = 20000;
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) parse(cmd);
console.log(
  `unbash parse of a ${cmd.length}-char command: ${(Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(1)} µs`,
);
rmSync(root, { recursive: true, force: true });
