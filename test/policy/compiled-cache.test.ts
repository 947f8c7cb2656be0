/**
 * Compiled-config cache. Bypass guarded against: a stale or planted cache
 * entry standing in for the real file. Entries are keyed by the content's
 * sha256 (an edit always recompiles), and only private files we own are read.
 */
import { describe, expect, it } from "vitest";
import { chmodSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPolicy } from "../../src/policy/load.js";
import { sandbox } from "../helpers/sandbox.js";

const YAML = "version: 1\nservices:\n  gh:\n    default_action: deny\n";

describe("compiled-config cache", () => {
  it("is written privately on a miss and read on a hit", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), YAML);
    const first = await loadPolicy({ cwd: sb.project, env: sb.env });
    const dir = join(sb.env.XDG_CACHE_HOME!, "downscope/policy");
    const [entry] = readdirSync(dir);
    expect(entry).toBeDefined();
    // Prove the hit path reads the entry: alter it (privately) and see the change.
    const path = join(dir, entry!);
    writeFileSync(path, JSON.stringify({ config: { ...first.layers[0]!.config, services: {} } }), { mode: 0o600 });
    const second = await loadPolicy({ cwd: sb.project, env: sb.env });
    expect(Object.keys(second.layers[0]!.config.services)).toEqual([]);
    // A cache file readable by others is ignored and the file is compiled again.
    chmodSync(path, 0o644);
    const third = await loadPolicy({ cwd: sb.project, env: sb.env });
    expect(third.layers[0]!.config.services.gh?.default_action).toBe("deny");
  });

  it("an edited file is recompiled, never served from the old entry", async () => {
    const sb = sandbox();
    const f = sb.write(join(sb.project, ".claude/downscoping.yaml"), YAML);
    await loadPolicy({ cwd: sb.project, env: sb.env });
    sb.write(f, YAML.replace("deny", "review"));
    const p = await loadPolicy({ cwd: sb.project, env: sb.env });
    expect(p.layers[0]!.config.services.gh?.default_action).toBe("review");
  });
});
