/**
 * A scripted Anthropic Messages API on loopback for end-to-end tests with the
 * real Claude Code CLI (https://docs.anthropic.com/en/api/messages-streaming):
 * the main conversation gets a `tool_use` for Bash with the scripted command,
 * then text; every other request gets text; every request body is recorded.
 * The one-step case of fake-anthropic-multi.ts.
 */
import { startMultiFakeApi, type MultiFakeApi } from "./fake-anthropic-multi.js";

export type FakeApi = MultiFakeApi;

export function startFakeApi(command: string): Promise<FakeApi> {
  return startMultiFakeApi([command]);
}
