#!/usr/bin/env node
// CommonJS (bin/package.json) and V8's code cache: see src/boot.ts.
"use strict";
const { join } = require("node:path");

const dist = join(__dirname, "..", "dist");
try {
  require(join(dist, "boot.cjs")).loadBundle(join(dist, "downscope-exec.cjs"));
} catch (e) {
  // Nothing ran: the wrapped command does not run either.
  process.stderr.write(
    `downscope-exec: cannot start (${e && e.message ? e.message : e}). Reinstall downscope or run \`npm run build\` in its checkout.\n`,
  );
  process.exit(70);
}
