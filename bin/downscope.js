#!/usr/bin/env node
// The hook and credential-process run on every Bash command and every aws
// call: each has its own one-file bundle (see scripts/build.mjs).
const [command, next] = process.argv.slice(2);
if (command === "hook" && next === undefined) await import("../dist/hook.js");
else if (command === "credential-process" && next !== "--help" && next !== "-h")
  await import("../dist/credential-process.js");
else await import("../dist/downscope.js");
