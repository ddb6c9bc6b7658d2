import {
  type AwaitingCallbackState,
  type CodeReceivedState,
  ConfigurationError,
  ErrorCode,
  type LatchkeyError,
  ProtocolError,
  receiveCallback,
  TransportError,
} from "@latchkey/core";
import { startTimer } from "@latchkey/core/async";
import {
  failurePage,
  PAGE_HEADERS,
  type ResultPageOptions,
  strayPage,
  successPage,
} from "./pages.js";

/** Options of {@link createCallbackHandler}. */
export interface CallbackHandlerOptions extends ResultPageOptions {
  /**
   * The redirect URI the login sends, e.g. `http://127.0.0.1:53124/callback`. Its authority is
   * the `Host` accepted (S24) and its path the callback path (S25); the result page is `/done`
   * on the same authority.
   */
  redirectUri: string;
  /** Further `Host` values accepted, e.g. `[::1]:53124` when both loopback families are bound. */
  hosts?: readonly string[];
  /** How long {@link CallbackHandler.waitForCallback} waits, in ms. Default 180 000 (S30). */
  timeoutMs?: number;
  /** Cancels the wait (S30). */
  signal?: AbortSignal;
  /**
   * Most requests that could be the callback (right `Host`, the callback path or `/done`) served
   * in all (S26). Default 200. Past it every such request gets a 429 and the wait fails with
   * `CALLBACK_INVALID`. Requests with another `Host` or path are answered and not counted.
   */
  maxRequests?: number;
  /**
   * Called once when the wait is given up — timeout, abort, too many requests, or
   * {@link CallbackHandler.cancel} — before the wait rejects: the server should stop listening.
   */
  onAbandon?: (error: LatchkeyError) => void;
}

/**
 * The loopback callback endpoint as a Web handler: a function from `Request` to `Response`,
 * with the one login it waits for. It never throws and never reads a request body.
 */
export interface CallbackHandler {
  /**
   * Answers one request: `Host` must be one accepted (exactly one header: a merged value such as
   * `a, b` is refused, S24), only `GET` on the callback path can be the callback (`HEAD` and
   * prefetches get 503, other methods 405, other paths 404: none of them consume the login,
   * S25), a stray callback gets a 400 page and the login keeps waiting (S26), the valid one a
   * 303 to `/done` (S28, never a `Location` from the query, S29), any later one 409, and past
   * `maxRequests` 429 (S26).
   */
  (request: Request): Response;
  /**
   * Waits for the callback of this login: each callback request is judged by core's
   * `receiveCallback`; stray ones are answered and ignored, the first valid one resolves, an
   * error response rejects with core's `ProtocolError`. Rejects with a `TransportError`
   * (`TIMEOUT` / `ABORTED`) on timeout, abort or {@link cancel}. Only one wait per handler.
   */
  waitForCallback(state: AwaitingCallbackState): Promise<CodeReceivedState>;
  /** Gives up a pending wait with `error` (default `ABORTED`); it rejects with it. */
  cancel(error?: LatchkeyError): void;
  /**
   * When a callback ended the login (accepted or failed), settles once the browser fetched the
   * result page at `/done`; `undefined` when there is no result page to wait for.
   */
  resultPageServed(): Promise<void> | undefined;
}

type Outcome = { kind: "success" } | { kind: "failure"; reason: string };

/** The page answering a request that is not the login's callback (the reason escaped). */
export function strayResponse(
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(strayPage(reason), { status, headers: { ...PAGE_HEADERS, ...headers } });
}

/** Throws `CONFIG_INVALID` unless `path` can be the callback path. */
export function checkCallbackPath(path: string): void {
  if (!path.startsWith("/") || path.startsWith("//") || path === "/done" || /[?#]/.test(path)) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      'The callback path must start with a single "/", have no query or fragment, and not be "/done".',
    );
  }
}

const PREFETCH = /prefetch|prerender|preview/i;

/**
 * Creates the callback endpoint of one login as a Web handler, `(Request) => Response`, with no
 * socket or Node API: {@link startCallbackServer} mounts it on its loopback ports, and it can be
 * mounted on any server that speaks `Request`/`Response` (Deno, Bun, Hono, a service worker)
 * or called directly in a test.
 *
 * @throws `ConfigurationError` `CONFIG_INVALID` for a redirect URI that is not an absolute URL,
 * has a query or fragment, or a path it cannot serve (`/done`). `waitForCallback` rejects with
 * `TIMEOUT`, `ABORTED`, `CALLBACK_INVALID` (request budget spent) or the callback's
 * `ProtocolError` (`AUTHORIZATION_DENIED`, `ISS_MISMATCH`).
 *
 * @example
 * ```ts
 * const handler = createCallbackHandler({ redirectUri: "http://127.0.0.1:8400/callback" });
 * Deno.serve({ hostname: "127.0.0.1", port: 8400 }, handler);
 * const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri: "http://127.0.0.1:8400/callback" });
 * const received = await handler.waitForCallback(state);
 * ```
 */
