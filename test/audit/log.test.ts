import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  appendAudit,
  auditKey,
  auditKeyPath,
  flushAuditExports,
  hmac,
  isoTime,
  recordFields,
} from "../../src/audit/log.js";
import type { AuditRecord } from "../../src/audit/record.js";
import { auditSettingsOf, type AuditSettings } from "../../src/audit/settings.js";
import { readAuditEntries, verifyAudit } from "../../src/audit/verify.js";
import { packageRoot } from "../../src/package-root.js";
import { runCli } from "../helpers/run-cli.js";
import { sandbox, type Sandbox } from "../helpers/sandbox.js";

function settingsFor(sb: Sandbox, extra: Partial<AuditSettings> = {}): AuditSettings {
  return { ...auditSettingsOf(undefined, sb.env), ...extra };
}

const rec = (n: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  event: "exec",
  cwd: "/work",
  service: "gh",
  argv: ["gh", "pr", "view", String(n)],
  action: "allow",
  rule: "default",
  layer: "project",
  slot: "readonly",
  fingerprint: "sha256:0123456789ab",
  exit: 0,
  duration_ms: 12,
  ...extra,
});

function write(sb: Sandbox, n: number, s = settingsFor(sb)) {
  for (let i = 0; i < n; i++) appendAudit(rec(i), { env: sb.env, settings: s });
  return s;
}

