/**
 * Default mode's best-effort guard of the user's credentials against an
 * eager agent (docs/security-model.md, "Two levels"): the hook denies the
 * plain ways of reading a credential store with Bash (`cat
 * ~/.aws/credentials`, `grep -r token ~/.config/gh`, `cd ~/.kube && cat
 * config`, a `<` redirection) and of printing a credential variable (`echo
 * $GITHUB_TOKEN`, `printenv GH_TOKEN`, a bare `env`, `/proc/self/environ`).
 * The same protection the hook gives downscope's own files against writes,
 * for reads. A program that assembles the path or the variable name at run
 * time is not seen: contained mode stops that one.
 *
 * The file list is src/protection/credential-stores.ts plus downscope's own
 * secrets, what the policy adds (`settings.protect_reads`) and minus what a
 * trusted layer gives back (`settings.allow_reads`). Pure but for resolving
 * paths.
 */
import type { Env } from "../paths.js";
import type { ShellAnalysis } from "../shell/analyze.js";
import type { ProtectedPath } from "../protection/protected-paths.js";
import { directories, PathReader } from "./self-protect.js";

/** Commands that list or describe what they name without reading its contents. */
const LISTERS = new Set(["ls", "stat", "file", "du", "test", "[", "realpath", "readlink", "dirname", "basename"]);
const CHANGE_DIR = new Set(["cd", "pushd"]);

type Denial = { decision: "deny"; reason: string };

export interface ReadsContext {
  env: Env;
  cwd: string;
  project: string;
  /** The protected files (`secret: true`). */
  list: readonly ProtectedPath[];
}

export function decideReads(a: ShellAnalysis, ctx: ReadsContext): Denial | undefined {
  const paths = new PathReader(ctx.list, ctx, directories(a, ctx));
  for (const inv of a.invocations) {
    if (CHANGE_DIR.has(inv.binary) || LISTERS.has(inv.binary)) continue;
    for (const x of [inv.word, ...inv.args]) {
      const hit = paths.hit(x, inv.dynamicArgs);
      if (hit === undefined) continue;
      // Inside: the file itself. Ancestor: a directory that holds it (grep -r, tar, cp -r, rsync read it all).
      return deny(`\`${clip(inv.text)}\``, hit.p, hit.relation === "ancestor");
    }
  }
  for (const r of a.redirections) {
    if (r.writes) continue;
    const hit = paths.hit(r.target, r.dynamic);
    if (hit?.relation === "inside") return deny(`the redirection from ${r.target}`, hit.p, false);
  }
  return undefined;
}

/**
 * Printing a credential variable: a reference to one (`$NAME`, `${NAME}`) in
 * any command, a dump of the whole environment, or a process's environ file.
 * `names` are the credential variables present (src/protection/secret-env.ts);
 * with none, nothing is denied.
 */
export function decideEnvReads(command: string, names: readonly string[]): Denial | undefined {
  if (names.length === 0) return undefined;
  for (const n of names)
    if (
      new RegExp(`\\$\\{?!?${n}(?![A-Za-z0-9_])`).test(command) ||
      new RegExp(`\\bprintenv\\b[^;&|]*\\b${n}\\b`).test(command)
    )
      return envDeny(`\`${clip(command)}\` would print or use the credential variable ${n}`);
  for (const seg of command.split(/[;&|()`\n]+/)) {
    const s = seg.trim();
    if (/^(env|printenv|set|export|declare|typeset)(\s+-[A-Za-z0-9-]+)*$/.test(s))
      return envDeny(
        `\`${clip(s)}\` prints every variable, credentials among them (${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""})`,
      );
  }
  if (/\/proc\/[^\s/]+\/environ/.test(command))
    return envDeny(`\`${clip(command)}\` reads a process's environment, credentials among it`);
  return undefined;
}

function envDeny(what: string): Denial {
  return {
    decision: "deny",
    reason: `downscope: ${what}. Credentials are kept from the agent: do not print, copy or send them. If a command needs one, it runs through downscope with its scoped credential; otherwise ask the user.`,
  };
}

function deny(what: string, p: ProtectedPath, directory: boolean): Denial {
  return {
    decision: "deny",
    reason: `downscope: ${what} would read ${p.what} (${p.path}${directory ? ", in a directory it names" : ""}), a credential kept from the agent. Do not work around this: if you need something from it, ask the user.`,
  };
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}
