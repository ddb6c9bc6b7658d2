import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type AwaitingCallbackState,
  type CodeReceivedState,
  ErrorCode,
  LatchkeyError,
  type ProtocolError,
  receiveCallback,
  TransportError,
} from "@latchkey/core";
import {
  failurePage,
  PAGE_HEADERS,
  type ResultPageOptions,
  strayPage,
  successPage,
} from "./pages.js";

/** Options of {@link startCallbackServer}. */
export interface CallbackServerOptions extends ResultPageOptions {
  /** Loopback address to bind: `127.0.0.1` (default) or `::1` (S8). Nothing else is accepted (S23). */
  host?: "127.0.0.1" | "::1";
  /** Port; 0 (default) picks a free one (S31). */
  port?: number;
  /** The callback path. Default `/callback`. */
  path?: string;
  /** How long to wait for the browser, in ms. Default 180 000 (S30). */
  timeoutMs?: number;
  /** Cancels the wait and frees the port (S30). */
  signal?: AbortSignal;
  /** Most requests served before giving up on the flow (S26). Default 200. */
  maxRequests?: number;
}

/** A running loopback callback server. */
export interface CallbackServer {
  /** The redirect URI naming the address and port actually bound (S7), e.g. `http://127.0.0.1:53124/callback`. */
  readonly redirectUri: string;
  /** The port bound. */
  readonly port: number;
  /**
   * Waits for the callback of this login. Every request to the callback path is judged by
   * core's {@link receiveCallback}: stray ones are answered and ignored, the first valid one
   * resolves, an error response rejects with core's `ProtocolError`. Rejects with a
   * `TransportError` (`TIMEOUT` / `ABORTED`) on timeout or abort.
   */
  waitForCallback(state: AwaitingCallbackState): Promise<CodeReceivedState>;
  /**
   * Stops listening and drops every connection. Idempotent. When a callback was received but
   * the browser has not yet fetched the result page, waits up to `graceMs` (default 1000) for it.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const MAX_URL_LENGTH = 8192;

type Outcome = { kind: "success" } | { kind: "failure"; reason: string };

/**
 * Starts the loopback server that receives the authorization response (RFC 8252 §7.3). It
 * listens before anything else happens (S31), on loopback only (S23), checks `Host` (S24), serves
 * only `GET` on the exact path (S25), answers and ignores stray requests (S26), and after the
 * callback sends a 303 to a clean `/done` page so the code leaves the address bar (S28).
 *
 * @example
 * ```ts
 * const server = await startCallbackServer({ timeoutMs: 120_000 });
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
  if (host !== "127.0.0.1" && host !== "::1") {
    throw new LatchkeyError(
      ErrorCode.CONFIG_INVALID,
      "The callback server binds only 127.0.0.1 or ::1.",
    );
  }
  const path = options.path ?? "/callback";
  if (!path.startsWith("/") || path === "/done") {
    throw new LatchkeyError(
      ErrorCode.CONFIG_INVALID,
      'The callback path must start with "/" and not be "/done".',
    );
  }
  const maxRequests = options.maxRequests ?? 200;
  const sockets = new Set<Socket>();
  let handler: ((url: URL) => "accepted" | "ignored" | "failed") | undefined;
  let lastIgnoredReason = "";
  let outcome: Outcome | undefined;
  let requests = 0;
  let markDoneServed: () => void = () => undefined;
  const doneServed = new Promise<void>((resolve) => {
    markDoneServed = resolve;
  });

  const server: Server = createServer((req, res) => {
    requests++;
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent)
        send(res, 500, strayPage("The login helper failed to process this request."));
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.maxHeadersCount = 64;

  const port = await listen(server, host, options.port ?? 0);
  const literal = host === "::1" ? "[::1]" : host;
  const authority = `${literal}:${port}`;
  const redirectUri = `http://${authority}${path}`;

  function send(
    res: ServerResponse,
    status: number,
    html: string,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, { ...PAGE_HEADERS, ...extra, "Content-Length": Buffer.byteLength(html) });
    res.end(html);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (requests > maxRequests) {
      send(res, 429, strayPage("Too many requests."), { Connection: "close" });
      return;
    }
    // DNS rebinding: only our own authority is acceptable (S24).
    if (req.headers.host !== authority) {
      send(res, 400, strayPage("Unexpected Host header."));
      return;
    }
    const rawUrl = req.url ?? "/";
    if (rawUrl.length > MAX_URL_LENGTH) {
      send(res, 414, strayPage("The request URL is too long."));
      return;
    }
    let url: URL;
    try {
      url = new URL(rawUrl, `http://${authority}`);
    } catch {
      send(res, 400, strayPage("Malformed request."));
      return;
    }
    if (url.pathname !== path && url.pathname !== "/done") {
      send(res, 404, strayPage("Nothing here."));
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, strayPage("Only GET is accepted."), { Allow: "GET" });
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
    const purpose = `${req.headers["sec-purpose"] ?? ""} ${req.headers.purpose ?? ""}`;
    if (/prefetch|prerender/i.test(purpose) || req.method === "HEAD") {
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
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
    });
  };

  const waitForCallback = (state: AwaitingCallbackState): Promise<CodeReceivedState> => {
    if (handler)
      return Promise.reject(
        new LatchkeyError(ErrorCode.CONFIG_INVALID, "waitForCallback was already called."),
      );
    return new Promise<CodeReceivedState>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 180_000;
      const cleanup = (): void => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const timer = setTimeout(() => {
        cleanup();
        timedOut = true;
        outcome = { kind: "failure", reason: "The login timed out." };
        void close();
        reject(
          new TransportError(
            ErrorCode.TIMEOUT,
            `No login callback arrived within ${Math.round(timeoutMs / 1000)} s; the port is closed.`,
          ),
        );
      }, timeoutMs);
      timer.unref?.();
      const onAbort = (): void => {
        cleanup();
        timedOut = true;
        outcome = { kind: "failure", reason: "The login was cancelled." };
        void close();
        reject(
          new TransportError(ErrorCode.ABORTED, "The login was cancelled; the port is closed."),
        );
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      handler = (url) => {
        const verdict = receiveCallback(state, url);
        switch (verdict.outcome) {
          case "ignored":
            lastIgnoredReason = verdict.error.message;
            return "ignored";
          case "failed":
            cleanup();
            outcome = { kind: "failure", reason: verdict.error.message };
            reject(verdict.error satisfies ProtocolError);
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

  return { redirectUri, port, waitForCallback, close };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(
          new LatchkeyError(
            ErrorCode.PORT_IN_USE,
            `Port ${port} on ${host} is already in use; free it or choose another port (0 picks a free one).`,
            { cause: error },
          ),
        );
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT") {
        reject(
          new LatchkeyError(
            ErrorCode.CONFIG_INVALID,
            `Cannot bind ${host} on this machine (${error.code}).`,
            {
              cause: error,
            },
          ),
        );
      } else {
        reject(error);
      }
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host, port, exclusive: true });
  });
}
