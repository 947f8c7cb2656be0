/**
 * The token of a token_slot grant, for the channels (gh, kubectl, custom).
 * `none` mode hands out no token: the child runs with every credential removed.
 */
import { tokenSlotProvider } from "../../credentials/token-slot.js";
import { CredentialUnavailable } from "../../errors.js";
import type { TokenSlot } from "../../policy/schema.js";
import type { ChannelInput } from "../channel.js";

export interface SlotToken {
  value: string;
  slot: TokenSlot;
  slotName: string;
}

export async function slotToken(input: ChannelInput): Promise<SlotToken | undefined> {
  const { grant } = input;
  if (grant.mode === "none") return undefined;
  if (grant.mode !== "token_slot")
    throw new CredentialUnavailable(
      `${grant.service}: downscope_mode ${grant.mode} cannot be handed to ${input.binary}; use token_slot (or none)`,
    );
  const t = await tokenSlotProvider.obtain(grant, { env: input.parentEnv, cwd: input.cwd, now: input.now });
  return { value: t.value, slot: t.slot, slotName: t.slotName };
}
