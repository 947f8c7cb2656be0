/**
 * The files a patch in the apply_patch format touches (Codex CLI's
 * `apply_patch` tool, OpenCode's `apply_patch`): pure, for the hook's file
 * check, which must see every path a patch writes, moves or deletes.
 *
 * The format (openai/codex codex-rs/apply-patch, its tool instructions):
 *   *** Begin Patch
 *   *** Add File: <path>        (lines starting with +)
 *   *** Update File: <path>     (optionally *** Move to: <path>, then @@ hunks)
 *   *** Delete File: <path>
 *   *** End Patch
 * Anything else at the level of these markers, a patch without its begin or
 * end line, or one that names no file cannot be checked: an Error, which the
 * adapters turn into a deny (fail closed).
 */
const FILE_OP = /^\*\*\* (Add File|Update File|Delete File|Move to): (.*)$/;

export function patchPaths(text: string): string[] | Error {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (lines[i]?.trim() !== "*** Begin Patch") return new Error("the patch does not start with *** Begin Patch");
  const paths: string[] = [];
  let ended = false;
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "*** End Patch") {
      ended = true;
      break;
    }
    const m = FILE_OP.exec(line);
    if (m) {
      const p = m[2]!.trim();
      if (p === "") return new Error(`the patch names an empty path (line ${i + 1})`);
      paths.push(p);
    } else if (line.startsWith("*** ") && line !== "*** End of File")
      return new Error(`the patch has a line the hook cannot read (line ${i + 1}: ${line.slice(0, 60)})`);
  }
  if (!ended) return new Error("the patch does not end with *** End Patch");
  if (paths.length === 0) return new Error("the patch names no file");
  return paths;
}
