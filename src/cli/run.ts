// Bundled entry of bin/downscope.js.
import { processIo } from "../io.js";
import { main } from "./main.js";

process.exit(await main(process.argv.slice(2), processIo()));
