import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  type AwaitingCallbackState,
  type CodeReceivedState,
  ConfigurationError,
  ErrorCode,
  TransportError,
} from "@latchkey/core";
import { withTimeout } from "@latchkey/core/async";
import { bindAll, checkPorts, type Family, literal } from "./bind.js";
import {
  type CallbackHandler,
  type CallbackHandlerOptions,
  checkCallbackPath,
  createCallbackHandler,
  strayResponse,
} from "./callback-handler.js";
import type { ResultPageOptions } from "./pages.js";

/**
 * Where the callback server listens, and which host its redirect URI names:
 * - `"127.0.0.1"` (default): IPv4 loopback; the redirect URI names `127.0.0.1`.
 * - `"::1"`: IPv6 loopback; the redirect URI names `[::1]` (S8).
 * - `"both"`: every loopback family the machine has, on one port; the redirect URI names
 *   `127.0.0.1` (IPv4 loopback is what every browser and proxy setting reaches, RFC 8252 §8.3),
 *   or `[::1]` on a machine without IPv4 loopback. `Host: [::1]:PORT` is accepted too.
 * - `"localhost"`: for an authorization server that only accepts `localhost` redirect URIs.
 *   Binds loopback only (both families, as the browser may resolve `localhost` to either), the
 *   redirect URI names `localhost`, and `Host: localhost:PORT` is accepted (S24).
 */
export type CallbackHost = "127.0.0.1" | "::1" | "both" | "localhost";

/** Options of {@link startCallbackServer}. */
export interface CallbackServerOptions extends ResultPageOptions {
  /** Which loopback address(es) to bind; see {@link CallbackHost}. Nothing else is accepted (S23). */
  host?: CallbackHost;
  /**
   * The port: 0 (default) picks a free one; a number is that port; a list is tried in order
   * (for servers that registered a few fixed ports). When every port is taken the server fails
   * with `PORT_IN_USE` naming them all (S31).
   */
  port?: number | readonly number[];
  /** The callback path. Default `/callback`. */
  path?: string;
  /** How long to wait for the browser, in ms. Default 180 000 (S30). */
  timeoutMs?: number;
  /** Cancels the wait and frees the port (S30). */
  signal?: AbortSignal;
  /**
   * Most requests to the callback path (or `/done`) with the right `Host` served in all (S26).
   * Default 200. Past it every such request gets a 429 and the login fails with
   * `CALLBACK_INVALID`: something on this machine is flooding the port. Requests with another
   * `Host` or path are answered and not counted.
   */
  maxRequests?: number;
}

/** A running loopback callback server. */
export interface CallbackServer {
  /** The redirect URI naming the address and port actually bound (S7), e.g. `http://127.0.0.1:53124/callback`. */
  readonly redirectUri: string;
  /** The port bound. */
  readonly port: number;
  /** The addresses bound (`127.0.0.1`, `::1`), all on {@link port}. */
  readonly addresses: readonly ("127.0.0.1" | "::1")[];
  /**
   * Waits for the callback of this login. Every request to the callback path is judged by
   * core's `receiveCallback` (see {@link createCallbackHandler}): stray ones are answered and ignored, the first valid one
   * resolves, an error response rejects with core's `ProtocolError`. Rejects with a
   * `TransportError` (`TIMEOUT` / `ABORTED`) on timeout, abort, or when the server is closed
   * first.
   */
  waitForCallback(state: AwaitingCallbackState): Promise<CodeReceivedState>;
  /**
   * Stops listening and drops every connection. Idempotent. When a callback was received but
   * the browser has not yet fetched the result page, waits up to `graceMs` (default 1000) for it.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const MAX_URL_LENGTH = 8192;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CONNECTIONS = 128;
/** Methods a Web `Request` cannot carry; Node passes them to the request listener. */
const UNREPRESENTABLE_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/**
 * Node's request as a Web `Request` on our own authority (never one named by the request), or
 * the answer when it cannot be one: a request line over 8 KiB (414), a target not in origin
 * form (`http://evil/...`, `//evil/...`: 400, S24), a method `Request` cannot carry (405), not
 * exactly one `Host` header (400, S24: a `Request` would merge two into `a, b`, which the
 * handler refuses too). Every header is kept as sent. The body is never read.
 */
function toRequest(req: IncomingMessage, authority: string): Request | Response {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === "host") hosts++;
  }
  if (hosts !== 1) {
    return strayResponse(400, "Unexpected Host header.", { Connection: "close" });
  }
  const target = req.url ?? "/";
  if (target.length > MAX_URL_LENGTH) {
    return strayResponse(414, "The request URL is too long.", { Connection: "close" });
  }
  // Origin-form only: an absolute-form or `//authority` target must not change the URL's host.
  if (!target.startsWith("/") || target.startsWith("//")) {
    return strayResponse(400, "Malformed request.", { Connection: "close" });
  }
  const method = req.method ?? "GET";
  if (UNREPRESENTABLE_METHODS.has(method)) {
    return strayResponse(405, "Only GET is accepted.", { Allow: "GET", Connection: "close" });
  }
  try {
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    }
    return new Request(`http://${authority}${target}`, { method, headers });
  } catch {
    return strayResponse(400, "Malformed request.", { Connection: "close" });
  }
}

