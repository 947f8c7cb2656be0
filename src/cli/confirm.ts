/**
 * Confirmation by a person for the commands that widen or disable what the
 * agent may do: `trust`, `install`, `uninstall`, `init`, `shims install`.
 * The change is shown on the controlling terminal (/dev/tty) and goes ahead
 * only on a typed `yes`; with no terminal the command refuses in one line and
 * changes nothing. `--yes` does not skip this, and stdin is never read for
 * it (a piped `yes` is not a person).
 *
 * A terminal is not proof of a person: an agent that can open a pty (python's
 * `pty` module, `script`) can answer too. This stops the eager model that runs
 * `downscope trust` from its tool; contained mode (docs/security-model.md) is
 * what stops a determined one, since there the files cannot be written at all.
 *
 * Provisioning without a terminal: `settings.admin_without_terminal: true` in
 * the managed layer, read only from a root-owned file nobody else may write.
 */
import { lstatSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { NotConfirmed } from "../errors.js";
import { managedConfigPath } from "../paths.js";
import type { Io } from "../io.js";

export interface Change {
  /** The command, as the person would say it: `downscope trust`. */
  command: string;
  /** What will change: a diff, the file, a summary. */
  details: string;
}

export async function confirmByPerson(io: Io, change: Change): Promise<void> {
  if (await managedAllowsWithoutTerminal(io)) {
    io.stderr(`downscope: ${change.command}: confirmed by settings.admin_without_terminal in the managed policy\n`);
    return;
  }
  const terminal = io.terminal?.();
  if (terminal === undefined)
    throw new NotConfirmed(
      `${change.command} changes what an agent may do, so a person must confirm it at a terminal, and this process has none; nothing was changed. Run it yourself in a terminal (provisioning without one: see "Setting up without a terminal" in docs/security-model.md).`,
    );
  const details = change.details.endsWith("\n") ? change.details : `${change.details}\n`;
  const answer = terminal.ask(`${details}\n${change.command}: type "yes" to go ahead: `);
  if (answer?.trim() !== "yes")
    throw new NotConfirmed(`${change.command} was not confirmed (the answer was not "yes"); nothing was changed`);
}

/** `--yes` is accepted and ignored with a note, so scripts learn why it did not help. */
export function dropYes(argv: string[], io: Io): string[] {
  const rest = argv.filter((a) => a !== "--yes" && a !== "-y");
  if (rest.length !== argv.length)
    io.stderr(
      "downscope: --yes does not skip the confirmation; a person types yes at the terminal (docs/security-model.md)\n",
    );
  return rest;
}

/**
 * The managed file grants it only if root owns it and its directory and no one
 * else may write either: the agent runs as the user, and a file the user can
 * write (or one DOWNSCOPE_MANAGED_CONFIG points at) would let it approve itself.
 */
export async function managedAllowsWithoutTerminal(io: Pick<Io, "env">): Promise<boolean> {
  const file = managedConfigPath(io.env);
  let text: string;
  try {
    for (const p of [file, dirname(file)]) {
      const st = lstatSync(p);
      if (st.uid !== 0 || (st.mode & 0o022) !== 0 || st.isSymbolicLink()) return false;
    }
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  const { parseConfig } = await import("../policy/parse.js");
  const parsed = parseConfig(text, file);
  return parsed.ok && parsed.config.settings?.admin_without_terminal === true;
}
