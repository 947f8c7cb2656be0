// Bundled entry of bin/downscope-exec.js.
import { processIo } from "../cli/io.js";
import { execMain } from "./main.js";

const code = await execMain(process.argv.slice(2), processIo());
// After re-raising a child's signal, give it a moment to take effect.
if (code > 128) await new Promise((r) => setTimeout(r, 50));
process.exit(code);
