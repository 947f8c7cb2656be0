// Bundled entry of bin/downscope-exec.js.
import { processIo } from "../cli/io.js";
import { execMain } from "./main.js";

process.exit(await execMain(process.argv.slice(2), processIo()));
