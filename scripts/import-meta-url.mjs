// Injected into the CommonJS bundles (scripts/build.mjs): import.meta.url of the bundle file.
export const importMetaUrl = require("node:url").pathToFileURL(__filename).href;
