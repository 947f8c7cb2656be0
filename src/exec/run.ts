// Bundled entry of bin/downscope-exec.js (started through dist/boot.cjs).
import { processIo } from "../io.js";
import { errorMessage } from "../errors.js";
import { execMain } from "./main.js";

const io = processIo({ sync: true });
void execMain(process.argv.slice(2), io)
  .catch((e: unknown) => {
    // execMain reports its own errors; this is the net under it. Nothing ran.
    io.stderr(`downscope-exec: internal error: ${errorMessage(e)}\n`);
    return 70;
  })
  .then(async (code) => {
    // After re-raising a child's signal, give it a moment to take effect.
    if (code > 128) await new Promise((r) => setTimeout(r, 50));
    process.exit(code);
  });
