import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type AwaitingCallbackState,
  type CodeReceivedState,
  ConfigurationError,
  ErrorCode,
  LatchkeyError,
  ProtocolError,
  receiveCallback,
  TransportError,
} from "@latchkey/core";
import { NodeServerErrorCode } from "./errors.js";
import {
  failurePage,
  PAGE_HEADERS,
  type ResultPageOptions,
  strayPage,
  successPage,
} from "./pages.js";

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
   * core's {@link receiveCallback}: stray ones are answered and ignored, the first valid one
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

type Outcome = { kind: "success" } | { kind: "failure"; reason: string };
type Family = "127.0.0.1" | "::1";

function literal(address: Family): string {
  return address === "::1" ? "[::1]" : address;
}

function checkPorts(port: CallbackServerOptions["port"]): readonly number[] {
  const ports = port === undefined ? [0] : typeof port === "number" ? [port] : port;
  if (ports.length === 0) {
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "The list of callback ports is empty.");
  }
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        `The callback port must be an integer from 0 to 65535 (got ${String(p).slice(0, 20)}).`,
      );
    }
  }
  return ports;
}

/**
 * Starts the loopback server that receives the authorization response (RFC 8252 §7.3). It
 * listens before anything else happens (S31), on loopback only (S23), checks `Host` (S24), serves
 * only `GET` on the exact path (S25), answers and ignores stray requests (S26), and after the
 * callback sends a 303 to a clean `/done` page so the code leaves the address bar (S28).
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
  if (!path.startsWith("/") || path.startsWith("//") || path === "/done" || /[?#]/.test(path)) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      'The callback path must start with a single "/", have no query or fragment, and not be "/done".',
    );
  }
  const ports = checkPorts(options.port);
  const maxRequests = options.maxRequests ?? 200;
  const sockets = new Set<Socket>();
  let handler: ((url: URL) => "accepted" | "ignored" | "failed") | undefined;
  let failWait: ((error: LatchkeyError) => void) | undefined;
  let lastIgnoredReason = "";
  let outcome: Outcome | undefined;
  let requests = 0;
  let markDoneServed: () => void = () => undefined;
  const doneServed = new Promise<void>((resolve) => {
    markDoneServed = resolve;
  });

  // Sockets serving a request right now; every other open socket is idle and may be reaped.
  const busy = new WeakSet<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    busy.add(socket);
    res.on("close", () => busy.delete(socket));
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent)
        send(res, 500, strayPage("The login helper failed to process this request."));
    }
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
  const acceptedHosts = new Set(addresses.map((a) => `${literal(a)}:${port}`));
  if (host === "localhost") acceptedHosts.add(`localhost:${port}`);

  function send(
    res: ServerResponse,
    status: number,
    html: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, { ...PAGE_HEADERS, ...extra, "Content-Length": Buffer.byteLength(html) });
    res.end(html);
  }

  function hostHeader(req: IncomingMessage): string | undefined {
    let count = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]?.toLowerCase() === "host") count++;
    }
    return count === 1 ? req.headers.host?.toLowerCase() : undefined;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    // DNS rebinding: only our own authority is acceptable (S24). Exactly one Host header.
    const hostValue = hostHeader(req);
    if (hostValue === undefined || !acceptedHosts.has(hostValue)) {
      send(res, 400, strayPage("Unexpected Host header."), { Connection: "close" });
      return;
    }
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_LENGTH) {
      send(res, 414, strayPage("The request URL is too long."), { Connection: "close" });
      return;
    }
    // Origin-form only: an absolute-form or `//authority` target must not change the URL's host.
    if (!rawUrl.startsWith("/") || rawUrl.startsWith("//")) {
      send(res, 400, strayPage("Malformed request."), { Connection: "close" });
      return;
    }
    let url: URL;
    try {
      url = new URL(`http://${redirectAuthority}${rawUrl}`);
    } catch {
      send(res, 400, strayPage("Malformed request."));
      return;
    }
    if (url.pathname !== path && url.pathname !== "/done") {
      send(res, 404, strayPage("Nothing here."));
      return;
    }
    // Only what could be the callback counts (S26): requests with a foreign Host (a rebinding
    // page) or another path are answered and forgotten, so they cannot use up the budget.
    if (++requests > maxRequests) {
      send(res, 429, strayPage("Too many requests."), { Connection: "close" });
      failWait?.(
        new ProtocolError(
          ErrorCode.CALLBACK_INVALID,
          `The login port received more than ${maxRequests} requests; something on this machine is flooding it. The port is closed.`,
        ),
      );
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      // Any request body is not read: close the connection rather than drain it.
      send(res, 405, strayPage("Only GET is accepted."), { Allow: "GET", Connection: "close" });
      return;
    }
    if (url.pathname === "/done") {
      if (!outcome) {
        send(res, 404, strayPage("The login has not finished yet."));
      } else if (outcome.kind === "success") {
        send(res, 200, successPage(options));
        markDoneServed();
      } else {
        send(res, 200, failurePage(options, outcome.reason));
        markDoneServed();
      }
      return;
    }
    const purpose = `${req.headers["sec-purpose"] ?? ""} ${req.headers.purpose ?? ""} ${req.headers["x-moz"] ?? ""}`;
    if (/prefetch|prerender|preview/i.test(purpose) || req.method === "HEAD") {
      // A prefetch must not consume the one-shot callback (S25).
      send(res, 503, strayPage("Prefetch is not served."), { "Retry-After": "0" });
      return;
    }
    if (outcome || !handler) {
      send(res, 409, strayPage("This login has already received its callback."));
      return;
    }
    const verdict = handler(url);
    if (verdict === "ignored") {
      send(res, 400, strayPage(lastIgnoredReason));
      return;
    }
    // Never a Location taken from the query (S29): always our own clean page (S28).
    res.writeHead(303, {
      Location: "/done",
      "Cache-Control": "no-store",
      "Referrer-Policy": "no-referrer",
      "Content-Length": 0,
    });
    res.end();
  }

  let closed = false;
  let timedOut = false;
  const close = async (closeOptions: { graceMs?: number } = {}): Promise<void> => {
    if (closed) return;
    closed = true;
    failWait?.(new TransportError(ErrorCode.ABORTED, "The callback server was closed."));
    if (outcome && !timedOut) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        doneServed,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, closeOptions.graceMs ?? 1000);
        }),
      ]);
      clearTimeout(timer);
    }
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    for (const socket of sockets) socket.destroy();
  };

  const waitForCallback = (state: AwaitingCallbackState): Promise<CodeReceivedState> => {
    if (handler)
      return Promise.reject(
        new ConfigurationError(ErrorCode.CONFIG_INVALID, "waitForCallback was already called."),
      );
    if (closed)
      return Promise.reject(
        new TransportError(ErrorCode.ABORTED, "The callback server is already closed."),
      );
    return new Promise<CodeReceivedState>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 180_000;
      let settled = false;
      const cleanup = (): void => {
        settled = true;
        failWait = undefined;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const abandon = (reason: string, error: LatchkeyError): void => {
        if (settled) return;
        cleanup();
        timedOut = true;
        outcome = { kind: "failure", reason };
        void close();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          abandon(
            "The login timed out.",
            new TransportError(
              ErrorCode.TIMEOUT,
              `No login callback arrived within ${Math.round(timeoutMs / 1000)} s; the port is closed.`,
            ),
          ),
        timeoutMs,
      );
      timer.unref?.();
      const onAbort = (): void =>
        abandon(
          "The login was cancelled.",
          new TransportError(ErrorCode.ABORTED, "The login was cancelled; the port is closed."),
        );
      failWait = (error) => abandon("The login was stopped.", error);
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      handler = (url) => {
        if (settled) return "ignored";
        const verdict = receiveCallback(state, url);
        switch (verdict.outcome) {
          case "ignored":
            lastIgnoredReason = verdict.error.message;
            return "ignored";
          case "failed":
            cleanup();
            outcome = { kind: "failure", reason: verdict.error.message };
            reject(verdict.error);
            return "failed";
          case "accepted":
            cleanup();
            outcome = { kind: "success" };
            resolve(verdict.next);
            return "accepted";
          default: {
            const unreachable: never = verdict;
            return unreachable;
          }
        }
      };
    });
  };

  return { redirectUri, port, addresses, waitForCallback, close };
}

interface Bound {
  port: number;
  servers: Server[];
  addresses: Family[];
}

class PortBusy extends Error {}
class FamilyUnavailable extends ConfigurationError {
  constructor(message: string, cause: unknown) {
    super(ErrorCode.CONFIG_INVALID, message, { cause });
    this.name = "ConfigurationError";
  }
}

function closeServers(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  ).then(() => undefined);
}

/**
 * Binds every family on one port, trying the ports in order. With `optional` a family the
 * machine lacks (no IPv6, say) is skipped, but at least one must bind.
 */
