/**
 * Stable error codes. Scripts and the CLI switch on these strings; they never change meaning.
 *
 * @example
 * ```ts
 * try { await exchangeCode(...) } catch (e) {
 *   if (e instanceof LatchkeyError && e.code === ErrorCode.STATE_MISMATCH) { ... }
 * }
 * ```
 */
export const ErrorCode = {
  /** Options are missing or contradictory (no client id, bad URL, ...). */
  CONFIG_INVALID: "CONFIG_INVALID",
  /** A plain-HTTP endpoint that is not loopback, without the explicit opt-in. */
  INSECURE_ENDPOINT: "INSECURE_ENDPOINT",
  /**
   * No metadata was found (a `ConfigurationError`: check the issuer), or the server publishes
   * metadata that cannot be used (a `TransportError`: the server is at fault).
   */
  DISCOVERY_FAILED: "DISCOVERY_FAILED",
  /** The discovery document names another issuer than the one asked for (S19). */
  DISCOVERY_ISSUER_MISMATCH: "DISCOVERY_ISSUER_MISMATCH",
  /** The server does not offer PKCE S256 (S13): nothing is sent to it. */
  PKCE_S256_UNSUPPORTED: "PKCE_S256_UNSUPPORTED",
  /** The callback's `state` is missing or not the one this login sent (S15). */
  STATE_MISMATCH: "STATE_MISMATCH",
  /** The callback's RFC 9207 `iss` is missing where required, or wrong (S17). */
  ISS_MISMATCH: "ISS_MISMATCH",
  /** The callback is malformed: duplicate parameters, no code (S16). */
  CALLBACK_INVALID: "CALLBACK_INVALID",
  /** The authorization server answered the authorization request with `error=...`. */
  AUTHORIZATION_DENIED: "AUTHORIZATION_DENIED",
  /**
   * The token endpoint refused the grant: `invalid_grant`, or any other HTTP 400 or 401 that does
   * not refuse the client or the scope, with or without a JSON body (see
   * `classifyTokenEndpointFailure`). For a refresh token: the session is over.
   */
  INVALID_GRANT: "INVALID_GRANT",
  /**
   * The token endpoint rejected the client (`invalid_client`, `unauthorized_client`, or a 401
   * challenge without an OAuth body).
   */
  INVALID_CLIENT: "INVALID_CLIENT",
  /** The token endpoint refused what was asked for (`invalid_scope`, `invalid_target`). */
  TOKEN_REQUEST_FAILED: "TOKEN_REQUEST_FAILED",
  /** A response did not have the shape the protocol requires (S32). */
  INVALID_RESPONSE: "INVALID_RESPONSE",
  /** The ID token failed validation (S43). */
  INVALID_ID_TOKEN: "INVALID_ID_TOKEN",
  /** The server could not be reached, or the connection failed. Retryable. */
  NETWORK_ERROR: "NETWORK_ERROR",
  /**
   * The server answered 5xx, 429 or another status that is not a refusal, or a non-OAuth error
   * page. Retryable.
   */
  SERVER_ERROR: "SERVER_ERROR",
  /** Waiting for the user or the server took longer than allowed (S30). */
  TIMEOUT: "TIMEOUT",
  /** The operation was cancelled through its `AbortSignal`. */
  ABORTED: "ABORTED",
  /** A login is needed and the caller did not allow one. */
  LOGIN_REQUIRED: "LOGIN_REQUIRED",
  /** A stored record could not be read back (corrupt, wrong version). */
  STORE_CORRUPT: "STORE_CORRUPT",
  /** The credential store failed (I/O, permissions, keyring unavailable). */
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Options shared by every latchkey error. */
export interface LatchkeyErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The base class of every error latchkey throws on purpose. `code` is stable; `message` is a
 * sentence for humans and never contains a token, code, verifier, state or full URL (S42).
 * `Code` is one of {@link ErrorCode} for core's errors; the other packages own their codes
 * (`@latchkey/node-server`'s `NodeServerErrorCode`, say) and throw `LatchkeyError<TheirCode>`.
 */
export class LatchkeyError<Code extends string = ErrorCode> extends Error {
  /** The stable code: one of {@link ErrorCode}, or of the throwing package's codes. */
  readonly code: Code;

  constructor(code: Code, message: string, options: LatchkeyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    // Keep a cause from being printed along with the error by accident (it may carry a Response).
    if ("cause" in this) Object.defineProperty(this, "cause", { enumerable: false });
  }
}

/** Configuration or usage problems: the caller must change something before retrying. */
export class ConfigurationError extends LatchkeyError {}

/** Details of an OAuth 2.0 error response (RFC 6749 §4.1.2.1, §5.2). */
export interface OAuthErrorDetails {
  /** The `error` value, e.g. `access_denied`. */
  error: string;
  /** The `error_description` value, if the server sent one. */
  errorDescription?: string;
  /** The `error_uri` value, if the server sent one. */
  errorUri?: string;
  /** The HTTP status, for token-endpoint errors. */
  status?: number;
}

/** Options of {@link ProtocolError}. */
export interface ProtocolErrorOptions extends LatchkeyErrorOptions {
  /** The OAuth error the server sent, if it sent one. */
  oauth?: OAuthErrorDetails;
}

/**
 * The authorization server or the callback said no, or said something invalid: access denied,
 * state or issuer mismatch, a rejected grant, a malformed response. Retrying the same request
 * will not help.
 */
export class ProtocolError extends LatchkeyError {
  /** The OAuth error response, when there was one. */
  readonly oauth: OAuthErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(code, message, options);
    this.oauth = options.oauth;
  }
}

/** The network, the server or the clock failed: the operation may succeed if retried. */
export class TransportError extends LatchkeyError {}

/** A login is required and was not allowed, or was cancelled. */
export class LoginRequiredError extends LatchkeyError {}

/** The credential store failed. Stored data is never discarded because of this error. */
export class StoreError extends LatchkeyError {}
