/**
 * The token-slot provider: the grant names a slot (the rule's `slot`, else the
 * service's `default_slot`); its token comes from env_var, file or command
 * (token-sources.ts). Throws CredentialUnavailable naming what is missing.
 */
import { CredentialUnavailable } from "../errors.js";
import type { Grant } from "../policy/evaluate.js";
import type { TokenSlot } from "../policy/schema.js";
import type { CredentialProvider, ScopedToken } from "./provider.js";
import { readSlotToken } from "./token-sources.js";

/** The slot a grant selects, or a CredentialUnavailable saying why there is none. */
export function grantSlot(grant: Grant): { name: string; slot: TokenSlot } {
  if (grant.slot === undefined)
    throw new CredentialUnavailable(
      `${grant.service}: no token slot selected (the matching rule names no \`slot\` and the service has no \`default_slot\`) in ${grant.file}`,
    );
  const slot = grant.config.token_slots?.[grant.slot];
  if (slot === undefined)
    throw new CredentialUnavailable(`${grant.service}: slot "${grant.slot}" is not defined in ${grant.file}`);
  return { name: grant.slot, slot };
}

export const tokenSlotProvider: CredentialProvider<ScopedToken & { slot: TokenSlot; slotName: string }> = {
  async obtain(grant, ctx) {
    const { name, slot } = grantSlot(grant);
    return { ...readSlotToken(name, slot, ctx.env, ctx.cwd), slot, slotName: name };
  },
};
