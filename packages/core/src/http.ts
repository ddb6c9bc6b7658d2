import * as oauth from "oauth4webapi";
import { startTimer } from "./async.js";
import type { ClientOptions, FetchLike } from "./config.js";
import { isRecord } from "./credentials.js";
import {
  ErrorCode,
  LatchkeyError,
  type OAuthErrorDetails,
  ProtocolError,
  TransportError,
} from "./errors.js";
import { escapeText, redactUrl } from "./redact.js";

/** @internal What the transport of a client is made of. */
export type TransportClient = Pick<ClientOptions, "fetch" | "requestTimeoutMs">;

/**
 * @internal The one rule for an error answer (HTTP 4xx or 5xx) of the token endpoint, whatever the grant
 * (code, refresh, device polling, client credentials, token exchange), and of the revocation
 * endpoint, given its status, headers and body (parsed JSON, or anything else when it is not
 * JSON). OAuth errors of other endpoints (device authorization, PAR, UserInfo) go through it
 * too. The rule:
 *
 * - HTTP 400 or 401 is the server refusing the request (RFC 6749 §5.2 uses exactly these),
 *   whatever the body: empty, HTML, text or JSON, with any content type. Sending the same
 *   request again cannot succeed, so it is never transient: a transient error would keep a dead
 *   refresh token and fail every later call the same way.
 * - Its code, from the `error` value: `INVALID_CLIENT` for `invalid_client` and
 *   `unauthorized_client`, or a `WWW-Authenticate` challenge without an OAuth body (the client is
 *   refused, not the grant: a login would fail the same way, so nothing is deleted);
 *   `TOKEN_REQUEST_FAILED` for `invalid_scope` and `invalid_target` (what was asked for is
 *   refused, the grant may be fine); `INVALID_GRANT` for everything else: `invalid_grant`,
 *   `invalid_request` and `unsupported_grant_type` (providers answer a dead refresh token with
 *   these too), unknown values, a JSON body without `error`, no OAuth body at all. For a
 *   refresh that drops the refresh token and asks for a login (S41). This is tolerant where a
 *   wrong guess costs one login, and strict where it matters: a refusal is never retried with
 *   the same token, and never taken for success. The `error` value stays in `oauth` (the device
 *   poller reads `authorization_pending`, `slow_down`, ...); `error_description` is printed
 *   only sanitized.
 * - Every other status is transient, a `TransportError` `SERVER_ERROR` that deletes nothing:
 *   5xx, 429, a proxy's 407, 408, 403 or 404 from something in front of the server, whatever
 *   the body says.
 *
 * @example
 * ```ts
 * classifyTokenEndpointFailure(400, new Headers(), undefined, "refresh request").code; // "INVALID_GRANT"
 * ```
 */
export function classifyTokenEndpointFailure(
  status: number,
  headers: Headers,
  body: unknown,
  what: string,
): LatchkeyError {
  const { error, error_description: description } = Object(body);
  if (status !== 400 && status !== 401) {
    return new TransportError(
      ErrorCode.SERVER_ERROR,
      `The ${what} got HTTP ${status}; try again later.`,
    );
  }
  if (typeof error !== "string") {
    return new ProtocolError(
      headers.has("www-authenticate") ? ErrorCode.INVALID_CLIENT : ErrorCode.INVALID_GRANT,
      `The ${what} was refused (HTTP ${status}).`,
    );
  }
  const oauth: OAuthErrorDetails = { error, status };
  const text = sanitizeDescription(
    // biome-ignore lint/suspicious/noAssignInExpressions: kept only when a string, in fewer bytes
    typeof description === "string" ? (oauth.errorDescription = description) : "",
  );
  return new ProtocolError(
    /^(invalid|unauthorized)_client$/.test(error)
      ? ErrorCode.INVALID_CLIENT
      : /^invalid_(scope|target)$/.test(error)
        ? ErrorCode.TOKEN_REQUEST_FAILED
        : ErrorCode.INVALID_GRANT,
    `The ${what} was rejected (${sanitizeDescription(error)})${text ? `: ${text}` : ""}.`,
    { oauth },
  );
}

type Cause = { cause?: { code?: unknown }; message?: string } | undefined;

/**
 * @internal Wraps the transport: one deadline (`requestTimeoutMs`) for the whole exchange, body
 * included, and at most 1 MB of body (decompressed: what the stream yields), or a
 * {@link TransportError} `TIMEOUT` / `INVALID_RESPONSE` that aborts the request; network failures
 * become {@link TransportError}s, and 5xx or non-JSON error pages become `SERVER_ERROR` before any
 * parser sees them (defect 16). With `what` (a request to the token or revocation endpoint), an
 * error answer to a POST is decided by {@link classifyTokenEndpointFailure} instead.
 */