describe("audit log", () => {
  // What each call returned (docs/masking.md): the output fields are inside the sealed line,
  // whether written with the record or appended late (downscope-exec), so verify covers them.
  it("records of what calls returned verify, and a changed size, hash, mask count or text does not", async () => {
    const sb = sandbox();
    const s = settingsFor(sb);
    const output = {
      streams: {
        stdout: { bytes: 42, sha256: "c".repeat(64), text: "3 open pull requests" },
        stderr: { tty: true as const },
      },
      masked: { "slot:readonly": 1 },
    };
    appendAudit(rec(1, { output }), { env: sb.env, settings: s });
    const { prepareAudit, appendPrepared } = await import("../../src/audit/log.js");
    appendPrepared(prepareAudit(rec(2, { exit: undefined, duration_ms: undefined }), { env: sb.env, settings: s }), {
      exit: 3,
      duration_ms: 50,
      output,
    });
    appendAudit({ event: "tool", tool: "Bash", tool_use_id: "toolu_1", exit: 0, output }, { env: sb.env, settings: s });
    const key = auditKey(sb.env);
    const ok = verifyAudit(s, key);
    expect(ok.lines).toBe(3);
    expect(ok.problem).toBeUndefined();
    const entries = readAuditEntries(s);
    expect(entries.map((e) => [e.event, e.exit, e.output?.streams.stdout?.bytes])).toEqual([
      ["exec", 0, 42],
      ["exec", 3, 42],
      ["tool", 0, 42],
    ]);
    const lines = readFileSync(s.path, "utf8").trim().split("\n");
    for (const [from, to] of [
      ['"bytes":42', '"bytes":41'],
      [`"sha256":"${"c".repeat(64)}"`, `"sha256":"${"d".repeat(64)}"`],
      ['"slot:readonly":1', '"slot:readonly":0'],
      ["3 open pull requests", "0 open pull requests"],
    ] as const) {
      writeFileSync(s.path, lines.map((l, i) => (i === 1 ? l.replace(from, to) : l)).join("\n") + "\n");
      expect(verifyAudit(s, key).problem, from).toMatchObject({
        line: 2,
        message: expect.stringContaining("modified"),
      });
    }
  });

  it("writes one sealed JSON line per record, 0600 in a 0700 dir, with the key outside the log dir", () => {
    const sb = sandbox();
    const s = write(sb, 3);
    const lines = readFileSync(s.path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({
      event: "exec",
      service: "gh",
      argv: ["gh", "pr", "view", "0"],
      action: "allow",
      exit: 0,
    });
    expect(first.prev).toMatch(/^[0-9a-f]{64}$/);
    expect(first.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.path, "..")).mode & 0o777).toBe(0o700);
    expect(statSync(auditKeyPath(sb.env)).mode & 0o777).toBe(0o600);
    expect(auditKeyPath(sb.env).startsWith(join(s.path, ".."))).toBe(false);
    const v = verifyAudit(s, auditKey(sb.env));
    expect(v.problem).toBeUndefined();
    expect(v.lines).toBe(3);
  });

  it("chains each line to the mac of the line before; logs chained the older way still verify", () => {
    const sb = sandbox();
    const s = write(sb, 3);
    const lines = readFileSync(s.path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(lines[1]!.prev).toBe(lines[0]!.mac);
    expect(lines[2]!.prev).toBe(lines[1]!.mac);
    // Before 0.1, prev was the HMAC of the whole previous line.
    const key = auditKey(sb.env);
    const legacy: string[] = [];
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({ ...recordFields(rec(i), new Date()), prev: hmac(key, legacy[i - 1] ?? "") });
      legacy.push(`${body.slice(0, -1)},"mac":"${hmac(key, body)}"}`);
    }
    writeFileSync(s.path, legacy.join("\n") + "\n");
    expect(verifyAudit(s, key).problem).toBeUndefined();
    // New lines chain on to the old ones.
    write(sb, 1, s);
    const after = verifyAudit(s, key);
    expect(after.problem).toBeUndefined();
    expect(after.lines).toBe(4);
    // A prev that is neither is a break.
    const text = readFileSync(s.path, "utf8").split("\n");
    const l2 = JSON.parse(text[2]!) as Record<string, string>;
    const body = JSON.stringify({ ...l2, mac: undefined, prev: "0".repeat(64) });
    text[2] = `${body.slice(0, -1)},"mac":"${hmac(key, body)}"}`;
    writeFileSync(s.path, text.join("\n"));
    expect(verifyAudit(s, key).problem).toMatchObject({ line: 3, message: expect.stringContaining("chain broken") });
  });

  it("writes time exactly as Date#toISOString would", () => {
    const samples = [
      0,
      1,
      999,
      86_399_999,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
    ];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor(Math.random() * 253_402_300_799_999));
    samples.push(Date.UTC(-1, 0, 1), Date.UTC(10_000, 0, 1), Date.UTC(50, 5, 5));
    for (const t of samples) expect(isoTime(new Date(t)), String(t)).toBe(new Date(t).toISOString());
  });

  it("does nothing when disabled, and never throws when the log cannot be written", () => {
    const sb = sandbox();
    const s = settingsFor(sb, { enabled: false });
    write(sb, 1, s);
    expect(() => readFileSync(s.path)).toThrow();
    // A path under a regular file cannot be created: the caller is not disturbed, stderr says it once.
    const blocker = sb.write("blocker", "x");
    const errs: string[] = [];
    const bad = settingsFor(sb, { path: join(blocker, "audit.jsonl") });
    for (let i = 0; i < 3; i++) appendAudit(rec(i), { env: sb.env, settings: bad, stderr: (t) => errs.push(t) });
    expect(errs.length).toBeLessThanOrEqual(1);
  });

  // Tampering: a changed line, a removed line, a removed first line and an
  // inserted line are each reported at the first line that no longer verifies.
  it("verify names the first modified, removed or inserted line", async () => {
    const sb = sandbox();
    const s = write(sb, 5);
    const orig = readFileSync(s.path, "utf8");
    const lines = orig.trim().split("\n");
    const key = auditKey(sb.env);
    const setLines = (ls: string[]) => writeFileSync(s.path, ls.join("\n") + "\n");

    setLines(lines.map((l, i) => (i === 2 ? l.replace('"allow"', '"deny"') : l)));
    expect(verifyAudit(s, key).problem).toMatchObject({ line: 3, message: expect.stringContaining("modified") });

    setLines(lines.filter((_, i) => i !== 2));
    expect(verifyAudit(s, key).problem).toMatchObject({ line: 3, message: expect.stringContaining("removed") });

    setLines(lines.slice(1));
    expect(verifyAudit(s, key).problem).toMatchObject({ line: 1, message: expect.stringContaining("removed") });

    setLines([...lines.slice(0, 2), JSON.stringify({ time: "x", event: "exec" }), ...lines.slice(2)]);
    expect(verifyAudit(s, key).problem).toMatchObject({ line: 3 });

    // Re-sealing a forged line needs the key: with another key nothing verifies.
    setLines(lines);
    expect(verifyAudit(s, Buffer.alloc(32, 7)).problem).toMatchObject({ line: 1 });

    // The CLI reports the same.
    setLines(lines.filter((_, i) => i !== 3));
    const r = await runCli(["audit", "verify"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${s.path}:4: chain broken`);
    setLines(lines);
    const ok = await runCli(["audit", "verify"], { env: sb.env, cwd: sb.project });
    expect(ok.stdout).toBe("OK 5 lines in 1 file verify\n");
    expect(ok.code).toBe(0);
  });

  it("rotates by size and the chain carries across files", () => {
    const sb = sandbox();
    const s = settingsFor(sb, { maxBytes: 4096, keep: 3 });
    write(sb, 80, s);
    const files = readdirSync(join(s.path, "..")).filter((f) => f.startsWith("audit.jsonl") && !f.endsWith(".lock"));
    expect(files.sort()).toEqual(["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]);
    for (const f of files) expect(statSync(join(s.path, "..", f)).size).toBeLessThanOrEqual(4096);
    const key = auditKey(sb.env);
    const v = verifyAudit(s, key);
    expect(v.problem).toBeUndefined();
    expect(v.truncatedStart).toBe(true); // older files were dropped
    const entries = readAuditEntries(s);
    expect(entries.at(-1)!.argv).toEqual(["gh", "pr", "view", "79"]);
    // Removing the last line of a rotated file breaks the chain at the next file's first line.
    const one = `${s.path}.1`;
    const ls = readFileSync(one, "utf8").trim().split("\n");
    writeFileSync(one, ls.slice(0, -1).join("\n") + "\n");
    expect(verifyAudit(s, key).problem).toMatchObject({
      file: s.path,
      line: 1,
      message: expect.stringContaining("rotation"),
    });
  });

  it("ten concurrent writer processes lose no line and break no chain", async () => {
    const sb = sandbox();
    const s = settingsFor(sb);
    const bundle = join(sb.root, "audit-bundle.mjs");
    buildSync({
      entryPoints: [join(packageRoot(), "src/audit/log.ts")],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile: bundle,
      logLevel: "silent",
    });
    const script = `
      const { appendAudit } = await import(${JSON.stringify(bundle)});
      const settings = JSON.parse(process.env.SETTINGS);
      for (let i = 0; i < 50; i++)
        appendAudit({ event: "exec", service: "gh", argv: ["gh", "pr", "view", process.env.W + "-" + i], action: "allow" },
          { env: process.env, settings });
    `;
    const codes = await Promise.all(
      Array.from({ length: 10 }, (_, w) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
          env: { ...sb.env, SETTINGS: JSON.stringify(s), W: String(w) },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        return new Promise<string>((res) => child.on("close", (c) => res(`${c}${err}`)));
      }),
    );
    expect(codes).toEqual(Array(10).fill("0"));
    const entries = readAuditEntries(s);
    expect(entries).toHaveLength(500);
    expect(new Set(entries.map((e) => e.argv![3])).size).toBe(500);
    const v = verifyAudit(s, auditKey(sb.env));
    expect(v.problem).toBeUndefined();
    expect(v.lines).toBe(500);
  });

  it("exports to an OTLP/HTTP receiver on loopback, and keeps the record locally when it is down", async () => {
    const sb = sandbox();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OTLP JSON as received
    const got: { url: string; body: any }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        got.push({ url: req.url ?? "", body: JSON.parse(body) });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const s = settingsFor(sb, { otlpEndpoint: `http://127.0.0.1:${port}` });
      appendAudit(rec(1, { action: "deny", argv: ["gh", "--token", "fake-gh-token-ro-123", "repo", "delete"] }), {
        env: sb.env,
        settings: s,
      });
      await flushAuditExports();
      expect(got).toHaveLength(1);
      expect(got[0]!.url).toBe("/v1/logs");
      const lr = got[0]!.body.resourceLogs[0].scopeLogs[0].logRecords[0];
      expect(lr.severityText).toBe("WARN");
      expect(lr.attributes).toContainEqual({ key: "downscope.action", value: { stringValue: "deny" } });
      expect(lr.body.stringValue).toContain('"argv":["gh","--token","[REDACTED]","repo","delete"]');
      expect(JSON.stringify(got)).not.toContain("fake-gh-token-ro-123");
    } finally {
      await new Promise((r) => server.close(r));
    }
    // Receiver down (the port is closed now): append returns, the line is kept and verifies.
    const s = settingsFor(sb, { otlpEndpoint: `http://127.0.0.1:${port}` });
    appendAudit(rec(2), { env: sb.env, settings: s, stderr: () => expect.fail("no warning expected") });
    await flushAuditExports();
    expect(readAuditEntries(s).map((e) => e.argv!.at(-1))).toEqual(["delete", "2"]);
    expect(verifyAudit(s, auditKey(sb.env)).problem).toBeUndefined();
  });
});

