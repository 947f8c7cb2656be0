// Bundled entry of `downscope post-tool-use` (bin/downscope.js starts it
// through dist/boot.cjs): one CommonJS file holding what the masking hook
// needs, since it runs after every tool call.
import { processIo } from "../io.js";
import { postProtocolFor, postToolUse } from "./post-tool-use.js";
import { withheldResult } from "../hook/post-tool-use.js";

const base = processIo({ sync: true });
// stdin is kept, so the net below can still withhold the output it holds.
let input: Promise<string> | undefined;
const io = { ...base, stdin: () => (input ??= base.stdin()) };
const argv = process.argv.slice(3);
postToolUse(argv, io).then(
  (code) => process.exit(code),
  // postToolUse() answers every error itself; this is the net under the net: withhold, never pass on.
  async (e: unknown) => {
    io.stderr(`downscope post-tool-use: ${e instanceof Error ? e.message : String(e)}\n`);
    try {
      const protocol = await postProtocolFor(argv);
      const payload = protocol.parse(await io.stdin());
      const a = protocol.answer(payload, withheldResult(payload, "internal error"));
      if (a.stdout !== undefined) io.stdout(a.stdout);
    } catch {
      // Nothing left to withhold with.
    }
    process.exit(0);
  },
);
