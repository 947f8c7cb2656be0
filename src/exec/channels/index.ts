/**
 * Channel per CLI, imported only when used. Services whose binary is not
 * listed use the custom channel (inject_as / inject_file_env).
 */
import type { Channel } from "../channel.js";

export const CHANNELS: Record<string, () => Promise<Channel>> = {
  // gh: async () => (await import("./gh.js")).channel,   (exec helper)
  // kubectl, aws, gcloud, custom: one file each under this directory
  gcloud: async () => (await import("./gcloud.js")).channel,
};
