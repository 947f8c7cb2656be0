import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditRecord } from "../../src/audit/record.js";
import { runCli } from "../helpers/run-cli.js";
import { scanSandbox, SECRETS } from "../scan/fixtures.js";
import { sandboxWithTrail, START, TRAIL } from "../suggest/fixture.js";
import { renderInChromium } from "./chromium.js";

const XSS = [
  {
    event: "exec" as const,
    service: "gh",
    argv: ["gh", "pr", "view", "<script>document.title='pwned'</script>"],
    action: "allow" as const,
    slot: "readonly",
  },
  {
    event: "hook" as const,
    argv: [`gh repo delete "</code><img src=x onerror=\\"document.title='img'\\">"`],
    action: "deny" as const,
    reason: "<b>bold</b>",
  },
];

/** What calls returned: an exec run (decision and output in one record), and a tool call next to its hook decision. */
const RESULTS: AuditRecord[] = [
  {
    event: "exec" as const,
    service: "gh",
    argv: ["gh", "pr", "list"],
    action: "allow" as const,
    rule: "pr reads",
    layer: "user",
    slot: "readonly",
    exit: 0,
    duration_ms: 812,
    output: {
      streams: {
        stdout: { bytes: 42, sha256: "a".repeat(64), text: "<script>document.title='out'</script>" },
        stderr: { tty: true as const },
      },
      masked: { "slot:readonly": 1 },
    },
  },
  {
    event: "hook" as const,
    tool_use_id: "toolu_9",
    argv: ["gh pr view 7"],
    action: "allow" as const,
    reason: "allowed",
  },
  {
    event: "tool" as const,
    tool_use_id: "toolu_9",
    tool: "Bash",
    argv: ["/x/downscope-exec.js gh pr view 7"],
    exit: 1,
    duration_ms: 90,
    output: {
      streams: { result: { bytes: 7, sha256: "b".repeat(64) } },
      masked: { "github-pat": 2 },
      reached_model_unmasked: true as const,
    },
  },
];

async function report(sb: ReturnType<typeof sandboxWithTrail>, extra: string[] = []) {
  const file = join(sb.root, "report.html");
  const r = await runCli(["report", ...extra, "--html", file], { env: sb.env, cwd: sb.project });
  expect(r.code, r.stderr).toBe(0);
  return { file, html: readFileSync(file, "utf8") };
}

