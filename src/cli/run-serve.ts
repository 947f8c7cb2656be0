// Bundled entry of the decision service itself (`downscope serve` and `serve
// --fd N`, which its keeper runs; bin/downscope.js starts it through
// dist/boot.cjs): one CommonJS file, so the resident process holds only the
// HTTP side; the decision code lives in its decision thread (dist/serve-worker.cjs).
import { processIo } from "../io.js";
import { reportError } from "./report-error.js";
import { serve } from "./serve.js";

const io = processIo();
void serve(process.argv.slice(3), io)
  .catch((e: unknown) => reportError(e, io))
  .then((code) => process.exit(code));
