/** One thing the agent wants to do, as the policy engine sees it. */
export type Invocation =
  | {
      kind: "cli";
      /** Basename of the command word after quote removal (`/usr/bin/gh` → `gh`). */
      binary: string;
      /** Arguments after the binary, after quote removal. */
      args: readonly string[];
    }
  | {
      kind: "mcp";
      server: string;
      tool: string;
      arguments: Readonly<Record<string, unknown>>;
    };

export function describeInvocation(inv: Invocation): string {
  return inv.kind === "cli" ? [inv.binary, ...inv.args].join(" ") : `${inv.server}/${inv.tool}`;
}
