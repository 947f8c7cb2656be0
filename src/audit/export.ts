/**
 * Sending audit records to an organisation's pipeline, loaded only when
 * export is configured. Never blocks or fails a decision: each send has a
 * short timeout, errors are swallowed, and the record is already in the local
 * log before this runs.
 *
 * OTLP/HTTP logs with JSON encoding:
 *   https://opentelemetry.io/docs/specs/otlp/#otlphttp-request
 *   https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/logs/v1/logs.proto
 * Syslog: RFC 5424 over UDP (RFC 5426) to 127.0.0.1:514. Node has no unix
 * datagram sockets, so /dev/log is not used; rsyslog and syslog-ng listen on
 * UDP 514 with one config line (see docs/audit.md).
 */
import type { createSocket as createSocketType } from "node:dgram";
import type { request as httpRequestType } from "node:http";
// node:http, node:https and node:dgram are imported when a record is sent:
// the hook and the wrapper bundle this module, and most users export nothing.
import type { AuditRecord } from "./record.js";
import type { AuditSettings } from "./settings.js";

export const EXPORT_TIMEOUT_MS = 1500;

export async function exportRecord(
  line: string,
  record: AuditRecord,
  settings: AuditSettings,
  opts: { syslogPort?: number } = {},
): Promise<void> {
  const jobs: Promise<void>[] = [];
  if (settings.otlpEndpoint !== undefined) {
    const [http, https] = await Promise.all([import("node:http"), import("node:https")]);
    jobs.push(sendOtlp(settings.otlpEndpoint, line, record, http.request, https.request));
  }
  if (settings.syslog)
    jobs.push(sendSyslog(line, record, opts.syslogPort ?? 514, (await import("node:dgram")).createSocket));
  await Promise.allSettled(jobs);
}

export function otlpUrl(endpoint: string): URL {
  const u = new URL(endpoint);
  if (!u.pathname.endsWith("/v1/logs")) u.pathname = u.pathname.replace(/\/$/, "") + "/v1/logs";
  return u;
}

export function otlpBody(line: string, record: AuditRecord, now = Date.now()): string {
  const attr = (key: string, v: string | number | undefined) =>
    v === undefined ? [] : [{ key, value: typeof v === "number" ? { intValue: String(v) } : { stringValue: v } }];
  const parsed = JSON.parse(line) as Record<string, unknown>;
  const str = (k: string) => (typeof parsed[k] === "string" ? parsed[k] : undefined);
  const denied = record.action === "deny";
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [
            ...attr("service.name", "downscope"),
            ...attr("host.name", process.getBuiltinModule("node:os").hostname()),
          ],
        },
        scopeLogs: [
          {
            scope: { name: "downscope.audit" },
            logRecords: [
              {
                timeUnixNano: `${BigInt(now) * 1000000n}`,
                severityNumber: denied ? 13 : 9, // WARN for denials, INFO otherwise
                severityText: denied ? "WARN" : "INFO",
                body: { stringValue: line },
                attributes: [
                  ...attr("downscope.event", record.event),
                  ...attr("downscope.action", str("action")),
                  ...attr("downscope.service", str("service")),
                  ...attr("downscope.rule", str("rule")),
                  ...attr("downscope.session", str("session")),
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

type Request = typeof httpRequestType;

function sendOtlp(
  endpoint: string,
  line: string,
  record: AuditRecord,
  httpRequest: Request,
  httpsRequest: Request,
): Promise<void> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = otlpUrl(endpoint);
    } catch {
      resolve();
      return;
    }
    const body = otlpBody(line, record);
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: EXPORT_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
        res.on("error", () => resolve());
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve());
    req.end(body);
  });
}

/** RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG; facility authpriv (10). */
export function syslogMessage(line: string, record: AuditRecord, now = new Date()): string {
  const severity = record.action === "deny" ? 4 : 6; // warning / informational
  const pri = 10 * 8 + severity;
  return `<${pri}>1 ${now.toISOString()} ${process.getBuiltinModule("node:os").hostname() || "-"} downscope ${process.pid} ${record.event} - ${line}`;
}

function sendSyslog(
  line: string,
  record: AuditRecord,
  port: number,
  createSocket: typeof createSocketType,
): Promise<void> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const done = () => {
      clearTimeout(t);
      try {
        sock.close();
      } catch {
        /* closed */
      }
      resolve();
    };
    const t = setTimeout(done, EXPORT_TIMEOUT_MS);
    sock.on("error", done);
    sock.send(Buffer.from(syslogMessage(line, record)), port, "127.0.0.1", done);
  });
}
