/**
 * The agents downscope installs into, one file each (src/agents/spec.ts says
 * what a file holds). Adding an agent: one file here, a line in each list
 * below, and its hook adapter in src/hook/agents/ (its payload in, the shared
 * decision's answer out in its words).
 *
 * AGENTS (locations) is what the hook's self-protection reads; INSTALLS adds
 * what `install` writes. They are separate exports so that the hook's bundle
 * carries the locations only.
 */
import { CLAUDE, CLAUDE_INSTALL } from "./claude.js";
import { CODEX, CODEX_INSTALL } from "./codex.js";
import { COPILOT, COPILOT_INSTALL } from "./copilot.js";
import { CURSOR, CURSOR_INSTALL } from "./cursor.js";
import { GEMINI, GEMINI_INSTALL } from "./gemini.js";
import { OPENCODE, OPENCODE_INSTALL } from "./opencode.js";
import { PI, PI_INSTALL } from "./pi.js";
import type { AgentFiles, InstallSpec } from "./spec.js";

export const AGENTS: readonly AgentFiles[] = [CLAUDE, CURSOR, GEMINI, CODEX, OPENCODE, COPILOT, PI];

export const INSTALLS: readonly InstallSpec[] = [
  CLAUDE_INSTALL,
  CURSOR_INSTALL,
  GEMINI_INSTALL,
  CODEX_INSTALL,
  OPENCODE_INSTALL,
  COPILOT_INSTALL,
  PI_INSTALL,
];
