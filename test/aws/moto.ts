/**
 * A real moto_server on a loopback port (STS, S3, IAM), for tests that run the
 * real aws CLI and the real SDK without network. A missing moto_server or aws
 * is a test failure with a clear message, never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";

export const TOOL_PATH = [
  "/root/.pyenv/shims",
  join(process.env.HOME ?? "/root", ".local/bin"),
  process.env.PATH ?? "/usr/bin:/bin",
].join(delimiter);

export function requireTool(name: string): string {
  for (const dir of TOOL_PATH.split(delimiter)) {
    const p = join(dir, name);
    if (dir !== "" && existsSync(p)) return p;
  }
  throw new Error(
    `${name} is required for the AWS integration tests but was not found on PATH (${TOOL_PATH}); install it (pip install 'moto[server]' awscli) — these tests never skip`,
  );
}

export interface Moto {
  url: string;
  stop(): void;
  data(): Promise<MotoData>;
  reset(): Promise<void>;
}

export interface MotoData {
  sts?: { AssumedRole?: { policy: string | null; session_name: string; role_arn: string; access_key_id: string }[] };
  iam?: { User?: { name: string }[] };
}

export async function startMoto(): Promise<Moto> {
  const bin = requireTool("moto_server");
  const child: ChildProcess = spawn(bin, ["-H", "127.0.0.1", "-p", "0"], {
    // No access to the developer's AWS files (moto needs none).
    env: {
      PATH: TOOL_PATH,
      HOME: process.env.HOME ?? "/tmp",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`moto_server did not start within 60 s:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`moto_server exited with ${code}:\n${out}`)));
  });
  // Readiness: the management API answers.
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${url}/moto-api/data.json`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () => void child.kill("SIGTERM"),
    data: async () => (await (await fetch(`${url}/moto-api/data.json`)).json()) as MotoData,
    reset: async () => void (await fetch(`${url}/moto-api/reset`, { method: "POST" })),
  };
}

export function assumedRoles(d: MotoData) {
  return d.sts?.AssumedRole ?? [];
}

/** Run the real aws CLI with exactly this environment. */
export function aws(args: string[], env: Record<string, string>, cwd: string) {
  const r = spawnSync(requireTool("aws"), args, { env, cwd, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The user's own AWS files for a source profile `default` with moto's test
 * keys: ~/.aws/config (`config`, region eu-west-1 unless given) and
 * ~/.aws/credentials, in the sandbox's home. Returns their paths.
 */
export function awsSourceFiles(
  sb: { write(rel: string, text: string): string },
  config = "[default]\nregion = eu-west-1\n",
): { awsConfig: string; awsCreds: string } {
  return {
    awsConfig: sb.write("home/.aws/config", config),
    awsCreds: sb.write("home/.aws/credentials", "[default]\naws_access_key_id = test\naws_secret_access_key = test\n"),
  };
}
