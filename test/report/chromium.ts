/**
 * Headless Chromium (Debian package `chromium`) for the report tests, driven
 * over the DevTools protocol on a pipe (`--remote-debugging-pipe`: fd 3 in,
 * fd 4 out, one NUL-terminated JSON message each). It loads a file, waits
 * for it, and returns its DOM, a PNG screenshot and every network request
 * the page made (`Network.requestWillBeSent`, other than the file itself).
 * The browser's own background traffic is not page traffic and is not
 * counted; names resolve nowhere anyway, so nothing leaves the machine.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

export interface Rendered {
  dom: string;
  title: string;
  png: Buffer;
  /** URLs the page requested (scheme file: and data: left out). */
  requests: string[];
}

export async function renderInChromium(file: string): Promise<Rendered> {
  const profile = mkdtempSync(join(tmpdir(), "downscope-chromium-"));
  const child = spawn(
    "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--remote-debugging-pipe",
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--window-size=1280,1900",
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const started = new Promise<never>((_, reject) => {
    child.on("error", (e) =>
      reject(new Error(`chromium could not start (${e.message}); install it: apt-get install -y chromium`)),
    );
    child.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${stderr.slice(-800)}`)));
  });
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners: ((m: { method?: string; params?: Record<string, unknown>; sessionId?: string }) => void)[] = [];
  let buf = "";
  fromBrowser.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\0")) !== -1) {
      const msg = JSON.parse(buf.slice(0, i)) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
        sessionId?: string;
      };
      buf = buf.slice(i + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result ?? {});
      } else for (const l of listeners) l(msg);
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    Promise.race([
      started,
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
      }),
    ]);

  try {
    const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    const requests: string[] = [];
    let loaded!: () => void;
    const load = new Promise<void>((r) => (loaded = r));
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === "Network.requestWillBeSent") {
        const url = (m.params?.request as { url: string }).url;
        if (!/^(file|data):/.test(url)) requests.push(url);
      }
      if (m.method === "Page.loadEventFired") loaded();
    });
    await send("Network.enable", {}, sessionId);
    await send("Page.enable", {}, sessionId);
    await send("Page.navigate", { url: `file://${file}` }, sessionId);
    await Promise.race([load, started, new Promise((r) => setTimeout(r, 20_000))]);
    await new Promise((r) => setTimeout(r, 500)); // late requests (fonts, lazy images)
    const evalString = async (expression: string) =>
      (
        (await send("Runtime.evaluate", { expression, returnByValue: true }, sessionId)) as {
          result: { value: string };
        }
      ).result.value;
    const dom = await evalString("document.documentElement.outerHTML");
    const title = await evalString("document.title");
    const shot = (await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true }, sessionId)) as {
      data: string;
    };
    await send("Browser.close").catch(() => {});
    return { dom, title, png: Buffer.from(shot.data, "base64"), requests };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    // Chromium's helper processes may still be writing the profile for a moment.
    for (let i = 0; ; i++) {
      try {
        rmSync(profile, { recursive: true, force: true });
        break;
      } catch (e) {
        if (i >= 30) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