/** Writes a Web `Response` to Node's response, with its length. */
async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  headers["content-length"] = String(body?.byteLength ?? 0);
  if (res.destroyed) return;
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * Starts the loopback server that receives the authorization response
 * ({@link https://www.rfc-editor.org/rfc/rfc8252#section-7.3 | RFC 8252 §7.3}). It
 * listens before anything else happens (S31), on loopback only (S23), and serves
 * {@link createCallbackHandler}'s handler: it only binds the ports, turns Node's requests into
 * Web `Request`s and the handler's `Response`s back, and keeps the connection-level limits
 * (request line 8 KiB: 414; headers 16 KiB: 431; 10 s to send a request; at most 128
 * connections, the oldest idle one closed to make room, S26).
 *
 * @throws `ConfigurationError` `CONFIG_INVALID` for a host other than the four loopback choices
 * or a bad path; `LatchkeyError` `PORT_IN_USE` ({@link NodeServerErrorCode}) when every port
 * asked for is taken. `waitForCallback` rejects with `TIMEOUT`, `ABORTED`, `CALLBACK_INVALID`
 * (request budget spent) or the callback's `ProtocolError`.
 *
 * @example
 * ```ts
 * const server = await startCallbackServer({ port: [8400, 8401], timeoutMs: 120_000 });
 * const { state, authorizationUrl } = await beginAuthorization({ client, server: metadata, redirectUri: server.redirectUri });
 * await openBrowser(authorizationUrl.href);
 * const received = await server.waitForCallback(state);
 * await server.close();
 * ```
 */
export async function startCallbackServer(
  options: CallbackServerOptions = {},
): Promise<CallbackServer> {
  const host = options.host ?? "127.0.0.1";
  if (host !== "127.0.0.1" && host !== "::1" && host !== "both" && host !== "localhost") {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      'The callback server binds only loopback: host must be "127.0.0.1", "::1", "both" or "localhost".',
    );
  }
  const path = options.path ?? "/callback";
  checkCallbackPath(path);
  const ports = checkPorts(options.port);
  const sockets = new Set<Socket>();
  // Answers being written: closing waits for them, so that the last page (a 429) is sent.
  const writing = new Set<Promise<void>>();
  let handler: CallbackHandler | undefined;

  // Sockets serving a request right now; every other open socket is idle and may be reaped.
  const busy = new WeakSet<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    busy.add(socket);
    res.on("close", () => busy.delete(socket));
    let written: () => void = () => undefined;
    const pending = new Promise<void>((resolve) => {
      written = resolve;
    });
    writing.add(pending);
    let response: Response;
    try {
      // Between listening and knowing the port, there is no handler yet.
      const request = handler ? toRequest(req, redirectAuthority) : undefined;
      response =
        request === undefined
          ? strayResponse(503, "The login is not ready yet.", { "Retry-After": "0" })
          : request instanceof Response
            ? request
            : (handler as CallbackHandler)(request);
    } catch {
      response = strayResponse(500, "The login helper failed to process this request.");
    }
    writeResponse(res, response)
      .catch(() => res.destroy())
      .finally(() => {
        writing.delete(pending);
        written();
      });
  };
  const makeServer = (): Server => {
    const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, onRequest);
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      // Past the limit, the oldest idle connection makes room: idle sockets held open by a page
      // or a local process must not keep the browser's callback out (S26). Only when every
      // connection is serving a request is the newcomer the one closed.
      if (sockets.size > MAX_CONNECTIONS) {
        let victim: Socket = socket;
        for (const open of sockets) {
          if (open !== socket && !busy.has(open)) {
            victim = open;
            break;
          }
        }
        victim.destroy();
      }
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 64;
    return server;
  };

  const families: readonly Family[] =
    host === "both" || host === "localhost" ? ["127.0.0.1", "::1"] : [host];
  const bound = await bindAll(makeServer, families, ports, host === "both" || host === "localhost");
  const { port, servers } = bound;
  const addresses = bound.addresses;
  const first = addresses[0] as Family;
  const redirectAuthority =
    host === "localhost" ? `localhost:${port}` : `${literal(first)}:${port}`;
  const redirectUri = `http://${redirectAuthority}${path}`;
  const hosts = addresses.map((a) => `${literal(a)}:${port}`);
  const handlerOptions: CallbackHandlerOptions = {
    ...options,
    redirectUri,
    hosts,
    onAbandon: () => void close(),
  };
  handler = createCallbackHandler(handlerOptions);
  const callbackHandler = handler;

  let closed = false;
  const close = async (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    if (closed) return;
    closed = true;
    callbackHandler.cancel(
      new TransportError(ErrorCode.ABORTED, "The callback server was closed."),
    );
    const served = callbackHandler.resultPageServed();
    // At most graceMs for the result page to go out; then the connections drop anyway.
    if (served) {
      await withTimeout(served, closeOptions.graceMs ?? 1000, () => new Error("grace over")).catch(
        () => {},
      );
    }
    // Stop listening now; the answers being written are sent before the connections drop.
    const stopped = servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    await Promise.all([...writing]);
    for (const server of servers) server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await Promise.all(stopped);
  };

  let waiting = false;
  const waitForCallback = (state: AwaitingCallbackState): Promise<CodeReceivedState> => {
    if (closed && !waiting)
      return Promise.reject(
        new TransportError(ErrorCode.ABORTED, "The callback server is already closed."),
      );
    waiting = true;
    return callbackHandler.waitForCallback(state);
  };

  return { redirectUri, port, addresses, waitForCallback, close };
}

