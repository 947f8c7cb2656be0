/**
 * Compiled-config cache. Bypass guarded against: a stale or planted cache
 * entry standing in for the real file. Entries are keyed by the content's
 * sha256 (an edit always recompiles), and only private files we own are read.
 */
import { describe, expect, it } from "vitest";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
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

/**
 * File identities: the sha256 of a settled layer file is remembered with its
 * device, inode, size, mtime and ctime, so a hit reads neither the file nor
 * node:crypto. Bypass guarded against: an edit that keeps size and mtime
 * (touch -d) riding on the remembered hash of trusted content. ctime cannot
 * be set, so any write changes the identity.
 */
describe("file identities", () => {
  const later = () => Date.now() + 10_000;
  const identities = (sb: ReturnType<typeof sandbox>) =>
    JSON.parse(readFileSync(join(sb.env.XDG_CACHE_HOME!, "downscope/policy/identities.json"), "utf8")) as Record<
      string,
      { identity: string; sha256: string }
    >;

  it("remembers a settled file's hash, and serves it from the identity without reading the file", async () => {
    const sb = sandbox();
    const f = sb.write(join(sb.project, ".claude/downscoping.yaml"), YAML);
    const first = await loadPolicy({ cwd: sb.project, env: sb.env, now: later });
    expect(identities(sb)[f]?.sha256).toBe(first.layers[0]!.sha256);
    // Prove a hit uses the remembered hash: forge it (privately) and see it come back.
    const all = identities(sb);
    all[f]!.sha256 = "f".repeat(64);
    const dir = join(sb.env.XDG_CACHE_HOME!, "downscope/policy");
    const compiled = readdirSync(dir).find((n) => n.endsWith(`-${first.layers[0]!.sha256}.json`))!;
    copyFileSync(join(dir, compiled), join(dir, compiled.replace(first.layers[0]!.sha256, "f".repeat(64))));
    writeFileSync(join(sb.env.XDG_CACHE_HOME!, "downscope/policy/identities.json"), JSON.stringify(all), {
      mode: 0o600,
    });
    const second = await loadPolicy({ cwd: sb.project, env: sb.env, now: later });
    expect(second.layers[0]!.sha256).toBe("f".repeat(64));
  });

  it("does not remember a file changed in the last two seconds (racy)", async () => {
    const sb = sandbox();
    sb.write(join(sb.project, ".claude/downscoping.yaml"), YAML);
    await loadPolicy({ cwd: sb.project, env: sb.env });
    expect(existsSync(join(sb.env.XDG_CACHE_HOME!, "downscope/policy/identities.json"))).toBe(false);
  });

  it("an edit that keeps the size and the mtime is still seen, and withdraws trust", async () => {
    const sb = sandbox();
    const f = sb.write(join(sb.project, ".claude/downscoping.yaml"), YAML);
    // A whole-second mtime, so setting it back is exact to the nanosecond.
    utimesSync(f, 1_700_000_000, 1_700_000_000);
    const trusted = await loadPolicy({ cwd: sb.project, env: sb.env, now: later });
    const { writeTrustStore } = await import("../../src/policy/trust.js");
    writeTrustStore(sb.env, new Map([[f, trusted.layers[0]!.sha256]]));
    expect((await loadPolicy({ cwd: sb.project, env: sb.env, now: later })).layers[0]!.trusted).toBe(true);
    const before = statSync(f, { bigint: true });
    const edited = YAML.replace("deny", "dent");
    expect(edited.length).toBe(YAML.length);
    writeFileSync(f, edited);
    utimesSync(f, 1_700_000_000, 1_700_000_000);
    const after = statSync(f, { bigint: true });
    expect([after.dev, after.ino, after.size, after.mtimeNs]).toEqual([
      before.dev,
      before.ino,
      before.size,
      before.mtimeNs,
    ]);
    await expect(loadPolicy({ cwd: sb.project, env: sb.env, now: later })).rejects.toThrow(
      /default_action: expected allow/,
    );
    writeFileSync(f, YAML.replace("deny", "allow"));
    const reloaded = await loadPolicy({ cwd: sb.project, env: sb.env, now: later });
    expect(reloaded.layers[0]!.trusted).toBe(false);
    expect(reloaded.layers[0]!.untrustedReason).toBe("modified since it was trusted");
  });
});
