// Wall time of `downscope hook` on a typical command, beside bare `node -e ''`
// (Claude Code starts one hook process per Bash call). Prints figures; asserts
// nothing. Run after `npm run build`: node bench/hook.mjs [runs]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "unbash";
import { haveGnuTime, measure } from "./harness.mjs";

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

const hookCase = (name, command) => ({
  name,
  file: process.execPath,
  args: [bin, "hook"],
  env,
  input: payload(command),
});
const cases = [
  { name: "node -e ''", file: process.execPath, args: ["-e", ""], env },
  hookCase("downscope hook: ls -la (no service)", "ls -la"),
  hookCase("downscope hook: gh pr list | jq . (allow)", "gh pr list --json number | jq ."),
  hookCase(
    "downscope hook: compound, nested (deny)",
    "cd repo && for r in a b; do gh pr list -R o/$r; done; bash -c 'gh repo delete o/r'",
  ),
];
console.log(`node ${process.version}`);
if (!haveGnuTime()) throw new Error("bench/hook.mjs needs GNU time at /usr/bin/time (apt-get install time)");
const results = measure(cases, { runs });
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(46)} median ${r.medianMs.toFixed(1).padStart(6)} ms   p90 ${r.p90Ms.toFixed(1).padStart(6)} ms   max RSS ${(r.maxRssKb / 1024).toFixed(0)} MB   (${r.runs} runs, interleaved)`,
  );

const cmd = "cd repo && gh pr list --json number | jq '.[].number' | head -5; echo $(git rev-parse HEAD)";
const n = 20000;
const t = process.hrtime.bigint();
for (let i = 0; i < n; i++) parse(cmd);
console.log(
  `unbash parse of a ${cmd.length}-char command: ${(Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(1)} µs`,
);
rmSync(root, { recursive: true, force: true });
