/**
 * Self-protection in default mode: the hook denies the agent's own attempts
 * to switch downscope off — its management commands (`trust`, `install`,
 * `uninstall`, `init`, …, however spelled: `npx downscope`, `node
 * …/bin/downscope.js`, inside `bash -c`, `eval`, `script -c`) and commands
 * that write, move or remove downscope's files or the settings that hold its
 * hooks (src/protection/protected-paths.ts). Read-only commands (`check`, `lint`, `audit`,
 * `doctor`, `test`, `cat` of the user config, …) pass.
 *
 * This is "no casual self-disable": it catches the eager model that runs
 * `downscope trust` to get past an untrusted-policy deny, and the plain
 * spellings of `rm ~/.local/state/downscope/trusted.json`. A program written
 * to evade it (paths assembled at run time in a script) is not caught here;
 * contained mode (Claude Code's sandbox, docs/security-model.md) makes those
 * files unwritable whatever runs.
 *
 * Pure apart from resolving paths; `mayTouchSelf` is the cheap gate the hook
 * runs on every command (self-gate.ts: a few substring tests), so that
 * commands naming none of this load no parser.
 */
import { basename, isAbsolute, resolve } from "node:path";
import type { Env } from "../paths.js";
import type { ShellAnalysis, ShellInvocation } from "../shell/analyze.js";
import { inside, protectedPaths, selfDenyReason, type ProtectedPath } from "../protection/protected-paths.js";
import { AGENT_DIR_VARS } from "./self-gate.js";

/** downscope subcommands the agent may run: they read, print or decide, and change nothing of downscope's. */
const READ_ONLY_SUBCOMMANDS = new Set([
  ...["check", "lint", "audit", "doctor", "test", "schema", "demo", "env", "cache", "mcp-proxy", "scan"],
  ...["help", "--help", "-h", "--version", "-V"],
]);
/** Subcommands that only write the file their flags name: allowed unless that names a protected path. */
const WRITES_NAMED_FILE = new Set(["suggest", "report"]);

/** Commands that only read the files they name. */
const READERS = new Set([
  ...["cat", "less", "more", "head", "tail", "ls", "stat", "file", "wc", "grep", "egrep", "fgrep", "rg", "ag"],
  ...["jq", "yq", "diff", "cmp", "md5sum", "sha1sum", "sha256sum", "b2sum", "test", "[", "realpath", "readlink"],
  ...["dirname", "basename", "du", "tree", "nl", "od", "xxd", "hexdump", "strings", "echo", "printf", "bat"],
]);
/** Commands that remove, move, replace or re-permission what they name — an ancestor directory included. */
const REPLACERS = new Set([
  ...["rm", "rmdir", "mv", "unlink", "shred", "chmod", "chown", "chgrp", "chattr", "setfacl", "find", "rsync"],
  ...["ln", "cp", "install", "tar", "unzip", "bsdtar", "cpio", "trash", "gio"],
]);
/**
 * Commands that only remove what they name: removing any directory above a
 * protected location removes it too, the home directory and the project
 * included (`rm -rf ~`, `rm -rf .` in the project).
 */
const REMOVERS = new Set(["rm", "rmdir", "unlink", "shred", "trash"]);
const CHANGE_DIR = new Set(["cd", "pushd"]);
const PACKAGE_RUNNERS = new Set(["npx", "pnpx", "bunx", "npm", "pnpm", "yarn", "bun"]);
const SCRIPT_RUNNERS = new Set(["node", "nodejs", "bun", "deno", "tsx", "ts-node"]);
/** Words that, beside "downscope" in a code string (`python3 -c`, `node -e`), name a management command. */
const MANAGEMENT_WORDS =
  /\b(trust|untrust|install|uninstall|init|slot|approve|session-start|hook|shims|credential-process|lock|unlock|serve)\b/;
/** Commands that signal processes by name: aimed at downscope's decision service or its keeper, they stop it. */
const SIGNALLERS = new Set(["kill", "pkill", "killall"]);

export interface SelfContext {
  env: Env;
  cwd: string;
  project: string;
}

type Denial = { decision: "deny"; reason: string };

