/**
 * What `downscope scan` flags in one MCP server entry (pure):
 *  - secret:     a plaintext secret in env, args, headers (or Codex's bearer_token);
 *  - unpinned:   a package runner without an exact version (`npx -y pkg`,
 *                `npx pkg@latest`, `uvx pkg`, `pipx run pkg`, `bunx`,
 *                `pnpm dlx`, `yarn dlx`), a docker image without a digest;
 *  - filesystem: reach to the home directory, the root, or a directory above
 *                the home (server-filesystem arguments, docker mounts);
 *  - unproxied:  a stdio server that does not run through `downscope mcp-proxy`,
 *                or a remote server (which the proxy cannot carry).
 * A proxied entry is judged by the command after `--`, which is what runs.
 */
import { basename } from "node:path";
import type { Env } from "../paths.js";
import type { ServerEntry } from "./clients.js";
import { fingerprintOf, namedSecret, tokenIn } from "./secrets.js";

export const SEVERITIES = ["high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];
export const FINDING_KINDS = ["secret", "unpinned", "filesystem", "unproxied"] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Where in the entry: `env.GITHUB_TOKEN`, `args[2]`, `headers.Authorization`, `command`. */
  where: string;
  message: string;
  /** How to fix it. */
  fix: string;
  /** secret: what kind of secret (a token format, or "secret-looking value"). */
  secretKind?: string;
  /** secret: sha256 fingerprint of the value (the value itself is never reported). */
  fingerprint?: string;
}

const SEVERITY: Record<FindingKind, Severity> = {
  secret: "high",
  filesystem: "high",
  unpinned: "medium",
  unproxied: "low",
};

/** The command a proxied entry runs (after `--`), the proxy's server name and its options; undefined if not proxied. */
export function proxiedUpstream(
  e: Pick<ServerEntry, "command" | "args">,
): { server: string | undefined; options: string[]; command: string | undefined; args: string[] } | undefined {
  if (e.command === undefined) return undefined;
  let rest: string[];
  if (/^downscope(\.js|\.cmd)?$/.test(basename(e.command))) rest = e.args;
  else if (e.args[0] !== undefined && basename(e.args[0]) === "downscope.js") rest = e.args.slice(1);
  else if (["npx", "bunx", "pnpx"].includes(basename(e.command)) && e.args.some((a) => /^downscope(@|$)/.test(a)))
    rest = e.args.slice(e.args.findIndex((a) => /^downscope(@|$)/.test(a)) + 1);
  else return undefined;
  if (rest[0] !== "mcp-proxy") return undefined;
  const sep = rest.indexOf("--");
  const options = sep === -1 ? rest.slice(1) : rest.slice(1, sep);
  const upstream = sep === -1 ? [] : rest.slice(sep + 1);
  let server: string | undefined;
  for (let i = 0; i < options.length; i++) {
    if (options[i] === "--server") server = options[i + 1];
    else if (options[i]!.startsWith("--server=")) server = options[i]!.slice("--server=".length);
  }
  return { server, options, command: upstream[0], args: upstream.slice(1) };
}

export function findingsOf(e: ServerEntry, env: Env): Finding[] {
  const out: Finding[] = [];
  const add = (kind: FindingKind, f: Omit<Finding, "kind" | "severity">) =>
    out.push({ kind, severity: SEVERITY[kind], ...f });
  const secret = (where: string, hit: { kind: string; value: string }, fix: string) =>
    add("secret", {
      where,
      secretKind: hit.kind,
      fingerprint: fingerprintOf(hit.value),
      message: `a plaintext secret (${hit.kind}) is written in the config`,
      fix,
    });
  const moveCmd = installCommand(e, " --move-secrets");
  const moveFix = moveCmd
    ? `move it into a downscope slot: \`${moveCmd}\` (the config then holds none)`
    : "move it into a downscope slot by hand (`downscope slot set NAME`) and route the server through `downscope mcp-proxy --env-slot`; this file's layout is not one `install mcp` rewrites";

  for (const [k, v] of Object.entries(e.env)) {
    const hit = namedSecret(k, v);
    if (hit) secret(`env.${k}`, hit, moveFix);
  }
  for (const [k, v] of Object.entries(e.headers)) {
    const hit = namedSecret(k, v);
    if (hit)
      secret(
        `headers.${k}`,
        hit,
        "read it from the environment instead (e.g. `${env:NAME}` or the client's own variable syntax), and keep it out of the agent's environment",
      );
  }
  for (const [k, v] of Object.entries(e.secretFields)) {
    const hit = namedSecret(k, v) ?? { kind: "secret-looking value", value: v };
    if (v.trim() !== "") secret(k, hit, "name a variable instead (Codex: `bearer_token_env_var`)");
  }

  const proxied = proxiedUpstream(e);
  const command = proxied ? proxied.command : e.command;
  const args = proxied ? proxied.args : e.args;
  const argBase = proxied ? e.args.length - args.length : 0;
  args.forEach((a, i) => {
    const prev = args[i - 1];
    const flag = /^--?([\w-]+)=(.*)$/s.exec(a);
    const hit =
      tokenIn(a) ??
      (flag ? namedSecret(flag[1]!, flag[2]!) : undefined) ??
      (prev !== undefined && /^--?[\w-]+$/.test(prev) ? namedSecret(prev, a) : undefined);
    if (hit)
      secret(
        `args[${argBase + i}]`,
        hit,
        "pass it in the environment instead (then `downscope install mcp --move-secrets` moves it out of the config); an argument is also visible to every process in `ps`",
      );
  });

  if (e.transport === "remote") {
    add("unproxied", {
      where: "url",
      message:
        "a remote (HTTP) server: downscope's proxy carries stdio servers only, so its tool calls are not decided by the policy",
      fix: "prefer a stdio build of the server run through `downscope mcp-proxy`, or keep its token narrow",
    });
    return out;
  }
  if (command !== undefined) {
    const runner = unpinnedRunner(command, args);
    if (runner) add("unpinned", { where: proxied ? "args (after --)" : "command", ...runner });
    for (const reach of filesystemReach(command, args, env))
      add("filesystem", {
        where: `args[${argBase + reach.index}]`,
        message: reach.message,
        fix: "give the server only the project directory (or the few directories it needs)",
      });
  }
  if (!proxied) {
    const cmd = installCommand(e);
    add("unproxied", {
      where: "command",
      message: "does not run through `downscope mcp-proxy`: its tool calls are not decided by the policy",
      fix: cmd
        ? `\`${cmd}\``
        : `by hand: make its command \`downscope mcp-proxy --server ${e.name} -- <its command and args>\``,
    });
  }
  return out;
}

