import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeAuthorizationServerOptions,
} from "./server.js";
import { type FakeTlsCredentials, generateSelfSignedCertificate } from "./tls.js";

/** Options of {@link startFakeAuthorizationServer}: those of the fake server, without the issuer, plus where to listen. */
export type StartFakeAuthorizationServerOptions = Omit<FakeAuthorizationServerOptions, "issuer"> & {
  /** The address to bind. Default `127.0.0.1`; `::1` gives an issuer on `[::1]`. */
  host?: string;
  /** The port to bind. Default 0 (an ephemeral port). */
  port?: number;
  /** A path for the issuer, e.g. `/tenant-a`. Default none. */
  issuerPath?: string;
  /**
   * Serve HTTPS: `true` generates a self-signed certificate for `127.0.0.1`, `::1` and `localhost`
   * (with the `openssl` command); or pass your own `{ key, cert }`. Default `false`.
   */
  https?: boolean | FakeTlsCredentials;
};

/** A fake authorization server listening on a socket. */
export interface RunningFakeAuthorizationServer extends FakeAuthorizationServer {
  /** The origin the server listens on, e.g. `http://127.0.0.1:49152`. */
  readonly url: string;
  /** With `https`, the server's certificate (PEM), to pass as `ca` to a client; else `undefined`. */
  readonly certificate: string | undefined;
  /** Stops listening and closes every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(incoming: IncomingMessage): Promise<ArrayBuffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new RangeError("request body too large");
    }
    chunks.push(buffer);
  }
  return size === 0 ? undefined : new Uint8Array(Buffer.concat(chunks)).buffer;
}

async function toRequest(incoming: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (let index = 0; index + 1 < incoming.rawHeaders.length; index += 2) {
    headers.append(incoming.rawHeaders[index] ?? "", incoming.rawHeaders[index + 1] ?? "");
  }
  const method = incoming.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : await readBody(incoming);
  // Concatenate rather than resolve: `new URL("//x/y", origin)` would change the host.
  const url = new URL(`${origin}${incoming.url ?? "/"}`);
  return new Request(url, body === undefined ? { method, headers } : { method, headers, body });
}

async function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = new Uint8Array(await response.arrayBuffer());
  outgoing.writeHead(response.status, headers);
  outgoing.end(body);
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * Starts a fake authorization server on a loopback socket (`127.0.0.1`, port 0 by default).
 * The issuer, `http(s)://HOST:PORT{issuerPath}`, is known only once the port is bound. A `*:drop`
 * fault destroys the socket without an answer.
 *
 * @param options - Fake server options (see `createFakeAuthorizationServer`) plus `host`, `port`, `issuerPath`, `https`.
 * @returns The running server; close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * await using server = await startFakeAuthorizationServer();
 * const metadata = await (await fetch(server.endpoints.oauthMetadata)).json();
 * ```
 */
export async function startFakeAuthorizationServer(
  options: StartFakeAuthorizationServerOptions = {},
): Promise<RunningFakeAuthorizationServer> {
  const {
    host = "127.0.0.1",
    port = 0,
    issuerPath = "",
    https = false,
    ...serverOptions
  } = options;
  let fake: FakeAuthorizationServer | undefined;
  let origin = "";
  const tls =
    https === true ? await generateSelfSignedCertificate() : https === false ? undefined : https;

  const listener = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const respond = async (): Promise<void> => {
      if (fake === undefined) {
        await writeResponse(new Response("starting", { status: 503 }), outgoing);
        return;
      }
      let request: Request;
      try {
        request = await toRequest(incoming, origin);
      } catch {
        await writeResponse(new Response("bad request", { status: 400 }), outgoing);
        return;
      }
      await writeResponse(await fake.fetch(request), outgoing);
    };
    // A `*:drop` fault (or any failure) ends the connection without an answer.
    respond().catch(() => {
      outgoing.destroy();
    });
  };
  const server =
    tls === undefined
      ? createServer(listener)
      : createHttpsServer({ key: tls.key, cert: tls.cert }, listener);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      server.closeAllConnections();
    });

  try {
    const address = server.address() as AddressInfo;
    origin = `${tls === undefined ? "http" : "https"}://${hostForUrl(host)}:${address.port}`;
    fake = await createFakeAuthorizationServer({
      ...serverOptions,
      issuer: `${origin}${issuerPath}`,
    });
  } catch (error) {
    await closeServer();
    throw error;
  }

  return {
    ...fake,
    url: origin,
    certificate: tls?.cert,
    close: closeServer,
    [Symbol.asyncDispose]: closeServer,
  };
}
