/**
 * A unified diff of two small texts (LCS on lines, 3 lines of context, hunks
 * merged when close): what every `install --dry-run` prints.
 */
export function lineDiff(a: string, b: string, nameA: string, nameB: string): string {
  if (a === b) return "";
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: " " | "-" | "+"; s: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  // ai/bi: 1-based line numbers in a and b (for an insertion ai is the line before it, likewise bi).
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: " ", s: x[i]!, ai: ++i, bi: ++j });
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: "-", s: x[i]!, ai: ++i, bi: j });
    else ops.push({ t: "+", s: y[j]!, ai: i, bi: ++j });
  }
  const out = [`--- ${nameA}\n`, `+++ ${nameB}\n`];
  const C = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === " ") {
      k++;
      continue;
    }
    const start = Math.max(0, k - C);
    let end = k;
    // extend the hunk while changes are within 2*C lines of each other
    for (;;) {
      while (end < ops.length && ops[end]!.t !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next]!.t === " " && next - end < 2 * C) next++;
      if (next < ops.length && ops[next]!.t !== " ") end = next;
      else break;
    }
    end = Math.min(ops.length, end + C);
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((h) => h.t !== "+")?.ai ?? hunk[0]!.ai;
    const bStart = hunk.find((h) => h.t !== "-")?.bi ?? hunk[0]!.bi;
    const aLen = hunk.filter((h) => h.t !== "+").length;
    const bLen = hunk.filter((h) => h.t !== "-").length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@\n`);
    for (const h of hunk) out.push(`${h.t}${h.s}\n`);
    k = end;
  }
  return out.join("");
}