/**
 * Turns a configured loopback redirect URI (CLI `--redirect-uri`) into callback server options:
 * `http://127.0.0.1:PORT/PATH`, `http://[::1]:PORT/PATH` or `http://localhost:PORT/PATH`, the port
 * optional (0, any free port). Anything else, a query, a fragment or user info is a
 * `CONFIG_INVALID` error: the server only ever binds loopback (S23).
 *
 * @example
 * ```ts
 * callbackOptionsFromRedirectUri("http://localhost:8400/cb"); // { host: "localhost", port: 8400, path: "/cb" }
 * ```
 */
export function callbackOptionsFromRedirectUri(
  redirectUri: string,
): Required<Pick<CallbackServerOptions, "path">> & { host: CallbackHost; port: number } {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI is not an absolute URL.",
    );
  }
  const hosts: Record<string, CallbackHost> = {
    "127.0.0.1": "127.0.0.1",
    "[::1]": "::1",
    localhost: "localhost",
  };
  const host = hosts[url.hostname];
  if (url.protocol !== "http:" || host === undefined) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI must be http://127.0.0.1:PORT/PATH, http://[::1]:PORT/PATH or http://localhost:PORT/PATH (RFC 8252 loopback).",
    );
  }
  if (url.search || url.hash || url.username || url.password || redirectUri.includes("#")) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI must not have a query, fragment or user info.",
    );
  }
  if (url.pathname === "/done") {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      'The redirect URI path must not be "/done".',
    );
  }
  return { host, port: url.port === "" ? 0 : Number(url.port), path: url.pathname };
}
