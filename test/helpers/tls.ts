import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A self-signed certificate made by the real openssl in dir (key.pem,
 * cert.pem), for loopback HTTPS fakes. A missing openssl fails the test with
 * a clear message; it never skips.
 */
export function selfSignedCert(
  dir: string,
  opts: { cn: string; altNames: string; ca?: boolean; days?: number },
): { key: string; cert: string; caFile: string } {
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert];
  args.push("-days", String(opts.days ?? 1), "-subj", `/CN=${opts.cn}`, "-addext", `subjectAltName=${opts.altNames}`);
  if (opts.ca) args.push("-addext", "basicConstraints=critical,CA:TRUE");
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(
      `this test needs openssl on PATH to make a test certificate (apt-get install openssl): ${r.error?.message ?? r.stderr}`,
    );
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8"), caFile: cert };
}