async function bindAll(
  makeServer: () => Server,
  families: readonly Family[],
  ports: readonly number[],
  optional: boolean,
): Promise<Bound> {
  const busy: number[] = [];
  for (const wanted of ports) {
    // An ephemeral port may be free on one family and not the other: retry a few times.
    for (let attempt = 0; attempt < (wanted === 0 ? 8 : 1); attempt++) {
      const servers: Server[] = [];
      const addresses: Family[] = [];
      let port = wanted;
      let unavailable: LatchkeyError | undefined;
      try {
        for (const family of families) {
          const server = makeServer();
          try {
            port = await listen(server, family, port);
            servers.push(server);
            addresses.push(family);
          } catch (error) {
            if (optional && error instanceof FamilyUnavailable) {
              unavailable = error;
              continue;
            }
            throw error;
          }
        }
      } catch (error) {
        await closeServers(servers);
        if (error instanceof PortBusy) {
          if (wanted === 0 && attempt < 7) continue;
          busy.push(wanted);
          break;
        }
        throw error;
      }
      if (servers.length === 0) {
        throw (
          unavailable ??
          new ConfigurationError(ErrorCode.CONFIG_INVALID, "No loopback address could be bound.")
        );
      }
      return { port, servers, addresses };
    }
  }
  const where = families.join(" and ");
  throw new LatchkeyError(
    NodeServerErrorCode.PORT_IN_USE,
    busy.length === 1
      ? `Port ${busy[0]} on ${where} is already in use; free it or choose another port (0 picks a free one).`
      : `Ports ${busy.join(", ")} on ${where} are all in use; free one of them or choose another port (0 picks a free one).`,
  );
}

function listen(server: Server, host: Family, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(new PortBusy());
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT") {
        reject(
          new FamilyUnavailable(`Cannot bind ${host} on this machine (${error.code}).`, error),
        );
      } else if (error.code === "EACCES") {
        reject(
          new ConfigurationError(
            ErrorCode.CONFIG_INVALID,
            `Not allowed to bind port ${port} on ${host} (EACCES); use a port above 1023 or 0.`,
            { cause: error },
          ),
        );
      } else {
        reject(
          new TransportError(
            ErrorCode.NETWORK_ERROR,
            `Cannot listen on ${host} (${error.code ?? "error"}).`,
            { cause: error },
          ),
        );
      }
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host, port, exclusive: true, ipv6Only: host === "::1" });
  });
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
