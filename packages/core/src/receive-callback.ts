// The callback's verdict (RFC 6749 §4.1.2, RFC 9207): pure, no I/O, no clock.
import { ErrorCode, type OAuthErrorDetails, ProtocolError } from "./errors.js";
import type { AwaitingCallbackState, CodeReceivedState, FailedState } from "./flow-state.js";
import { sanitizeDescription } from "./http.js";
import { escapeText } from "./redact.js";

/**
 * What to make of one request that reached the redirect URI:
 * - `accepted`: the valid callback of this login; exchange the code next.
 * - `ignored`: not a callback of this login (no or wrong `state`, malformed). Answer it and keep
 *   waiting: it must not end the login (S15, S26). Nothing is sent to the token endpoint.
 * - `failed`: this login's callback, and it says the login failed (`error=...`, wrong `iss`).
 */
export type CallbackVerdict =
  | { outcome: "accepted"; next: CodeReceivedState }
  | { outcome: "ignored"; error: ProtocolError }
  | { outcome: "failed"; next: FailedState; error: ProtocolError };

function single(params: URLSearchParams, name: string): string | undefined {
  const value = params.get(name);
  return value === null || value === "" ? undefined : value;
}

/**
 * Validates a callback against the waiting state. Pure: no I/O, no clock. Checks, in order:
 * duplicate parameters (S16), `state` (S15, on success and error responses alike), RFC 9207
 * `iss` byte for byte (S17), an `error` response, then the presence of `code`.
 *
 * Implements {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 | RFC 6749 §4.1.2} (and its error response, {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 | RFC 6749 §4.1.2.1}) with the issuer
 * check of {@link https://www.rfc-editor.org/rfc/rfc9207#section-2.4 | RFC 9207 §2.4}.
 *
 * @param state - The state {@link beginAuthorization} returned.
 * @param callbackUrl - The full URL the browser was sent back to (a query string alone is
 * `ignored`; for pasted text use `judgePastedCallback` of `@latchkey/core/callback`).
 * @returns A verdict; it never throws. `ignored` (`STATE_MISMATCH`, `CALLBACK_INVALID`): not
 * this login's callback, keep waiting. `failed` (`AUTHORIZATION_DENIED`, `ISS_MISMATCH`): this
 * login's callback says no. `accepted`: exchange `next` with {@link exchangeCode}.
 *
 * @example
 * ```ts
 * const verdict = receiveCallback(waiting, location.href);
 * if (verdict.outcome === "accepted") await exchangeCode(verdict.next, { client, server });
 * else if (verdict.outcome === "failed") showError(verdict.error.message);
 * ```
 */
export function receiveCallback(
  state: AwaitingCallbackState,
  callbackUrl: URL | string,
): CallbackVerdict {
  let url: URL;
  try {
    url = typeof callbackUrl === "string" ? new URL(callbackUrl) : callbackUrl;
  } catch {
    return {
      outcome: "ignored",
      error: new ProtocolError(ErrorCode.CALLBACK_INVALID, "The callback is not a valid URL."),
    };
  }
  const params = url.searchParams;
  const names = [...params.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated !== undefined) {
    return {
      outcome: "ignored",
      error: new ProtocolError(
        ErrorCode.CALLBACK_INVALID,
        `The callback repeats the parameter "${escapeText(repeated, 40)}".`,
      ),
    };
  }
  const received = single(params, "state");
  if (received === undefined || !constantTimeEqual(received, state.state)) {
    return {
      outcome: "ignored",
      error: new ProtocolError(
        ErrorCode.STATE_MISMATCH,
        received === undefined
          ? "The callback has no state: not this login's."
          : "The callback's state does not match this login.",
      ),
    };
  }
  const fail = (error: ProtocolError): CallbackVerdict => ({
    outcome: "failed",
    next: { status: "failed", error },
    error,
  });
  const iss = single(params, "iss");
  if (state.expectedIssuer !== null) {
    if (iss === undefined && state.issRequired) {
      return fail(
        new ProtocolError(
          ErrorCode.ISS_MISMATCH,
          "The callback has no iss, which its server promised (RFC 9207).",
        ),
      );
    }
    if (iss !== undefined && iss !== state.expectedIssuer) {
      return fail(
        new ProtocolError(
          ErrorCode.ISS_MISMATCH,
          "The callback's iss is not this login's issuer (RFC 9207).",
        ),
      );
    }
  }
  const error = single(params, "error");
  if (error !== undefined) {
    const details: OAuthErrorDetails = { error };
    const description = single(params, "error_description");
    if (description !== undefined) details.errorDescription = description;
    const uri = single(params, "error_uri");
    if (uri !== undefined) details.errorUri = uri;
    const text = sanitizeDescription(description);
    return fail(
      new ProtocolError(
        ErrorCode.AUTHORIZATION_DENIED,
        `The authorization server refused the login (${escapeText(error, 60)})${text ? `: ${text}` : ""}.`,
        { oauth: details },
      ),
    );
  }
  if (single(params, "code") === undefined) {
    return fail(new ProtocolError(ErrorCode.CALLBACK_INVALID, "The callback has no code."));
  }
  const { status: _status, ...rest } = state;
  return {
    outcome: "accepted",
    next: { ...rest, status: "code-received", callbackQuery: url.search },
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