export function guardedFetch(client: TransportClient, what?: string): FetchLike {
  const base: FetchLike = client.fetch ?? ((input, init) => fetch(input, init));
  // By default 30 s: a server that never answers must not hang a CLI (S30).
  const timeoutMs = client.requestTimeoutMs ?? 30_000;
  return async (input, init) => {
    const target = redactUrl((input as Request).url ?? input);
    const controller = new AbortController();
    const abort = (code: ErrorCode, message: string): void =>
      controller.abort(new TransportError(code, message));
    // A timer, not AbortSignal.timeout: on Node 20 that one, combined by AbortSignal.any, stops
    // firing once garbage collected; this timer holds the controller until it fires. As with
    // AbortSignal.timeout in Node: an open connection keeps the process alive, not this timer.
    startTimer(timeoutMs, () =>
      abort(ErrorCode.TIMEOUT, `${target} did not answer within ${timeoutMs / 1000} s.`),
    );
    // The controller as the options: its `signal` removes the listener once it aborts, which ends
    // every exchange (below), so that a long-lived caller's signal does not collect one listener
    // per request (Node warns past 10).
    init?.signal?.addEventListener(
      "abort",
      () => abort(ErrorCode.ABORTED, `${target}: cancelled.`),
      controller,
    );
    let response: Response;
    try {
      response = await base(input, { ...init, signal: controller.signal });
    } catch (error) {
      // Cancelled or timed out: the reason, whatever the transport threw.
      const cause = controller.signal.reason ?? error;
      controller.abort();
      throw cause instanceof LatchkeyError
        ? cause
        : new TransportError(
            ErrorCode.NETWORK_ERROR,
            // undici's `cause.code` (ECONNREFUSED, ...), or the message.
            `Could not reach ${target}: ${escapeText(`${(cause as Cause)?.cause?.code ?? (cause as Cause)?.message}`)}.`,
            { cause },
          );
    }
    let size = 0;
    response = new Response(
      // An abort errors the body with its reason; past 1 MB, the pipe cancels the body.
      response.body?.pipeThrough(
        new TransformStream({
          transform(chunk, stream) {
            size += chunk.length;
            if (size >> 20) abort(ErrorCode.INVALID_RESPONSE, `${target} sent over 1 MB.`);
            stream.enqueue(chunk);
          },
          // The body is read: the exchange is over.
          flush: () => controller.abort(),
        }),
      ),
      response,
    );
    const { status, headers } = response;
    if (what && init?.body && status > 399) {
      throw classifyTokenEndpointFailure(
        status,
        headers,
        await response.json().catch(() => 0),
        what,
      );
    }
    if (
      status > 499 ||
      (status > 399 &&
        !/^application\/(\S*\+)?json\b/i.test(`${headers.get("content-type")}`) &&
        !headers.has("www-authenticate") &&
        status !== 404)
    ) {
      throw new TransportError(
        ErrorCode.SERVER_ERROR,
        `${target} got HTTP ${status}; try again later.`,
      );
    }
    return response;
  };
}

// biome-ignore lint/suspicious/noExplicitAny: oauth4webapi's method and body types vary per call
type OauthFetch = (url: string, init: oauth.CustomFetchOptions<any, any>) => Promise<Response>;

/** @internal oauth4webapi request options for these transport settings. */
export interface OauthRequestOptions {
  [oauth.customFetch]: OauthFetch;
  [oauth.allowInsecureRequests]: boolean;
  signal?: AbortSignal;
}

/**
 * @internal oauth4webapi request options for a client's transport (guarded, with its timeout)
 * and a signal.
 */
export function clientTransport(
  client: TransportClient,
  signal?: AbortSignal,
  what?: string,
): OauthRequestOptions {
  return {
    [oauth.customFetch]: guardedFetch(client, what) as OauthFetch,
    // Endpoint URLs are checked by checkEndpointUrl (S20) before any request is made.
    [oauth.allowInsecureRequests]: true,
    signal,
  } as OauthRequestOptions;
}

/** @internal A GET through a guarded transport (never following a redirect, S22). */
export function httpGet(
  transport: OauthRequestOptions,
  url: string,
  headers: Record<string, string>,
): Promise<Response> {
  return transport[oauth.customFetch](url, {
    headers,
    redirect: "manual",
    signal: transport.signal,
  } as never);
}

