import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { binaryIdentity, type Pin } from "../../src/exec/pins.js";
import { CredentialUnavailable, UsageError } from "../../src/errors.js";
import { isSystemBinary, lookPath, resolveRealBinary } from "../../src/exec/resolve-binary.js";
import { SHIMS_MARKER } from "../../src/paths.js";
import { installShims } from "../../src/exec/shims.js";
import { EXEC_BIN, execSandbox } from "./helpers.js";

function exe(path: string, text = "#!/bin/sh\necho real\n") {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text, { mode: 0o755 });
  return path;
}

const pinOf = (path: string): Pin => ({ path, identity: binaryIdentity(path)! });

describe("lookPath", () => {
  it("skips a directory marked as shims", () => {
    const sb = execSandbox();
    const shims = join(sb.root, "shims");
    exe(join(shims, "gh"));
    writeFileSync(join(shims, SHIMS_MARKER), "");
    const real = exe(join(sb.root, "real/gh"));
    const found = lookPath({
      binary: "gh",
      path: `${shims}:${join(sb.root, "real")}`,
      cwd: sb.project,
      home: sb.home,
      selfPaths: [],
    });
    expect(found).toBe(real);
  });

  it("skips a shim script in an unmarked directory and a link to downscope-exec", () => {
    const sb = execSandbox();
    const a = join(sb.root, "a");
    const b = join(sb.root, "b");
    exe(join(a, "gh"), "#!/bin/sh\n# downscope shim: runs gh through downscope-exec\n");
    mkdirSync(b);
    symlinkSync(EXEC_BIN, join(b, "gh"));
    const real = exe(join(sb.root, "real/gh"));
    const found = lookPath({
      binary: "gh",
      path: `${a}:${b}:${join(sb.root, "real")}`,
      cwd: sb.project,
      home: sb.home,
      selfPaths: [EXEC_BIN],
    });
    expect(found).toBe(real);
  });

  it("skips installed shims (downscope shims install) on PATH", () => {
    const sb = execSandbox();
    const dir = join(sb.root, "installed");
    const real = exe(join(sb.root, "real/gh"));
    installShims({
      dir,
      binaries: ["gh"],
      env: { ...sb.env, PATH: join(sb.root, "real") },
      cwd: sb.project,
      execEntry: EXEC_BIN,
    });
    expect(
      lookPath({
        binary: "gh",
        path: `${dir}:${join(sb.root, "real")}`,
        cwd: sb.project,
        home: sb.home,
        selfPaths: [],
      }),
    ).toBe(real);
  });
});

describe("resolveRealBinary and pins", () => {
  // Bypass: the agent puts its own gh (./gh, /tmp/gh) first on PATH to receive the
  // scoped token. Fix: credentials go only to the pinned binary (or a system-owned
  // one when nothing is pinned). Proves: a look-up that lands elsewhere is refused.
  it("refuses a binary that is not the pinned one", () => {
    const sb = execSandbox();
    const real = exe(join(sb.root, "real/gh"));
    const evil = exe(join(sb.project, "gh"));
    expect(() =>
      resolveRealBinary({
        binary: "gh",
        path: `.:${join(sb.root, "real")}`,
        cwd: sb.project,
        home: sb.home,
        pin: pinOf(real),
        selfPaths: [],
      }),
    ).toThrow(CredentialUnavailable);
    expect(
      resolveRealBinary({
        binary: "gh",
        path: join(sb.root, "real"),
        cwd: sb.project,
        home: sb.home,
        pin: pinOf(real),
        selfPaths: [],
      }),
    ).toEqual({ path: real, how: "pinned" });
    void evil;
  });

  /**
   * Bypass: the real gh was a user-owned install (Homebrew, mise, ~/.local/bin);
   * the agent's Write tool replaced it, and the next `gh pr list` ran the
   * replacement outside the sandbox with the readonly token. Fix: a pin records
   * the identity of the file (device, inode, size, mtime, ctime) and a changed
   * one gets nothing until a person pins it again. Proves: a replaced binary, an
   * upgraded release behind a pinned symlink and a pin from before identities
   * are refused with how to re-pin; the same file passes.
   */
  it("refuses a pinned binary that changed since it was pinned, and says how to re-pin", () => {
    const sb = execSandbox();
    const gh = exe(join(sb.root, "local/bin/gh"));
    const pin = pinOf(gh);
    const resolve = (p: Pin) =>
      resolveRealBinary({ binary: "gh", path: dirname(gh), cwd: sb.project, home: sb.home, pin: p, selfPaths: [] });
    expect(resolve(pin).how).toBe("pinned");
    writeFileSync(gh, "#!/bin/sh\necho replaced\n");
    expect(() => resolve(pin)).toThrow(/changed since it was pinned.*downscope shims install --repin/);
    expect(() => resolve({ path: gh })).toThrow(/older downscope.*--repin/);
    expect(resolve(pinOf(gh)).how).toBe("pinned");
  });

  it("a pinned symlink that now points at an upgraded release is refused until re-pinned", () => {
    const sb = execSandbox();
    const v1 = exe(join(sb.root, "cellar/1/gh"));
    const v2 = exe(join(sb.root, "cellar/2/gh"), "#!/bin/sh\necho v2\n");
    const dir = join(sb.root, "brew/bin");
    mkdirSync(dir, { recursive: true });
    const link = join(dir, "gh");
    symlinkSync(v1, link);
    const pin = pinOf(link);
    rmSync(link);
    symlinkSync(v2, link);
    const resolve = (p: Pin) =>
      resolveRealBinary({ binary: "gh", path: dir, cwd: sb.project, home: sb.home, pin: p, selfPaths: [] });
    expect(() => resolve(pin)).toThrow(/changed since it was pinned/);
    expect(resolve(pinOf(link)).how).toBe("pinned");
  });

  it("without a pin, refuses a binary in the project, HOME or temp dirs and accepts a root-owned system one", () => {
    const sb = execSandbox();
    const tmpGh = exe(join(sb.root, "tmpbin/gh"));
    expect(() =>
      resolveRealBinary({ binary: "gh", path: join(tmpGh, ".."), cwd: sb.project, home: sb.home, selfPaths: [] }),
    ).toThrow(/not pinned/);
    expect(isSystemBinary(tmpGh, sb.project, sb.home)).toBe(false);
    // /bin/sh is root-owned and not writable by group or others on any sane system.
    const r = resolveRealBinary({ binary: "sh", path: "/usr/bin:/bin", cwd: sb.project, home: sb.home, selfPaths: [] });
    expect(r.how).toBe("system");
  });

  it("binary_path from the trusted config wins; a missing binary is a clear error", () => {
    const sb = execSandbox();
    const real = exe(join(sb.root, "opt/gh"));
    expect(
      resolveRealBinary({ binary: "gh", path: "", cwd: sb.project, home: sb.home, binaryPath: real, selfPaths: [] })
        .how,
    ).toBe("binary_path");
    expect(() =>
      resolveRealBinary({ binary: "gh", path: join(sb.root, "empty"), cwd: sb.project, home: sb.home, selfPaths: [] }),
    ).toThrow(UsageError);
    expect(() =>
      resolveRealBinary({ binary: "gh", path: join(sb.root, "empty"), cwd: sb.project, home: sb.home, selfPaths: [] }),
    ).toThrow(/not installed/);
  });
});
