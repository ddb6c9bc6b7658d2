import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN: string = fileURLToPath(new URL("../dist/bundle/latchkey.mjs", import.meta.url));
export const FOLLOW: string = fileURLToPath(
  new URL("./fixtures/follow-browser.mjs", import.meta.url),
);
export const BROWSER = `${process.execPath} ${FOLLOW}`;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = "latchkey-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The environment of a user without a display, a browser or colours. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  for (const name of [
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "BROWSER",
    "SSH_CONNECTION",
    "SSH_TTY",
    "KUBERNETES_EXEC_INFO",
  ]) {
    if (!(name in extra)) delete env[name];
  }
  for (const name of Object.keys(env))
    if (name.startsWith("LATCHKEY_") && !(name in extra)) delete env[name];
  return env;
}

/** Runs the real `latchkey` process. */
export function latchkey(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    /** The working directory (default: the test's). */
    cwd?: string;
    timeoutMs?: number;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? cleanEnv(),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`latchkey ${args[0]} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A forwarding HTTP proxy on loopback (plain requests and CONNECT tunnels) that logs what it carries. */
export interface TestProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `METHOD /path` for forwarded requests, `CONNECT host:port` for tunnels. */
  seen: string[];
  close(): Promise<void>;
}

/** Starts a {@link TestProxy}. */
export async function startProxy(): Promise<TestProxy> {
  const seen: string[] = [];
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${new URL(req.url ?? "/").pathname}`);
    const upstream = httpRequest(
      new URL(req.url ?? "/"),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  // undici tunnels through CONNECT, also for http targets.
  proxy.on("connect", (req, client, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? "").split(":");
    const upstream = connect({ host, port: Number(port) }, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}
