// Test sandboxes (HOME, XDG_*) must not sit in /tmp or the project: downscope
// refuses to read its trusted files from places the agent can write (see
// relocationProblem in src/paths.ts). So every test's tmpdir() is a private
// directory under the test runner's own cache dir instead.
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const dir = join(homedir(), ".cache", "downscope-tests");
mkdirSync(dir, { recursive: true, mode: 0o700 });
process.env.TMPDIR = dir;
