/**
 * Where downscope keeps its files, following the XDG base directory spec.
 * Everything takes the environment as an argument so tests can isolate HOME.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

function home(env: Env): string {
  return env.HOME && env.HOME !== "" ? env.HOME : homedir();
}

function xdg(env: Env, name: string, fallback: string): string {
  const v = env[name];
  // The spec says relative paths are invalid and must be ignored.
  return v && v.startsWith("/") ? v : join(home(env), fallback);
}

export const configHome = (env: Env) => join(xdg(env, "XDG_CONFIG_HOME", ".config"), "downscope");
export const stateHome = (env: Env) => join(xdg(env, "XDG_STATE_HOME", ".local/state"), "downscope");
export const cacheHome = (env: Env) => join(xdg(env, "XDG_CACHE_HOME", ".cache"), "downscope");
export const dataHome = (env: Env) => join(xdg(env, "XDG_DATA_HOME", ".local/share"), "downscope");

/** The managed (organisation) layer; DOWNSCOPE_MANAGED_CONFIG exists for tests and packagers. */
export const managedConfigPath = (env: Env) => env.DOWNSCOPE_MANAGED_CONFIG ?? "/etc/downscope/config.yaml";
export const userConfigPath = (env: Env) => join(configHome(env), "config.yaml");
export const trustStorePath = (env: Env) => join(stateHome(env), "trusted.json");

export function expandHome(p: string, env: Env): string {
  if (p === "~") return home(env);
  if (p.startsWith("~/")) return join(home(env), p.slice(2));
  return p;
}