/**
 * @internal A server-provided description as one escaped line of at most 300 UTF-16 units:
 * {@link escapeText} with the cap error messages use; `""` for none.
 */
export const sanitizeDescription = (text: string | undefined): string =>
  escapeText(text ?? "", 300);

/**
 * @internal The error for a body that is not JSON: the server's fault, retryable like a 5xx; or
 * `cause` itself when it is a latchkey error (a body that broke a limit: time, size).
 */
export const notJson = (what: string, cause?: unknown): LatchkeyError =>
  cause instanceof LatchkeyError
    ? cause
    : new TransportError(
        ErrorCode.SERVER_ERROR,
        `The ${what} got a response that is not JSON; try again later.`,
        { cause },
      );

/** @internal The JSON object a response carries, `{}` for other JSON (see {@link notJson}). */
export async function readJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch((cause: unknown) => {
    throw notJson(what, cause);
  });
  return isRecord(body) ? body : {};
}

/**
 * @internal Maps whatever oauth4webapi (or the transport) threw into a latchkey error with a
 * stable code, by oauth4webapi's exported error codes and classes, never by message text. `what`
 * names the operation for the message. `idToken`: the response was JSON and carried an ID token
 * (what latchkey read of it): then what oauth4webapi refused beyond the body's own fields is the
 * ID token, `INVALID_ID_TOKEN`:
 *
 * | oauth4webapi | latchkey |
 * |---|---|
 * | `ResponseBodyError` (`RESPONSE_BODY_ERROR`) | {@link classifyTokenEndpointFailure} |
 * | `WWWAuthenticateChallengeError` | `INVALID_CLIENT` |
 * | `JWT_CLAIM_COMPARISON`, `JWT_TIMESTAMP_CHECK`, with an ID token | `INVALID_ID_TOKEN` |
 * | `INVALID_RESPONSE`, `PARSE_ERROR`, `UNSUPPORTED_OPERATION` (a JWE, `crit`), with an ID token and no `body` cause | `INVALID_ID_TOKEN` |
 * | `PARSE_ERROR`, `RESPONSE_IS_NOT_JSON` otherwise | `SERVER_ERROR` (see {@link notJson}) |
 * | any other coded error (`INVALID_RESPONSE`, `RESPONSE_IS_NOT_CONFORM`, `JSON_ATTRIBUTE_COMPARISON`, `UNSUPPORTED_OPERATION` such as a `token_type`, `MISSING_SERVER_METADATA`, JWT claims of a UserInfo JWT, ...) | `INVALID_RESPONSE` |
 *
 * oauth4webapi reports a failing field of the body with the body as `cause.body`; the checks of
 * the ID token give its claims, header or compact form instead.
 */
export function mapOauthError(error: unknown, what: string, idToken?: boolean): unknown {
  if (error instanceof LatchkeyError) return error;
  const options = { cause: error };
  if (error instanceof oauth.ResponseBodyError) {
    // The OAuth error of another endpoint (device authorization, PAR, userinfo): the same rule.
    return classifyTokenEndpointFailure(error.status, error.response.headers, error.cause, what);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new ProtocolError(
      ErrorCode.INVALID_CLIENT,
      `The ${what} was refused (HTTP ${error.status}).`,
      options,
    );
  }
  const { code, cause } = Object(error);
  const ofIdToken =
    idToken &&
    (code === oauth.JWT_CLAIM_COMPARISON ||
      code === oauth.JWT_TIMESTAMP_CHECK ||
      ((code === oauth.INVALID_RESPONSE ||
        code === oauth.PARSE_ERROR ||
        code === oauth.UNSUPPORTED_OPERATION) &&
        !Object(cause).body));
  // The cause of a PARSE_ERROR of the body may be a body that broke a limit (time, size).
  if (!ofIdToken && (code === oauth.PARSE_ERROR || code === oauth.RESPONSE_IS_NOT_JSON))
    return notJson(what, cause);
  if (
    error instanceof oauth.OperationProcessingError ||
    error instanceof oauth.UnsupportedOperationError ||
    (error instanceof TypeError && typeof code === "string")
  ) {
    return ofIdToken
      ? new ProtocolError(
          ErrorCode.INVALID_ID_TOKEN,
          `The ID token in the ${what} is invalid: ${escapeText(error.message)}.`,
          options,
        )
      : new ProtocolError(
          ErrorCode.INVALID_RESPONSE,
          `The ${what} returned an invalid response: ${escapeText(error.message)}.`,
          options,
        );
  }
  // Anything else is a bug, not a protocol outcome: let it surface as one.
  return error;
}