describe("syslog export", () => {
  it("sends one RFC 5424 message per record over UDP on loopback", async () => {
    const sb = sandbox();
    const { createSocket } = await import("node:dgram");
    const sock = createSocket("udp4");
    const got: string[] = [];
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
    sock.on("message", (m) => got.push(m.toString()));
    try {
      const s = settingsFor(sb, { syslog: true });
      appendAudit(rec(1, { action: "deny", argv: ["gh", "--token", "fake-gh-token-ro-123"] }), {
        env: sb.env,
        settings: s,
        syslogPort: sock.address().port,
      });
      await flushAuditExports();
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toHaveLength(1);
      // authpriv (10) * 8 + warning (4) = 84 for a denial
      expect(got[0]).toMatch(/^<84>1 \d{4}-\d\d-\d\dT\S+Z \S+ downscope \d+ exec - \{"time":/);
      expect(got[0]).toContain('"argv":["gh","--token","[REDACTED]"]');
      expect(got[0]).not.toContain("fake-gh-token-ro-123");
    } finally {
      sock.close();
    }
  });
});

describe("audit settings", () => {
  it("come from the managed and user layers; a project file cannot change them", async () => {
    const sb = sandbox();
    sb.write(
      sb.env.DOWNSCOPE_MANAGED_CONFIG!,
      `version: 1\nsettings: { audit: { otlp_endpoint: "http://127.0.0.1:4318", max_bytes: 65536 } }\n`,
    );
    sb.write(
      join(sb.env.XDG_CONFIG_HOME!, "downscope/config.yaml"),
      `version: 1\nsettings: { audit: { path: "~/logs/a.jsonl", otlp_endpoint: "http://user.invalid" } }\n`,
    );
    sb.write(
      join(sb.project, ".claude/downscoping.yaml"),
      `version: 1\nsettings: { audit: { enabled: false, path: /tmp/elsewhere } }\n`,
    );
    const { loadPolicy } = await import("../../src/policy/load.js");
    const s = auditSettingsOf(await Promise.resolve(loadPolicy({ cwd: sb.project, env: sb.env })), sb.env);
    expect(s).toMatchObject({
      enabled: true,
      path: join(sb.home, "logs/a.jsonl"),
      maxBytes: 65536,
      otlpEndpoint: "http://127.0.0.1:4318",
    });
  });
});

describe("downscope audit", () => {
  it("prints a table newest last, filters by action/session/since, and --json", async () => {
    const sb = sandbox();
    const s = settingsFor(sb);
    appendAudit(rec(1, { session: "s1" }), {
      env: sb.env,
      settings: s,
      now: () => new Date(Date.now() - 3 * 3600_000),
    });
    appendAudit(rec(2, { session: "s2", action: "deny", rule: "repo deletion denied" }), { env: sb.env, settings: s });
    appendAudit(rec(3, { session: "s2" }), { env: sb.env, settings: s });
    const all = await runCli(["audit"], { env: sb.env, cwd: sb.project });
    const rows = all.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^TIME\s+EVENT\s+ACTION\s+SERVICE\s+COMMAND/);
    expect(rows.slice(1).map((r) => /gh pr view (\d)/.exec(r)![1])).toEqual(["1", "2", "3"]);
    const deny = await runCli(["audit", "--action", "deny", "--json"], { env: sb.env, cwd: sb.project });
    expect(
      deny.stdout
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { rule: string }).rule),
    ).toEqual(["repo deletion denied"]);
    const recent = await runCli(["audit", "--since", "1h", "--session", "s2", "--json"], {
      env: sb.env,
      cwd: sb.project,
    });
    expect(recent.stdout.trim().split("\n")).toHaveLength(2);
    expect((await runCli(["audit", "--since", "yesterday"], { env: sb.env, cwd: sb.project })).code).toBe(64);
  });
});
