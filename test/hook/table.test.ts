/** Runs the command table (test/hook/command-table.ts) through the hook decision. */
import { describe, expect, it } from "vitest";
import { decideBash } from "../../src/hook/decide.js";
import { TABLE } from "./command-table.js";
import { tableContext } from "./fixture.js";

describe("hook command table", () => {
  it("has at least 150 cases", () => expect(TABLE.length).toBeGreaterThanOrEqual(150));
  it.each(TABLE)("%j → %s", (command, answer, rewritten) => {
    const r = decideBash(command, tableContext());
    const got = "command" in r && r.command !== undefined ? r.command : "";
    expect({ answer: r.decision, rewritten: got }).toEqual({ answer, rewritten });
  });
});
