// Bundled entry of `downscope hook` (bin/downscope.js routes here): one file
// holding only what the hook needs, since it runs before every Bash command.
import { hook } from "./hook.js";
import { processIo } from "./io.js";

process.exit(await hook(process.argv.slice(3), processIo()));
