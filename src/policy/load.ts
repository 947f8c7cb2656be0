/**
 * I/O side of config loading: find the layer files, read them, check trust,
 * and hand the text to the pure parser. Any problem with any present layer is
 * a ConfigError: callers that were asked for a decision turn it into a deny.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { cacheHome, managedConfigPath, relocationProblem, trustStorePath, userConfigPath, type Env } from "../paths.js";
import { readPrivateJson, writePrivateJson } from "../private-store.js";
import type { Layer, LayerName, Policy } from "./policy.js";
import type { Config } from "./schema.js";
import { readTrustStore } from "./trust.js";

declare const __BUILD_ID__: string | undefined;
/** Changes whenever the schema or the version changes, so compiled configs never outlive them. */
const BUILD_ID = typeof __BUILD_ID__ === "string" ? __BUILD_ID__ : "dev";

export const PROJECT_CONFIG = ".claude/downscoping.yaml";

export interface LoadOptions {
  cwd: string;
  env: Env;
}

/** The project file: DOWNSCOPE_CONFIG, else .claude/downscoping.yaml searched upward from cwd. */
export function findProjectConfig(cwd: string, env: Env): string | undefined {
  if (env.DOWNSCOPE_CONFIG) return resolve(cwd, env.DOWNSCOPE_CONFIG);
  let dir = resolve(cwd);
  for (;;) {
    const candidate = join(dir, PROJECT_CONFIG);
    if (exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Read a layer file's text, turning every failure into one clear issue. */
export function readConfigText(file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([
      { file, path: "", message: code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? "error"})` },
    ]);
  }
  if (st.isDirectory()) {
    throw new ConfigError([{ file, path: "", message: "is a directory; expected a YAML file" }]);
  }
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file,
        path: "",
        message:
          code === "EACCES"
            ? "permission denied; make the file readable by you"
            : `cannot read the file (${code ?? "error"})`,
      },
    ]);
  }
}

/**
 * Compiled-config cache: the validated config of a file, keyed by the sha256
 * of its content and the build. On a hit the YAML parser and zod are never
 * loaded (they cost more than the rest of a hook run together). The content
 * is always read and hashed, so an edited file is always recompiled and its
 * trust always rechecked. The cache sits beside the trust store: both are
 * private files of the user (see docs/security-model.md).
 */
async function compiledConfig(text: string, file: string, hash: string, env: Env): Promise<Config> {
  const cachePath = `${cacheHome(env)}/policy/${BUILD_ID}-${hash}.json`;
  const hit = readPrivateJson<{ config: Config }>(cachePath);
  if (hit?.config) return hit.config;
  const { parseConfig } = await import("./parse.js");
  const result = parseConfig(text, file);
  if (!result.ok) throw new ConfigError(result.issues);
  try {
    writePrivateJson(cachePath, { config: result.config });
  } catch {
    // A cache we cannot write only costs time.
  }
  return result.config;
}

export async function loadLayer(
  name: LayerName,
  file: string,
  trustedHashes: ReadonlyMap<string, string>,
  env: Env,
): Promise<Layer> {
  const text = readConfigText(file);
  const hash = sha256(text);
  const config = await compiledConfig(text, file, hash, env);
  if (name !== "project") return { name, file, trusted: true, config, sha256: hash };
  const pinned = trustedHashes.get(file);
  const layer: Layer = { name, file, trusted: pinned === hash, config, sha256: hash };
  if (pinned === undefined) layer.untrustedReason = "never trusted";
  else if (pinned !== hash) layer.untrustedReason = "modified since it was trusted";
  return layer;
}

/**
 * Load every present layer. Missing managed/user files are simply absent; a
 * named DOWNSCOPE_CONFIG that does not exist is an error (the user asked for it).
 */
export async function loadPolicy({ cwd, env }: LoadOptions): Promise<Policy> {
  const projectFile = findProjectConfig(cwd, env);
  const projectRoot =
    projectFile !== undefined && env.DOWNSCOPE_CONFIG === undefined ? dirname(dirname(projectFile)) : cwd;
  const problem = relocationProblem(env, projectRoot);
  if (problem !== undefined) throw new ConfigError([{ file: "(environment)", path: "", message: problem }]);
  const candidates: [LayerName, string | undefined, boolean][] = [
    ["managed", managedConfigPath(env), false],
    ["user", userConfigPath(env), false],
    ["project", projectFile, env.DOWNSCOPE_CONFIG !== undefined],
  ];
  const trust = readTrustStore(trustStorePath(env));
  const layers: Layer[] = [];
  const issues: ConfigIssue[] = [];
  for (const [name, file, required] of candidates) {
    if (file === undefined) continue;
    if (!required && !exists(file)) continue;
    try {
      layers.push(await loadLayer(name, file, trust, env));
    } catch (e) {
      if (e instanceof ConfigError) issues.push(...e.issues);
      else throw e;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { layers, warnings: [] };
}