/**
 * The `downscope install mcp` command that rewrites this entry, or undefined
 * where install cannot (Claude Code's per-project entries, VS Code's
 * settings.json, Codex's TOML). Known clients by --client (Claude Desktop's
 * entries need it: they name node and downscope by absolute path).
 */
export function installCommand(
  e: Pick<ServerEntry, "client" | "scope" | "file" | "location" | "name">,
  extra = "",
): string | undefined {
  if (e.file.endsWith(".toml") || !/^(?:mcpServers|servers)\./.test(e.location)) return undefined;
  const name = /^[\w.-]+$/.test(e.name) ? e.name : JSON.stringify(e.name);
  const client =
    e.scope === "path"
      ? undefined
      : e.client === "claude-code" && e.scope === "project"
        ? ""
        : e.client === "claude-desktop"
          ? " --client claude-desktop"
          : e.client === "cursor" || e.client === "gemini"
            ? ` --client ${e.client}${e.scope === "user" ? " --scope user" : ""}`
            : e.client === "vscode" && e.scope === "project"
              ? " --client vscode"
              : undefined;
  return `downscope install mcp${extra} --server ${name}${client ?? ` --path ${e.file}`}`;
}

// ---------------------------------------------------------------- package runners

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;

/** npm package spec (`pkg`, `@scope/pkg@1.2.3`, `pkg@latest`) → pinned to an exact version? undefined: not a registry package. */
function npmSpecPinned(spec: string): boolean | undefined {
  if (/^(?:\.{0,2}\/|~|file:|https?:|git(?:\+[a-z]+)?:|github:)/.test(spec)) {
    const hash = /#([0-9a-f]{40})$/.exec(spec);
    return /^(?:git|github:|https?:)/.test(spec) ? hash !== null : undefined;
  }
  const at = spec.lastIndexOf("@");
  if (at <= 0) return false; // no version (a leading @ is the scope)
  return EXACT_VERSION.test(spec.slice(at + 1));
}

/** npx/bunx/pnpm dlx/yarn dlx/npm exec: the package it runs. */
function npmRunnerPackage(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return args[i + 1];
    if (a === "-p" || a === "--package") return args[i + 1];
    if (a.startsWith("--package=")) return a.slice("--package=".length);
    if (a.startsWith("-")) continue;
    return a;
  }
  return undefined;
}

/** Python runners: `uvx pkg==1.2.3`, `uvx pkg@1.2.3`, `uvx --from pkg==1.2.3 cmd`, `pipx run --spec pkg==1.2.3 cmd`. */
function pythonSpecPinned(args: readonly string[], fromFlags: readonly string[]): boolean | undefined {
  let spec: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (fromFlags.includes(a)) {
      spec = args[i + 1];
      break;
    }
    const eq = fromFlags.find((f) => a.startsWith(`${f}=`));
    if (eq) {
      spec = a.slice(eq.length + 1);
      break;
    }
    if (a.startsWith("-")) {
      if (["--python", "-p", "--with", "--index-url", "--index", "--pip-args"].includes(a)) i++;
      continue;
    }
    spec = a;
    break;
  }
  if (spec === undefined) return undefined;
  if (/^(?:\.{0,2}\/|~|file:)/.test(spec)) return undefined;
  if (/^git\+/.test(spec)) return /@[0-9a-f]{40}$/.test(spec);
  return /^[A-Za-z0-9._\-[\],]+(?:==|@)v?\d+(?:\.\d+)*(?:[-.+]?[0-9A-Za-z.]+)?$/.test(spec);
}

