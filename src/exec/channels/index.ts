/**
 * Channel per CLI, imported only when used. Services whose binary is not
 * listed use the custom channel (inject_as / inject_file_env).
 */
import type { Channel } from "../channel.js";

export const CHANNELS: Record<string, () => Promise<Channel>> = {
  gh: async () => (await import("./gh.js")).channel,
  kubectl: async () => (await import("./kubectl.js")).channel,
  aws: async () => (await import("./aws.js")).channel,
  gcloud: async () => (await import("./gcloud.js")).channel,
};

export const customChannel = async (): Promise<Channel> => (await import("./custom.js")).channel;

export function channelFor(binary: string): () => Promise<Channel> {
  return CHANNELS[binary] ?? customChannel;
}
