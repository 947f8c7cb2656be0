// Bundled entry of `downscope credential-process` (bin/downscope.js starts it
// through dist/boot.cjs): the AWS CLI calls it before every request, so it
// loads only what a cache hit needs; minting imports the AWS SDK on demand.
import { credentialProcess } from "./credential-process.js";
import { processIo } from "../io.js";
import { reportError } from "./report-error.js";

const io = processIo({ sync: true });
void credentialProcess(process.argv.slice(3), io)
  .catch((e: unknown) => reportError(e, io))
  .then((code) => process.exit(code));