export function createCallbackHandler(options: CallbackHandlerOptions): CallbackHandler {
  let redirect: URL;
  try {
    redirect = new URL(options.redirectUri);
  } catch {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI is not an absolute URL.",
    );
  }
  if (redirect.search || redirect.hash || options.redirectUri.includes("#")) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI must not have a query or fragment.",
    );
  }
  const path = redirect.pathname;
  checkCallbackPath(path);
  const hosts = new Set([redirect.host, ...(options.hosts ?? [])].map((h) => h.toLowerCase()));
  const maxRequests = options.maxRequests ?? 200;
  let judge: ((url: URL) => "accepted" | "ignored" | "failed") | undefined;
  let abandonWait: ((reason: string, error: LatchkeyError) => void) | undefined;
  let lastIgnoredReason = "";
  let outcome: Outcome | undefined;
  let abandoned = false;
  let cancelled = false;
  let requests = 0;
  let markDoneServed: () => void = () => undefined;
  const doneServed = new Promise<void>((resolve) => {
    markDoneServed = resolve;
  });

  function page(status: number, html: string): Response {
    return new Response(html, { status, headers: PAGE_HEADERS });
  }

  function respond(request: Request): Response {
    // DNS rebinding: only our own authority is acceptable (S24). Exactly one Host header: a
    // repeated one reaches a Web Request merged ("a, b"), which no accepted value equals.
    const host = request.headers.get("host")?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      return strayResponse(400, "Unexpected Host header.", { Connection: "close" });
    }
    const url = new URL(request.url);
    if (url.pathname !== path && url.pathname !== "/done") {
      return strayResponse(404, "Nothing here.");
    }
    // Only what could be the callback counts (S26): requests with a foreign Host (a rebinding
    // page) or another path are answered and forgotten, so they cannot use up the budget.
    if (++requests > maxRequests) {
      const response = strayResponse(429, "Too many requests.", { Connection: "close" });
      abandonWait?.(
        "The login was stopped.",
        new ProtocolError(
          ErrorCode.CALLBACK_INVALID,
          `The login port received more than ${maxRequests} requests; something on this machine is flooding it. The port is closed.`,
        ),
      );
      return response;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      // Any request body is not read: close the connection rather than drain it.
      return strayResponse(405, "Only GET is accepted.", { Allow: "GET", Connection: "close" });
    }
    if (url.pathname === "/done") {
      if (!outcome) return strayResponse(404, "The login has not finished yet.");
      const html =
        outcome.kind === "success" ? successPage(options) : failurePage(options, outcome.reason);
      markDoneServed();
      return page(200, html);
    }
    const headers = request.headers;
    const purpose = `${headers.get("sec-purpose") ?? ""} ${headers.get("purpose") ?? ""} ${headers.get("x-moz") ?? ""}`;
    if (PREFETCH.test(purpose) || request.method === "HEAD") {
      // A prefetch must not consume the one-shot callback (S25).
      return strayResponse(503, "Prefetch is not served.", { "Retry-After": "0" });
    }
    if (outcome || !judge) {
      return strayResponse(409, "This login has already received its callback.");
    }
    if (judge(url) === "ignored") return strayResponse(400, lastIgnoredReason);
    // Never a Location taken from the query (S29): always our own clean page (S28).
    return new Response(null, {
      status: 303,
      headers: { Location: "/done", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" },
    });
  }

  const handler = (request: Request): Response => {
    try {
      return respond(request);
    } catch {
      return strayResponse(500, "The login helper failed to process this request.");
    }
  };

  const waitForCallback = (state: AwaitingCallbackState): Promise<CodeReceivedState> => {
    if (judge)
      return Promise.reject(
        new ConfigurationError(ErrorCode.CONFIG_INVALID, "waitForCallback was already called."),
      );
    if (cancelled)
      return Promise.reject(new TransportError(ErrorCode.ABORTED, "The login was cancelled."));
    return new Promise<CodeReceivedState>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 180_000;
      let settled = false;
      const cleanup = (): void => {
        settled = true;
        abandonWait = undefined;
        stopTimer();
        options.signal?.removeEventListener("abort", onAbort);
      };
      const abandon = (reason: string, error: LatchkeyError): void => {
        if (settled) return;
        cleanup();
        abandoned = true;
        outcome = { kind: "failure", reason };
        options.onAbandon?.(error);
        reject(error);
      };
      const stopTimer = startTimer(timeoutMs, () =>
        abandon(
          "The login timed out.",
          new TransportError(
            ErrorCode.TIMEOUT,
            `No login callback arrived within ${Math.round(timeoutMs / 1000)} s; the port is closed.`,
          ),
        ),
      );
      const onAbort = (): void =>
        abandon(
          "The login was cancelled.",
          new TransportError(ErrorCode.ABORTED, "The login was cancelled; the port is closed."),
        );
      abandonWait = abandon;
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      judge = (url) => {
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

  const cancel = (error?: LatchkeyError): void => {
    cancelled = true;
    abandonWait?.(
      "The login was stopped.",
      error ?? new TransportError(ErrorCode.ABORTED, "The login was cancelled."),
    );
  };

  const resultPageServed = (): Promise<void> | undefined =>
    outcome && !abandoned ? doneServed : undefined;

  return Object.assign(handler, { waitForCallback, cancel, resultPageServed });
}