const DOCKER_VALUE_FLAGS = new Set([
  ...["-e", "--env", "-v", "--volume", "--mount", "--name", "-p", "--publish", "--env-file", "--network", "--net"],
  ...["-w", "--workdir", "-u", "--user", "--entrypoint", "-l", "--label", "--platform", "-h", "--hostname"],
  ...["--add-host", "--cap-add", "--cap-drop", "--device", "--dns", "--memory", "-m", "--cpus", "--pull"],
  ...["--security-opt", "--tmpfs", "--ulimit", "--restart", "--runtime", "--shm-size", "--gpus", "--log-driver"],
]);

/** The image of `docker run …` / `podman run …`, and the index of the `run` word. */
function dockerImage(args: readonly string[]): string | undefined {
  const run = args.findIndex((a) => a === "run");
  if (run === -1) return undefined;
  for (let i = run + 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return args[i + 1];
    if (a.startsWith("-")) {
      if (!a.includes("=") && DOCKER_VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

function unpinnedRunner(command: string, args: readonly string[]): { message: string; fix: string } | undefined {
  const cmd = basename(command).replace(/\.(cmd|exe)$/, "");
  const npmFix =
    "name an exact version (`pkg@1.2.3`): an unpinned package runs whatever was published last, on every start";
  let pkg: string | undefined;
  if (cmd === "npx" || cmd === "bunx" || cmd === "pnpx") pkg = npmRunnerPackage(args);
  else if ((cmd === "pnpm" || cmd === "yarn") && args[0] === "dlx") pkg = npmRunnerPackage(args.slice(1));
  else if ((cmd === "npm" && args[0] === "exec") || (cmd === "bun" && args[0] === "x"))
    pkg = npmRunnerPackage(args.slice(1));
  if (pkg !== undefined) {
    const pinned = npmSpecPinned(pkg);
    if (pinned === false) return { message: `\`${cmd}\` runs ${pkg} without an exact version`, fix: npmFix };
    return undefined;
  }
  let py: boolean | undefined;
  let name = cmd;
  if (cmd === "uvx") py = pythonSpecPinned(args, ["--from"]);
  else if (cmd === "uv" && args[0] === "tool" && args[1] === "run") {
    py = pythonSpecPinned(args.slice(2), ["--from"]);
    name = "uv tool run";
  } else if (cmd === "pipx" && args[0] === "run") {
    py = pythonSpecPinned(args.slice(1), ["--spec"]);
    name = "pipx run";
  }
  if (py === false)
    return {
      message: `\`${name}\` runs a package without an exact version`,
      fix: "name an exact version (`pkg==1.2.3`): an unpinned package runs whatever was published last, on every start",
    };
  if (cmd === "docker" || cmd === "podman") {
    const image = dockerImage(args);
    if (image !== undefined && !/@sha256:[0-9a-f]{64}$/.test(image))
      return {
        message: `\`${cmd} run\` starts ${image} by tag, not by digest`,
        fix: "name the image by digest (`image@sha256:…`): a tag can be moved to another image",
      };
  }
  return undefined;
}

// ---------------------------------------------------------------- filesystem reach

function expand(p: string, home: string): string {
  let v = p.trim();
  if (home !== "") {
    if (v === "~" || v.startsWith("~/")) v = home + v.slice(1);
    v = v.replace(/\$\{(?:HOME|env:HOME|userHome)\}|\$HOME\b|%USERPROFILE%/g, home);
  }
  return v;
}

function norm(p: string): string {
  const parts: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return "/" + parts.join("/");
}

/** `p` is the root, the home, or a directory above the home. */
function broad(p: string, home: string): string | undefined {
  const v = expand(p, home);
  if (!v.startsWith("/")) return undefined;
  const n = norm(v);
  if (n === "/") return "the root directory";
  if (home === "") return undefined;
  const h = norm(home);
  if (n === h) return "the home directory";
  if (h.startsWith(`${n}/`)) return `${n}, a directory above the home directory`;
  return undefined;
}

function filesystemReach(command: string, args: readonly string[], env: Env): { index: number; message: string }[] {
  const home = env.HOME ?? "";
  const out: { index: number; message: string }[] = [];
  const cmd = basename(command);
  const docker = cmd === "docker" || cmd === "podman";
  args.forEach((a, i) => {
    const prev = args[i - 1];
    if (docker) {
      let source: string | undefined;
      if (prev === "-v" || prev === "--volume") source = a.split(":")[0];
      else if (/^--volume=/.test(a)) source = a.slice("--volume=".length).split(":")[0];
      else if (prev === "--mount" || /^--mount=/.test(a)) {
        const spec = prev === "--mount" ? a : a.slice("--mount=".length);
        source = /(?:^|,)(?:source|src)=([^,]+)/.exec(spec)?.[1];
      }
      const what = source !== undefined ? broad(source, home) : undefined;
      if (what) out.push({ index: i, message: `mounts ${what} into the container` });
      return;
    }
    const value = a.replace(/^--?[\w-]+=/, "");
    const what = broad(value, home);
    if (what) out.push({ index: i, message: `gives the server ${what}` });
  });
  return out;
}