export function decideSelf(a: ShellAnalysis, ctx: SelfContext): Denial | undefined {
  const list = protectedPaths(ctx.env, ctx.project);
  // `cd ~ && rm -rf .config`: relative paths are read from the cwd and from every literal `cd` target.
  const paths = new PathReader(list, ctx, directories(a, ctx));

  for (const inv of a.invocations) {
    const sub = downscopeArgs(inv);
    if (sub !== undefined) {
      const verdict = judgeDownscope(inv, sub, paths);
      if (verdict) return verdict;
      continue;
    }
    if (SIGNALLERS.has(inv.binary) && inv.args.some((x) => /downscope|serve-keeper/.test(x)))
      return deny(
        `\`${clip(inv.text)}\` signals downscope's decision service, which decides every tool call of this session; stopping it blocks them. Only the user may stop or restart it: tell the user what you need.`,
      );
    if (mentionsManagement(inv))
      return deny(
        `\`${clip(inv.text)}\` runs a downscope management command from inside a program; only the user may change downscope's setup. Tell the user what you need and ask the user to run it themselves.`,
      );
    const verdict = judgePaths(inv, paths);
    if (verdict) return verdict;
  }
  for (const r of a.redirections) {
    const hit = paths.hit(r.target, r.dynamic);
    if (hit && (r.writes || hit.p.secret) && hit.relation === "inside")
      return deny(selfDenyReason(`the redirection ${r.writes ? "to" : "from"} ${r.target}`, hit.p, !r.writes));
  }
  // `cd ~/.config/downscope && rm config.yaml`: a relative path after changing into a protected place.
  const into = a.invocations.find(
    (inv) => CHANGE_DIR.has(inv.binary) && inv.args.some((x) => paths.hit(x, inv.dynamicArgs)?.relation !== undefined),
  );
  // A shell running a `-c` string is not a writer itself: the commands in the string are judged on their own.
  const writer = (inv: ShellInvocation) =>
    inv !== into && !READERS.has(inv.binary) && !CHANGE_DIR.has(inv.binary) && !runsString(inv, a);
  if (into && a.invocations.some(writer)) {
    const hit = into.args.map((x) => paths.hit(x, into.dynamicArgs)).find((h) => h !== undefined)!;
    return deny(selfDenyReason(`\`${clip(into.text)}\` followed by commands that may write there`, hit.p));
  }
  return undefined;
}

/**
 * The directories relative paths may be read from: the cwd, then each literal
 * `cd`/`pushd` target in the command (`cd` alone: the home), each resolved
 * from the one before. Every one is checked for every path, whatever branch
 * of the command it is in: a false deny is a retyped command, a missed one is
 * downscope switched off.
 */
