/**
 * A suggestion as YAML text with its comments (the yaml library quotes every
 * string that needs it, so a logged argument cannot break out of its scalar).
 */
import { Document, isMap, isScalar, isSeq } from "yaml";
import type { Suggestion } from "./suggest.js";

const comment = (lines: readonly string[]) => lines.map((l) => ` ${l.replace(/[\r\n]+/g, " ")}`).join("\n");

export function renderSuggestion(s: Suggestion): string {
  const doc = new Document(s.config);
  if (s.header.length) doc.commentBefore = comment(s.header);
  const services = doc.get("services", true);
  if (isMap(services)) {
    for (const pair of services.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : "";
      const notes = s.notes[name];
      if (notes && notes.comments.length && isScalar(pair.key)) pair.key.commentBefore = comment(notes.comments);
      if (!isMap(pair.value)) continue;
      const rules = pair.value.get("rules", true);
      if (isSeq(rules))
        for (const r of rules.items) {
          if (!isMap(r)) continue;
          const m = r.get("match", true);
          if (isMap(m)) m.flow = true;
        }
    }
  }
  const tests = doc.get("tests", true);
  if (isSeq(tests)) {
    for (const t of tests.items) if (isMap(t)) t.flow = true;
    tests.commentBefore = comment([
      "observed calls, decided as the suggestion decides them (`downscope test` runs them)",
    ]);
  }
  return doc.toString({ lineWidth: 0 });
}
