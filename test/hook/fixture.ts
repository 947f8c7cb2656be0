import type { HookContext } from "../../src/hook/decide.js";
import { analyzeShell } from "../../src/shell/analyze.js";
import { layer, policyOf } from "../helpers/policy.js";

/** The policy the command table is decided against. */
export const TABLE_POLICY = `
version: 1
settings:
  harmless_commands: [jq, head, grep, wc, sort, echo, cat, tr]
services:
  gh:
    token_slots: { ro: { env_var: GH_TOKEN_RO, inject_as: GH_TOKEN } }
    default_slot: ro
    rules:
      - { name: repo deletion denied, match: { command: [repo, "delete|rename"] }, action: deny, reason: deleting repositories is not for agents }
      - { name: pr merge needs a human, match: { command: [pr, merge] }, action: review }
  aws:
    downscope_mode: none
    rules:
      - { name: iam writes denied, match: { command: [iam, "create-user|delete-user|attach-user-policy"] }, action: deny }
`;

export function tableContext(overrides: Partial<HookContext> = {}): HookContext & { nonces: string[] } {
  let n = 0;
  const nonces: string[] = [];
  return {
    policy: policyOf(layer(TABLE_POLICY)),
    pathCtx: { cwd: "/work", home: "/home/u", realpath: (p) => p },
    execCommand: "downscope-exec",
    shimsOnPath: true,
    analyze: analyzeShell,
    approve: () => {
      const nonce = `N${++n}`;
      nonces.push(nonce);
      return nonce;
    },
    nonces,
    ...overrides,
  };
}
