/**
 * Everyday Bash that calls no service must parse without errors and get no
 * answer from the hook: a parse error denies while services are configured,
 * so a false one would block ordinary work.
 */
import { describe, expect, it } from "vitest";
import { decideBash } from "../../src/hook/decide.js";
import { analyzeShell } from "../../src/shell/analyze.js";
import { tableContext } from "../hook/fixture.js";
import { EVERYDAY } from "./everyday-corpus.js";

describe("everyday Bash", () => {
  it.each(EVERYDAY)("%j parses cleanly and gets no answer", (c) => {
    expect(analyzeShell(c).errors).toEqual([]);
    expect(decideBash(c, tableContext())).toEqual({ decision: "none" });
  });
});
