/**
 * Bundled by real-client.test.ts and run in a child Node process (so the
 * fake Google's CA can be trusted through NODE_EXTRA_CA_CERTS): loads the
 * policy the way downscope does, decides `gcloud <args>`, and asks the real
 * GCP provider (real google-auth-library) for the token.
 * argv: <user config.yaml> <args...>   stdout: one JSON line.
 */
import { readFileSync } from "node:fs";
import { gcpProvider } from "../../src/credentials/gcp.js";
import { decide } from "../../src/policy/evaluate.js";
import { parseConfig } from "../../src/policy/parse.js";

const [file, ...args] = process.argv.slice(2);
const parsed = parseConfig(readFileSync(file!, "utf8"), file!);
if (!parsed.ok) {
  process.stdout.write(JSON.stringify({ error: "bad config", issues: parsed.issues }) + "\n");
  process.exit(0);
}
const d = decide(
  { layers: [{ name: "user", file: file!, trusted: true, config: parsed.config, sha256: "" }], warnings: [] },
  { kind: "cli", binary: "gcloud", args },
);
if (!d.grant) {
  process.stdout.write(JSON.stringify({ error: "no grant", action: d.action }) + "\n");
  process.exit(0);
}
try {
  const t = await gcpProvider.obtain(d.grant, { env: process.env, cwd: process.cwd(), now: () => new Date() });
  process.stdout.write(JSON.stringify({ token: t.value, expiresAt: t.expiresAt?.toISOString() }) + "\n");
} catch (e) {
  process.stdout.write(
    JSON.stringify({ error: (e as Error).message, kind: (e as Error).constructor.name, stack: (e as Error).stack }) +
      "\n",
  );
}
