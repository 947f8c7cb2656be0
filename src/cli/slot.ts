/**
 * `downscope slot set NAME`: a person pastes a slot's token at the terminal
 * (echo off; never argv, never stdin, so it is in no shell history, no `ps`
 * and no agent transcript) and downscope keeps it in a 0600 file under its
 * config directory, ~/.config/downscope/slots/NAME, which contained mode
 * makes unreadable inside the sandbox. The policy then names it:
 * `file: ~/.config/downscope/slots/NAME`.
 *
 * Provisioning without a terminal: with settings.admin_without_terminal in
 * the managed layer (src/cli/confirm.ts), the token is read from stdin.
 */
import { NotConfirmed, UsageError } from "../errors.js";
import { displayPath } from "../protection/protected-paths.js";
import { writeSlotFile } from "../credentials/slot-store.js";
import { managedAllowsWithoutTerminal } from "./confirm.js";
import type { Command } from "../io.js";

const USAGE = "usage: downscope slot set NAME   (the token is pasted at the terminal, never given as an argument)";

export const slot: Command = async (argv, io) => {
  const [verb, name, ...rest] = argv;
  if (verb !== "set" || name === undefined || rest.length > 0) throw new UsageError(USAGE);
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith("."))
    throw new UsageError(`slot name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
  let token: string | undefined;
  const terminal = io.terminal?.();
  if (terminal !== undefined) token = terminal.askSecret(`Paste the token for slot "${name}" (not shown): `);
  else if (await managedAllowsWithoutTerminal(io)) token = await io.stdin();
  else
    throw new NotConfirmed(
      `downscope slot set needs a person at a terminal to paste the token, and this process has none; nothing was stored`,
    );
  const value = (token ?? "").trim();
  if (value === "") throw new NotConfirmed("no token was entered; nothing was stored");
  if (/[\r\n\0]/.test(value)) throw new UsageError("the token has line breaks or NUL in it; expected a single line");
  const file = writeSlotFile(io.env, name, value); // a failed write leaves no copy of the token behind
  io.stderr(
    `downscope: stored the token for slot "${name}" in ${file} (0600). Use it in the policy:\n` +
      `    ${name}: { file: ${displayPath(file, io.env)} }\n`,
  );
  return 0;
};
