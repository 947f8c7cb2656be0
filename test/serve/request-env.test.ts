/** The session's environment and project a request is decided with (src/serve/request-env.ts): one line a case. */
import { describe, expect, it } from "vitest";
import { envHeader, projectName, projectOf, requestEnv, SESSION_ENV } from "../../src/serve/request-env.js";

const T = (project: string) => `/home/u/.claude/projects/${projectName(project)}/s.jsonl`;
const none = () => false;

describe("projectOf", () => {
  it.each([
    ["the cwd is the project", "/w/app", T("/w/app"), "/w/app"],
    ["a subdirectory of the project", "/w/app/src/lib", T("/w/app"), "/w/app"],
    ["dots and dashes in names", "/w/my.app-2/src", T("/w/my.app-2"), "/w/my.app-2"],
    [
      "a subagent's transcript below the session's",
      "/w/app/x",
      "/home/u/.claude/projects/-w-app/s/subagents/a.jsonl",
      "/w/app",
    ],
    ["CLAUDE_CONFIG_DIR elsewhere", "/w/app/x", `/cfg/projects/${projectName("/w/app")}/s.jsonl`, "/w/app"],
    ["a project named projects", "/w/projects/x", T("/w/projects"), "/w/projects"],
    ["no transcript: the cwd", "/w/app/src", undefined, "/w/app/src"],
    ["a transcript naming no ancestor: the cwd", "/w/app/src", T("/elsewhere"), "/w/app/src"],
    ["a relative transcript path is ignored", "/w/app/src", "projects/-w-app/s.jsonl", "/w/app/src"],
  ])("%s", (_what, cwd, transcript, want) => {
    expect(projectOf(cwd, transcript, "/home/u", none)).toBe(want);
  });

  it("a long path: cut at 200 characters, with the path's hash, as Claude Code names it", () => {
    const project = `/w/${"d".repeat(250)}`;
    // Claude Code 2.1.328's name for this directory (its projects/ folder, seen with the real CLI).
    expect(projectName("/root/.cache/downscope-e2e-sandbox-wS9D2Z/project")).toBe(
      "-root--cache-downscope-e2e-sandbox-wS9D2Z-project",
    );
    expect(projectName(project)).toMatch(/^-w-d{197}-[0-9a-z]+$/);
    expect(projectOf(`${project}/src/deeper`, T(project), "/home/u", none)).toBe(project);
  });

  it("without a match, the nearest directory below the home with a .claude directory, never the home itself", () => {
    const has = (p: string) => p === "/home/u/code/app/.claude" || p === "/home/u/.claude";
    expect(projectOf("/home/u/code/app/src", undefined, "/home/u", has)).toBe("/home/u/code/app");
    expect(projectOf("/home/u/notes", undefined, "/home/u", has)).toBe("/home/u/notes");
    expect(projectOf("/home/u", undefined, "/home/u", has)).toBe("/home/u");
  });
});

describe("requestEnv", () => {
  const h = (name: string, ...v: string[]) => ({ [envHeader(name).toLowerCase()]: v });
  it("a header sets the variable, an empty one unsets it, an absent one leaves the service's", () => {
    const env = requestEnv(
      { HOME: "/svc", PATH: "/svc/bin", LANG: "C" },
      { ...h("HOME", "/home/u"), ...h("PATH", ""), ...h("DOWNSCOPE_CONFIG", "p.yaml") },
    );
    expect(env).toEqual({ HOME: "/home/u", LANG: "C", DOWNSCOPE_CONFIG: "p.yaml" });
  });
  it("a variable sent twice is refused", () => {
    expect(() => requestEnv({}, h("HOME", "/a", "/b"))).toThrow(/more than once/);
  });
  it("only the session variables are read: a header for another name sets nothing", () => {
    expect(requestEnv({}, { "x-downscope-env-gh-token": ["secret"], "x-downscope-env-ld-preload": ["x"] })).toEqual({});
    expect(SESSION_ENV).not.toContain("GH_TOKEN");
  });
});
