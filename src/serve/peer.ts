/**
 * Which user is at the other end of a loopback TCP connection (Linux).
 *
 * Loopback is shared by every user of the machine, and TCP has no
 * SO_PEERCRED. But both ends of a loopback connection are in the kernel's
 * socket table, /proc/net/tcp (https://www.kernel.org/doc/Documentation/networking/proc_net_tcp.txt),
 * with the uid that owns each: the client's end is the line whose local
 * address is the connection's remote one and whose remote address is ours.
 * The service reads it once per connection (Claude Code keeps its connection
 * alive) and closes connections from any other user.
 *
 * Where there is no /proc/net/tcp (macOS) the check cannot be made; the
 * request key is then the only thing that keeps other users out
 * (docs/security-model.md).
 */
import { readFileSync } from "node:fs";

export interface Ends {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** `127.0.0.1`, 8080 → `0100007F:1F90`, the table's spelling (little-endian address, hex port). */
export function procAddress(ip: string, port: number): string | undefined {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!v4) return undefined;
  const hex = (n: string) => Number(n).toString(16).toUpperCase().padStart(2, "0");
  return `${hex(v4[4]!)}${hex(v4[3]!)}${hex(v4[2]!)}${hex(v4[1]!)}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** The uid owning the client's end of the connection `ends`, from the text of /proc/net/tcp; undefined when not found. */
export function peerUidFrom(table: string, ends: Ends): number | undefined {
  const client = procAddress(ends.remoteAddress, ends.remotePort);
  const server = procAddress(ends.localAddress, ends.localPort);
  if (client === undefined || server === undefined) return undefined;
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (f[1] === client && f[2] === server) {
      const uid = Number(f[7]);
      return Number.isInteger(uid) ? uid : undefined;
    }
  }
  return undefined;
}

/**
 * The uid of the connecting process, `"unsupported"` where the system has no
 * /proc/net/tcp, or undefined when the connection is not in the table (its
 * client already gone): the caller refuses it.
 */
export function peerUid(ends: Ends, read: (file: string) => string = readText): number | "unsupported" | undefined {
  let table: string;
  try {
    table = read("/proc/net/tcp");
  } catch {
    return "unsupported";
  }
  return peerUidFrom(table, ends);
}

const readText = (file: string) => readFileSync(file, "utf8");
