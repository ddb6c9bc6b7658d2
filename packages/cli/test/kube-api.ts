// Support of kubectl.test.ts: a Kubernetes API server just big enough for kubectl (HTTPS with a
// self-signed certificate, recording the Authorization header of every request), and running
// the real kubectl in a hermetic environment.
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import type { FakeTlsCredentials } from "@latchkey/testing";
import { onTestFinished } from "vitest";
import { cleanEnv, type RunResult, run as runProgram } from "./helpers.js";

export const KUBECTL = "/usr/bin/kubectl";
export const NAMESPACES = "/api/v1/namespaces";

export interface ApiServer {
  url: string;
  /** The Authorization header of each request, in order (undefined when absent). */
  authorizations: (string | undefined)[];
  /** The Authorization headers of the requests to `path` only. */
  authorizationsOf(path: string): (string | undefined)[];
}

/** Starts the API server for the current test (closed when it ends). */
export async function startApiServer(tls: FakeTlsCredentials): Promise<ApiServer> {
  const authorizations: (string | undefined)[] = [];
  const paths: (string | undefined)[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    authorizations.push(request.headers.authorization);
    paths.push(request.url);
    const json = { "content-type": "application/json" };
    if (!request.headers.authorization?.startsWith("Bearer ")) {
      response.writeHead(401, json).end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          reason: "Unauthorized",
          code: 401,
        }),
      );
      return;
    }
    // The machine's kubectl is a dispatcher that first asks for the server's version.
    if (request.url?.startsWith("/version")) {
      response.writeHead(200, json).end(
        JSON.stringify({
          major: "1",
          minor: "32",
          gitVersion: "v1.32.4",
          platform: "linux/amd64",
        }),
      );
      return;
    }
    if (request.url === "/api/v1/namespaces") {
      response.writeHead(200, json).end(
        JSON.stringify({
          kind: "NamespaceList",
          apiVersion: "v1",
          metadata: { resourceVersion: "1" },
          items: [{ metadata: { name: "default" } }],
        }),
      );
      return;
    }
    response.writeHead(404, json).end(JSON.stringify({ kind: "Status", code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    authorizations,
    authorizationsOf: (path) => authorizations.filter((_, i) => paths[i] === path),
  };
}

/** kubectl's environment: a fresh HOME (no cache, no ~/.kube/config), no LATCHKEY_* at all. */
export function kubectlEnv(home: string): NodeJS.ProcessEnv {
  const env = cleanEnv({
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  });
  delete env.KUBECONFIG;
  return env;
}

/** Runs a program to its end (20 s at most) with stdin not a terminal. */
export function run(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProgram(program, args, { env });
}
