/**
 * `downscope install claude --contain`: contained mode, Claude Code only
 * (docs/security-model.md). Plugged into the install driver
 * (src/cli/install-agent.ts) as Claude Code's extension: besides the hooks it
 * writes the sandbox settings and permission rules of src/contain/settings.ts
 * into the user settings and records them (src/protection/contained-state.ts), so that
 * uninstall, or an install without --contain, takes out exactly those.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isObj, type Obj, type Scope } from "../agents/spec.js";
import { containSettings, type ContainSettings } from "../contain/settings.js";
import { containedState, removeContainedState, writeContainedState } from "../protection/contained-state.js";
import { ConfigError, UsageError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { expandHome, inside } from "../paths.js";
import { loadPolicy } from "../policy/index.js";
import type { InstallExtension } from "./install-agent.js";
import type { Io } from "../io.js";
import { writablePins } from "./doctor.js";
import { afterServeInstall, servedBy, serveHooksToInstall, withoutServeKey } from "./install-claude-serve.js";

/** The sandbox settings and permission rules of contained mode (src/contain/settings.ts). */
function addContainment(settings: Obj, c: Pick<ContainSettings, "sandbox" | "denyRules">): void {
  settings.sandbox = c.sandbox;
  const perms: Obj = isObj(settings.permissions) ? settings.permissions : (settings.permissions = {});
  const deny = Array.isArray(perms.deny) ? perms.deny : (perms.deny = []);
  for (const r of c.denyRules) if (!deny.includes(r)) deny.push(r);
}

/** Removes what addContainment added: the sandbox key and the recorded deny rules (pruning what it emptied). */
function removeContainment(settings: Obj, rules: readonly string[]): void {
  delete settings.sandbox;
  const perms = settings.permissions;
  if (!isObj(perms) || !Array.isArray(perms.deny)) return;
  perms.deny = perms.deny.filter((r) => !(typeof r === "string" && rules.includes(r)));
  if (perms.deny.length === 0) delete perms.deny;
  if (Object.keys(perms).length === 0) delete settings.permissions;
}

/** Absolute paths Claude Code's excludedCommands can match without quoting. */
const UNQUOTED = /^\/[A-Za-z0-9_\-./+@]+$/;

async function containmentFor(io: Io, file: string, existing: Obj): Promise<ContainSettings> {
  if (existing.sandbox !== undefined && containedState(io.env)?.settingsFile !== file)
    throw new ConfigError([
      {
        file,
        path: "sandbox",
        message:
          "already has sandbox settings; contained mode writes its own. Move yours aside (or merge them by hand after reading docs/security-model.md), then run install --contain again",
      },
    ]);
  const node = process.execPath;
  const script = join(packageRoot(), "bin", "downscope-exec.js");
  for (const p of [node, script])
    if (!UNQUOTED.test(p))
      throw new ConfigError([
        {
          file: p,
          path: "",
          message:
            "contained mode needs downscope-exec and node at absolute paths of plain characters (Claude Code matches its excludedCommands on the command as written); install downscope where its path needs no quoting",
        },
      ]);
  if (
    // Where a sandboxed command can write: the project, and Claude Code's TMPDIR (/tmp/claude-<uid>).
    /^\/tmp\/claude-/.test(script) ||
    inside(resolve(io.cwd), dirname(dirname(script))) ||
    inside(script, resolve(io.cwd))
  )
    throw new ConfigError([
      {
        file: script,
        path: "",
        message:
          "downscope is installed where a sandboxed agent can write it (a temp directory or this project); in contained mode its code runs outside the sandbox, so install it globally (npm install -g downscope)",
      },
    ]);
  const policy = await loadPolicy({ cwd: io.cwd, env: io.env });
  const slotFiles: string[] = [];
  const slotVars: string[] = [];
  for (const layer of policy.layers)
    for (const svc of Object.values(layer.config.services)) {
      for (const slot of Object.values(svc.token_slots ?? {})) {
        if (slot.file !== undefined) slotFiles.push(resolve(expandHome(slot.file, io.env)));
        if (slot.env_var !== undefined) slotVars.push(slot.env_var);
      }
      // A GitHub App's private key is read by downscope-exec only, outside the sandbox.
      if (svc.private_key?.file !== undefined) slotFiles.push(resolve(expandHome(svc.private_key.file, io.env)));
    }
  // The slots' tokens, to recognise one exported under another name (MY_BUILD_VAR=<the token>).
  const slotValues: string[] = [];
  for (const f of slotFiles)
    try {
      const v = readFileSync(f, "utf8").trim();
      if (v !== "" && !v.includes("\n")) slotValues.push(v);
    } catch {
      /* a missing source is doctor's to report */
    }
  for (const v of slotVars) {
    const x = io.env[v]?.trim();
    if (x) slotValues.push(x);
  }
  return containSettings({ env: io.env, exec: `${node} ${script}`, slotFiles, slotVars, slotValues });
}

