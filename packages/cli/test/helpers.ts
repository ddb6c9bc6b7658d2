// The CLI's own test fixtures; spawning, environments and temp dirs come from
// @latchkey/test-utils (shared with the interop suite).
import { createServer, request as httpRequest } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { fileURLToPath } from "node:url";
import { tempDir as sharedTempDir } from "@latchkey/test-utils";

export {
  BIN,
  cleanEnv,
  cliArgs,
  fakeAuthorizationServerForTest,
  latchkey,
  type RunResult,
  run,
} from "@latchkey/test-utils";

export const FOLLOW: string = fileURLToPath(
  new URL("./fixtures/follow-browser.mjs", import.meta.url),
);
/** The stand-in browser: follows the fake server's auto-approval. */
export const BROWSER = `${process.execPath} ${FOLLOW}`;

/** A temp dir removed when the test (or, made outside one, the file) is done. */
export function tempDir(prefix = "latchkey-cli-"): string {
  return sharedTempDir(prefix);
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
