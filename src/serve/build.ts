/** Which downscope answers: its version and build (the schema's hash), as the service reports it to `serve --ensure`. */
declare const __BUILD_ID__: string | undefined;
declare const __VERSION__: string | undefined;

export const BUILD = `${typeof __VERSION__ === "string" ? __VERSION__ : "dev"}+${typeof __BUILD_ID__ === "string" ? __BUILD_ID__ : "dev"}`;