describe("downscope report --html", () => {
  it("renders in headless Chromium with its sections and makes no network request", async () => {
    const day = 86_400_000;
    const start = Date.now() - 6 * day;
    const sb = sandboxWithTrail(
      START,
      [...TRAIL, ...TRAIL, ...XSS, ...RESULTS],
      (i) => new Date(start + i * (day / 6)),
    );
    const { file } = await report(sb, ["--since", "7d"]);
    const page = await renderInChromium(file);
    expect(page.requests).toEqual([]);
    expect(page.title).toBe("downscope report");
    for (const id of [
      "overview",
      "decisions-over-time",
      "per-service",
      "per-rule",
      "denied-reviewed",
      "credentials",
      "mcp-scan",
      "results",
      "suggestion",
    ])
      expect(page.dom, id).toContain(`id="${id}"`);
    // What each call returned, next to its decision; a logged output's <script> stays text.
    expect(page.title).not.toBe("out");
    expect(page.dom).toContain("&lt;script&gt;document.title='out'&lt;/script&gt;");
    expect(page.dom).toContain('allow rule "pr reads" (user), slot readonly');
    expect(page.dom).toContain("terminal (not measured)");
    expect(page.dom).toContain("2× github-pat; shown unmasked (a failed call's text)");
    expect(page.dom).toContain("Observed calls whose decision would change");
    expect(page.dom).toMatch(/<svg[^>]*aria-label="decisions over time"/);
    expect(page.png.subarray(1, 4).toString()).toBe("PNG");
    expect(page.png.length).toBeGreaterThan(20_000);
    if (process.env.DOWNSCOPE_REPORT_SCREENSHOT) writeFileSync(process.env.DOWNSCOPE_REPORT_SCREENSHOT, page.png);
  }, 120_000);

  /*
   * Bug to avoid: the report, a file people pass around, shows the plaintext
   * secrets the scan found in MCP configs.
   * Proves: the MCP config scan section lists the flags with kinds and
   * fingerprints, no secret value is in the page, and the page still makes no
   * request in Chromium.
   */
  it("has an MCP config scan section, without a secret in it", async () => {
    const sb = scanSandbox();
    const file = join(sb.root, "report.html");
    const r = await runCli(["report", "--html", file], { env: sb.env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(file, "utf8");
    for (const secret of Object.values(SECRETS)) expect(html).not.toContain(secret);
    const page = await renderInChromium(file);
    expect(page.requests).toEqual([]);
    expect(page.dom).toContain('id="mcp-scan"');
    expect(page.dom).toMatch(/<td><code>~\/\.claude\.json<\/code>:6<\/td><td>github<\/td><td>secret<\/td>/);
    expect(page.dom).toMatch(
      /a plaintext secret \(GitHub token\) is written in the config <code>sha256:[0-9a-f]{12}<\/code>/,
    );
    expect(page.dom).toContain("mounts the root directory into the container");
  }, 120_000);

  it("the request check can fail: a page with external references is caught", async () => {
    const sb = sandboxWithTrail();
    const f = sb.write(
      "external.html",
      `<!doctype html><link rel="stylesheet" href="https://cdn.example/x.css"><img src="http://img.example/x.png">`,
    );
    const page = await renderInChromium(f);
    expect(page.requests.sort()).toEqual(["http://img.example/x.png", "https://cdn.example/x.css"]);
  }, 120_000);

  /*
   * Attack: the agent runs a command whose arguments are HTML (`<script>`,
   * an `<img onerror>` that closes the surrounding element); the human opens
   * the report. Fix: every string from the trail is escaped, and the page's
   * CSP forbids scripts anyway. Proves: no script or injected element in the
   * rendered DOM, the title unchanged, the text shown as text.
   */
  it("a <script> in a logged command is inert text", async () => {
    const sb = sandboxWithTrail(START, [...TRAIL, ...XSS]);
    const { file, html } = await report(sb);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).not.toContain("<b>bold</b>");
    expect(html).toContain("&lt;script&gt;document.title=");
    expect(html).toContain("&lt;/code&gt;&lt;img src=x onerror=");
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(html).toContain("default-src &#39;none&#39;".replace(/&#39;/g, "'"));
    const page = await renderInChromium(file);
    expect(page.title).toBe("downscope report");
    expect(page.dom).not.toMatch(/<script|<img/i);
    expect(page.dom).toContain("&lt;script&gt;");
    expect(page.requests).toEqual([]);
  }, 120_000);

  it("shows credentials by kind and scope, never a value or a fingerprint", async () => {
    const sb = sandboxWithTrail(START, [
      ...TRAIL,
      {
        event: "credential",
        service: "aws",
        action: "allow",
        policy: "service policy",
        fingerprint: "sha256:0123456789ab",
      },
      {
        event: "exec",
        service: "gh",
        argv: ["gh", "pr", "list"],
        action: "allow",
        slot: "readonly",
        fingerprint: "sha256:ba9876543210",
      },
    ]);
    const { html } = await report(sb);
    expect(html).toMatch(/<td>aws<\/td><td>AWS session policy<\/td><td>service policy<\/td>/);
    expect(html).toMatch(/<td>gh<\/td><td>token slot<\/td><td>readonly<\/td><td class="n">5<\/td>/);
    expect(html).not.toContain("0123456789ab");
    expect(html).not.toContain("ba9876543210");
  });

  it("without --html, prints what each call returned next to its decision", async () => {
    const sb = sandboxWithTrail(START, RESULTS);
    const r = await runCli(["report"], { env: sb.env, cwd: sb.project });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 6).map((l) => l.replace(/^\S+ \S+ {2}/, ""))).toEqual([
      "exec  gh pr list",
      '    decision: allow rule "pr reads" (user), slot readonly',
      "    exit 0, 812 ms",
      `    stdout: 42 B sha256:${"a".repeat(12)}`,
      "    stderr: terminal (not measured)",
      "    masked: 1× slot:readonly",
    ]);
    expect(r.stdout).toContain("tool  /x/downscope-exec.js gh pr view 7\n    decision: allow\n    exit 1, 90 ms");
    expect(r.stdout).toContain("masked: 2× github-pat; shown unmasked (a failed call's text)");
  });

  it("refuses to write an agent's settings or downscope's own files", async () => {
    const sb = sandboxWithTrail();
    for (const t of [join(sb.project, ".claude/settings.json"), sb.policyFile]) {
      const r = await runCli(["report", "--html", t], { env: sb.env, cwd: sb.project });
      expect([t, r.code]).toEqual([t, 64]);
    }
    expect(readFileSync(sb.policyFile, "utf8")).toBe(START);
  });
});

describe("downscope audit --summary", () => {
  it("fits one screen and shows decisions, services, stopped commands and credentials", async () => {
    const sb = sandboxWithTrail(START, [
      ...TRAIL,
      { event: "hook", argv: ["gh repo delete x \u001b[2J\u001b[31mhidden"], action: "deny" },
    ]);
    const r = await runCli(["audit", "--summary"], { env: sb.env, cwd: sb.project });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(30);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(r.stdout).toMatch(/^17 records, /);
    expect(r.stdout).toContain("decisions: 12 allow, 2 review, 3 deny");
    expect(r.stdout).toMatch(/gh\s+5 allow, 1 review, 2 deny/); // hook records counted under the service they call
    expect(r.stdout).toContain("denied or reviewed (5, newest first):");
    expect(r.stdout).toMatch(/gh\s+token slot readonly\s+4×/);
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout).toContain("gh repo delete x ?[2J?[31mhidden");
  });
});

describe("summarize", () => {
  it("handles a full rotated set (more records than a call takes arguments)", async () => {
    const { summarize } = await import("../../src/report/summary.js");
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const entries = Array.from({ length: 300_000 }, (_, i) => ({
      time: new Date(t0 + i * 60_000).toISOString(),
      event: "exec" as const,
      service: "gh",
      action: i % 10 === 0 ? ("deny" as const) : ("allow" as const),
      prev: "",
      mac: "",
    }));
    const s = summarize(entries);
    expect(s.first).toBe("2026-01-01T00:00:00.000Z");
    expect(s.totals).toMatchObject({ allow: 270_000, deny: 30_000 });
    expect(s.bucket).toBe("day");
    expect(s.timeline.length).toBe(209);
  });
});