export function directories(a: ShellAnalysis, ctx: SelfContext): string[] {
  const home = ctx.env.HOME ?? "";
  const out = [ctx.cwd];
  let cwd = ctx.cwd;
  for (const inv of a.invocations) {
    if (!CHANGE_DIR.has(inv.binary)) continue;
    const target = inv.args.find((x) => !x.startsWith("-")) ?? (inv.args.length === 0 ? home : undefined);
    if (target === undefined || target === "" || (home === "" && /^~|\$\{?HOME\b/.test(target))) continue;
    const tilde = target === "~" || target.startsWith("~/") ? home + target.slice(1) : target;
    const expanded = tilde.replaceAll("${HOME}", home).replaceAll("$HOME", home);
    // Only $HOME is known statically (`cd $HOME`); any other expansion or a glob leaves the directory unknown.
    if (/[$`*?[]/.test(expanded)) continue;
    cwd = resolve(cwd, expanded);
    if (!out.includes(cwd)) out.push(cwd);
  }
  return out;
}

/** A shell whose `-c` string the analysis read: its commands are invocations of their own. */
function runsString(inv: ShellInvocation, a: ShellAnalysis): boolean {
  if (!SHELLS.has(inv.binary) || !inv.args.some((x) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(x))) return false;
  return (
    a.invocations.some((other) => other !== inv && other.wrappers.includes(inv.binary)) || a.unresolved.length === 0
  );
}

const SHELLS = new Set(["bash", "sh", "zsh", "dash", "ksh", "mksh", "ash"]);

function deny(reason: string): Denial {
  return { decision: "deny", reason: reason.startsWith("downscope:") ? reason : `downscope: ${reason}` };
}

/**
 * The arguments after the program when `inv` runs downscope itself
 * (`downscope trust`, `npx downscope trust`, `node …/bin/downscope.js trust`,
 * `npm exec -- downscope trust`), else undefined. downscope-exec is not
 * management: it decides what it wraps (the analyser unwraps it).
 */
export function downscopeArgs(inv: ShellInvocation): string[] | undefined {
  if (isDownscopeBin(inv.word)) return inv.args;
  if (SCRIPT_RUNNERS.has(inv.binary)) {
    const i = inv.args.findIndex((x) => !x.startsWith("-"));
    const script = inv.args[i];
    if (script !== undefined && isDownscopeScript(script)) return inv.args.slice(i + 1);
    return undefined;
  }
  if (PACKAGE_RUNNERS.has(inv.binary)) {
    const i = inv.args.findIndex((x) => isDownscopeBin(x) || /^downscope@/.test(x));
    if (i !== -1) return inv.args.slice(i + 1);
  }
  return undefined;
}

function isDownscopeBin(word: string): boolean {
  const b = basename(word);
  return b === "downscope" || b === "downscope.js";
}

function isDownscopeScript(script: string): boolean {
  if (isDownscopeBin(script)) return true;
  const b = basename(script);
  if (b.startsWith("downscope-exec")) return false;
  // The package's own entry points: bin/downscope.js, dist/downscope.js, dist/run*.cjs, src/cli/*.ts.
  return /downscope/.test(script) && /\.(c|m)?[jt]s$/.test(b) && /(^|\/)(bin|dist|src\/cli)\//.test(script);
}

function judgeDownscope(inv: ShellInvocation, args: string[], paths: PathReader): Denial | undefined {
  const sub = args[0];
  if (args.some((x) => x === "--help" || x === "-h") && !inv.dynamicArgs) return undefined;
  if (sub !== undefined && READ_ONLY_SUBCOMMANDS.has(sub) && !inv.dynamicArgs) {
    const secret = args.map((x) => paths.hit(x, false)).find((h) => h?.p.secret);
    if (secret) return deny(selfDenyReason(`\`${clip(inv.text)}\``, secret.p, true));
    if (sub !== "cache" || args[1] === "clear" || args.length === 1) return undefined;
  }
  if (sub !== undefined && WRITES_NAMED_FILE.has(sub) && !inv.dynamicArgs) {
    const hit = args.map((x) => paths.hit(x, false)).find((h) => h?.relation === "inside");
    if (hit === undefined) return undefined;
    return deny(selfDenyReason(`\`${clip(inv.text)}\``, hit.p));
  }
  const what = sub === undefined ? "downscope" : `downscope ${sub}`;
  return deny(
    `\`${clip(inv.text)}\` is a downscope management command (${what}): trusting a policy, installing or removing hooks, shims or profiles, storing tokens and approving reviews are for the user alone. Do not run it or work around it: tell the user what you need and ask the user to run it themselves in their own terminal (for example: "the project policy is untrusted; please review .claude/downscoping.yaml and run \`downscope trust\`").`,
  );
}

/** A code string handed to an interpreter (`python3 -c '…downscope trust…'`). */
function mentionsManagement(inv: ShellInvocation): boolean {
  return inv.args.some((x) => x.includes("downscope") && /\s/.test(x) && MANAGEMENT_WORDS.test(x));
}

function judgePaths(inv: ShellInvocation, paths: PathReader): Denial | undefined {
  if (CHANGE_DIR.has(inv.binary)) return undefined; // judged with what follows
  for (const x of [inv.word, ...inv.args]) {
    const hit = paths.hit(x, inv.dynamicArgs, REMOVERS.has(inv.binary));
    if (hit === undefined) continue;
    const reader = READERS.has(inv.binary);
    if (hit.relation === "inside" && (!reader || hit.p.secret))
      return deny(selfDenyReason(`\`${clip(inv.text)}\``, hit.p, reader));
    if (hit.relation === "ancestor" && REPLACERS.has(inv.binary))
      return deny(selfDenyReason(`\`${clip(inv.text)}\` (a directory that holds it)`, hit.p));
  }
  return undefined;
}

interface Hit {
  p: ProtectedPath;
  relation: "inside" | "ancestor";
}

/**
 * Reads a word as a path or as text that contains one. A word names a
 * protected location if, as a path (after `~`/`$HOME` expansion, relative to
 * any of the directories given: the cwd and the command's `cd` targets), it is inside one or a directory above one; or if it contains one's
 * spelling (absolute, `~/…`, `$HOME/…`, home-relative `.config/downscope`) —
 * which also finds paths inside code strings and `--out=…` values. Globs are
 * matched against the locations and the directories above them.
 */
export class PathReader {
  private readonly needles: { re: RegExp; p: ProtectedPath }[] = [];
  private readonly home: string;
  constructor(
    private readonly list: readonly ProtectedPath[],
    private readonly ctx: SelfContext,
    private readonly cwds: readonly string[] = [ctx.cwd],
  ) {
    this.home = ctx.env.HOME ?? "";
    for (const p of list) {
      const spellings = new Set([p.path]);
      const fromHome = this.home !== "" && inside(p.path, this.home) ? p.path.slice(this.home.length + 1) : undefined;
      if (fromHome !== undefined && fromHome !== "") {
        for (const h of ["~/", "$HOME/", "${HOME}/"]) spellings.add(h + fromHome);
        if (fromHome.includes("/") || fromHome.startsWith(".")) spellings.add(fromHome);
      }
      if (inside(p.path, ctx.project) && p.path !== ctx.project) spellings.add(p.path.slice(ctx.project.length + 1));
      for (const s of spellings) this.needles.push({ re: new RegExp(`${escape(s)}(?![\\w.-])`), p });
    }
  }

  /** `remover`: every directory above a protected location counts (REMOVERS), not only the significant ones. */
  hit(word: string, dynamic: boolean, remover = false): Hit | undefined {
    const counts = (dir: string) => (remover ? dir !== "" : this.significant(dir));
    const expanded = this.expand(word);
    const hasGlob = /[*?[]/.test(expanded);
    if (hasGlob && (dynamic || /[*?[]/.test(word))) {
      // Compare component by component: the glob's first k components against a k-component location.
      for (const abs of this.absolutes(expanded)) {
        const parts = abs.split("/");
        for (const p of this.list) {
          const k = p.path.split("/").length;
          if (parts.length >= k && globRegex(parts.slice(0, k).join("/")).test(p.path))
            return { p, relation: "inside" };
          if (parts.length < k) {
            const d = p.path.split("/").slice(0, parts.length).join("/");
            if (globRegex(parts.join("/")).test(d) && counts(d)) return { p, relation: "ancestor" };
          }
        }
      }
    }
    for (const n of this.needles) if (n.re.test(word) || n.re.test(expanded)) return { p: n.p, relation: "inside" };
    if (expanded === "" || expanded.includes("\n") || /^[a-z][a-z0-9+.-]*:\/\//i.test(expanded)) return undefined;
    for (const abs of this.absolutes(expanded.replace(/^--?[\w-]+=/, ""))) {
      for (const p of this.list) {
        if (inside(abs, p.path)) return { p, relation: "inside" };
        if (inside(p.path, abs) && counts(abs)) return { p, relation: "ancestor" };
      }
    }
    return undefined;
  }

  /**
   * A directory above a protected location counts only below the home and
   * outside the project: `rm -rf ~/.config` and `mv .claude x` are caught,
   * while `cp a.txt .` in the project or `cd ~` are everyday commands.
   */
  private significant(dir: string): boolean {
    if (dir === "/" || inside(this.ctx.project, dir)) return false;
    if (inside(dir, this.ctx.project)) return true;
    return this.home === "" ? true : inside(dir, this.home) && dir !== this.home;
  }

  private expand(word: string): string {
    let w = word;
    if (this.home !== "") {
      if (w === "~" || w.startsWith("~/")) w = this.home + w.slice(1);
      w = w.replaceAll("${HOME}", this.home).replaceAll("$HOME", this.home);
    }
    // An agent's config directory by its variable (`rm $CODEX_HOME/config.toml`), when the hook knows its value.
    if (w.includes("$"))
      for (const v of AGENT_DIR_VARS) {
        const d = this.ctx.env[v];
        if (d !== undefined && d.startsWith("/"))
          w = w.replace(new RegExp(`\\$\\{${v}\\}|\\$${v}(?![A-Za-z0-9_])`, "g"), d);
      }
    return w;
  }

  /** The path as an absolute one: itself, or read from each directory it may be relative to. */
  private absolutes(p: string): string[] {
    return isAbsolute(p) ? [resolve(p)] : this.cwds.map((d) => resolve(d, p));
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** A shell glob (`*`, `?`, `[…]`) as an anchored regex over whole paths; `*` does not cross `/`. */
function globRegex(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}
