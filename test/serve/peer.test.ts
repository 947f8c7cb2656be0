/**
 * The peer's uid from the kernel's socket table (src/serve/peer.ts): parsed
 * from a table as the kernel writes it, and read for a real loopback
 * connection of this process.
 */
import { createServer, connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { peerUid, peerUidFrom, procAddress } from "../../src/serve/peer.js";

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:5BA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:5BA0 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:5BA0 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 20 4 30 10 -1
`;

describe("peer uid", () => {
  it("spells addresses as the table does", () => {
    expect(procAddress("127.0.0.1", 23456)).toBe("0100007F:5BA0");
    expect(procAddress("::ffff:127.0.0.1", 50000)).toBe("0100007F:C350");
    expect(procAddress("::1", 1)).toBeUndefined();
  });
  it("finds the client's end of the connection and its owner", () => {
    const ends = { localAddress: "127.0.0.1", localPort: 23456, remoteAddress: "127.0.0.1", remotePort: 50000 };
    expect(peerUidFrom(TABLE, ends)).toBe(1001);
    expect(peerUidFrom(TABLE, { ...ends, remotePort: 50001 })).toBeUndefined();
  });
  it("reads this process's own loopback connection as its own uid", async () => {
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = connect((server.address() as { port: number }).port, "127.0.0.1");
    const s = await accepted;
    const uid = peerUid({
      localAddress: s.localAddress!,
      localPort: s.localPort!,
      remoteAddress: s.remoteAddress!,
      remotePort: s.remotePort!,
    });
    expect(uid).toBe(process.getuid?.());
    client.destroy();
    s.destroy();
    server.close();
  });
  it("says unsupported where there is no /proc/net/tcp", () => {
    const gone = () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    };
    expect(peerUid({ localAddress: "127.0.0.1", localPort: 1, remoteAddress: "127.0.0.1", remotePort: 2 }, gone)).toBe(
      "unsupported",
    );
  });
});