export const CONTAIN = "--contain";
export const SERVE = "--serve";

const SERVE_URL = "/v1/hook/claude/";

export const claudeExtension: InstallExtension = {
  flags: [CONTAIN, SERVE],
  checkFlags(flags, scope: Scope) {
    if (flags.has(CONTAIN) && scope !== "user")
      throw new UsageError(
        "--contain writes the sandbox settings into your user settings (--scope user): a project's own settings could loosen them",
      );
    if (flags.has(SERVE) && scope !== "user")
      throw new UsageError(
        "--serve writes the decision service's request key into your user settings (--scope user): the service is per user, and a project's settings are shared",
      );
    if (flags.has(SERVE) && flags.has(CONTAIN))
      throw new UsageError(
        "--serve and --contain do not go together: with its sandbox on, Claude Code sends http hooks through the sandbox's network proxy, so the service's port would have to be opened to every sandboxed command. Contained mode keeps the process hook (docs/adr/ADR-023-serve-not-contained.md)",
      );
  },
  maskDiff: (text, io) => withoutServeKey(text, io),
  async beforeAdd({ io, file, obj, flags, ctx, dryRun }) {
    // --serve: the PreToolUse hook is the decision service's http hook (src/cli/install-claude-serve.ts).
    const serving = flags.has(SERVE);
    if (serving) ctx.preToolUseHooks = await serveHooksToInstall(io, dryRun);
    const previous = containedState(io.env);
    const wanted = flags.has(CONTAIN);
    if (!wanted) {
      if (previous?.settingsFile === file) removeContainment(obj, previous.denyRules);
      return { contain: undefined, previous, serving };
    }
    const contain = await containmentFor(io, file, obj);
    if (previous?.settingsFile === file) removeContainment(obj, previous.denyRules);
    addContainment(obj, contain);
    return { contain, previous, serving };
  },
  async afterInstall({ io, file, prepared, before }) {
    const { contain, previous, serving } = prepared as {
      contain: ContainSettings | undefined;
      previous: ReturnType<typeof containedState>;
      serving: boolean;
    };
    await afterServeInstall(io, file, serving, before?.includes(SERVE_URL) === true);
    if (contain) {
      for (const d of contain.preCreate) mkdirSync(d, { recursive: true, mode: 0o700 });
      writeContainedState(io.env, {
        version: 1,
        settingsFile: file,
        exec: (contain.sandbox.excludedCommands as string[])[0]!.replace(/ \*$/, ""),
        denyRules: contain.denyRules,
        keptOut: contain.keptOut,
      });
      io.stderr(
        `downscope: contained mode: Bash runs in Claude Code's sandbox; only \`${file}\`'s excluded downscope-exec call leaves it.\n` +
          "  Needs bubblewrap and socat on Linux (apt install bubblewrap socat); Claude Code refuses to start without them.\n" +
          `  Credential variables kept out of every sandboxed command: ${contain.keptOut.join(", ")}.\n`,
      );
      // A pinned binary the user can write: a changed one gets no credential, but the user should know.
      for (const f of writablePins(io.env, true))
        io.stderr(`downscope: warning: ${f.message}\n  fix: ${f.fix ?? ""}\n`);
    } else if (previous?.settingsFile === file) removeContainedState(io.env);
  },
  beforeRemove({ io, file, obj, current, text }) {
    // With the service's http hook, install's entries were those hooks (to tell an unchanged file).
    const served = servedBy(io, text);
    const ctx = served.serve ? { preToolUseHooks: served.serve } : {};
    const contained = containedState(io.env);
    if (contained?.settingsFile !== file) return { changed: false, reapply: () => {}, ctx };
    removeContainment(obj, contained.denyRules);
    return {
      changed: true,
      reapply: (o) =>
        addContainment(o, { sandbox: isObj(current.sandbox) ? current.sandbox : {}, denyRules: contained.denyRules }),
      ctx,
    };
  },
  async afterUninstall({ io, file, changed, before }) {
    if (before.includes(SERVE_URL)) await afterServeInstall(io, file, false, true);
    if (!changed) return;
    removeContainedState(io.env);
    io.stderr("downscope: contained mode is off: the sandbox settings and permission rules it added are removed\n");
  },
};
