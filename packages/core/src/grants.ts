import * as oauth from "oauth4webapi";
import { sleep } from "./async.js";
import { type ClientOptions, toOauthClient } from "./config.js";
import type { Credentials } from "./credentials.js";
import type { ServerMetadata } from "./discovery.js";
import { ConfigurationError, ErrorCode, ProtocolError, TransportError } from "./errors.js";
import { clientTransport, mapOauthError } from "./http.js";
import { redactUrl } from "./redact.js";
import { postToken, resourceParams, scopeString, toCredentials } from "./tokens.js";

/** Options shared by the grants in this module. */
export interface GrantOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server (from `resolveServer`). */
  server: ServerMetadata;
  /** Cancels the request(s). */
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Client credentials (RFC 6749 §4.4)

/**
 * The client-credentials grant: a token for the client itself, with its secret. No refresh
 * token is expected; run the grant again when the token expires. Implements {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.4 | RFC 6749 §4.4}.
 *
 * @throws {@link ProtocolError} `INVALID_GRANT`, `INVALID_CLIENT`, `TOKEN_REQUEST_FAILED`, `INVALID_RESPONSE`, `INVALID_ID_TOKEN`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`.
 *
 * @example
 * ```ts
 * const credentials = await clientCredentialsGrant({ client: { issuer, clientId, clientSecret }, server });
 * ```
 */
export function clientCredentialsGrant(options: GrantOptions): Promise<Credentials> {
  return tokenEndpointGrant(
    options,
    "client_credentials",
    new URLSearchParams(),
    "client credentials request",
  );
}

/**
 * A grant that is one POST to the token endpoint (client credentials, token exchange): the
 * configured token parameters, audience, resources and scope, the grant's own parameters, and
 * the response validated like every other token response.
 */
async function tokenEndpointGrant(
  options: GrantOptions,
  grantType: string,
  grantParams: URLSearchParams,
  what: string,
): Promise<Credentials> {
  const params = resourceParams(
    options.client,
    new URLSearchParams(options.client.tokenParams ?? {}),
  );
  for (const [name, value] of grantParams) params.set(name, value);
  const scope = scopeString(options.client);
  if (scope !== undefined) params.set("scope", scope);
  const { body, receivedAt } = await postToken(options, grantType, params, what);
  return toCredentials(body, {
    issuer: options.server.issuer,
    clientId: options.client.clientId,
    receivedAt,
    requestedScope: scope,
  });
}

// ---------------------------------------------------------------------------------------------
// Token exchange (RFC 8693)

/** Options of {@link exchangeToken}. */
export interface TokenExchangeOptions extends GrantOptions {
  /** The token to exchange. Secret. */
  subjectToken: string;
  /** Its type. Default `urn:ietf:params:oauth:token-type:access_token`. */
  subjectTokenType?: string;
  /** An actor token, for delegation. */
  actorToken?: string;
  /** The actor token's type. */
  actorTokenType?: string;
  /** The requested token type. */
  requestedTokenType?: string;
}

/**
 * Token exchange: trades a token for another, e.g. for another audience or resource
 * ({@link https://www.rfc-editor.org/rfc/rfc8693#section-2.1 | RFC 8693 §2.1}; the answer as in {@link https://www.rfc-editor.org/rfc/rfc8693#section-2.2 | RFC 8693 §2.2}).
 *
 * @throws {@link ProtocolError} `INVALID_GRANT`, `INVALID_CLIENT`, `TOKEN_REQUEST_FAILED`, `INVALID_RESPONSE`, `INVALID_ID_TOKEN`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`.
 *
 * @example
 * ```ts
 * const downstream = await exchangeToken({
 *   client: { ...client, audience: "https://api.example.com" },
 *   server,
 *   subjectToken: credentials.accessToken,
 * });
 * ```
 */
export function exchangeToken(options: TokenExchangeOptions): Promise<Credentials> {
  const accessTokenType = "urn:ietf:params:oauth:token-type:access_token";
  const params = new URLSearchParams({
    subject_token: options.subjectToken,
    subject_token_type: options.subjectTokenType ?? accessTokenType,
  });
  if (options.actorToken !== undefined) {
    params.set("actor_token", options.actorToken);
    params.set("actor_token_type", options.actorTokenType ?? accessTokenType);
  }
  if (options.requestedTokenType !== undefined) {
    params.set("requested_token_type", options.requestedTokenType);
  }
  return tokenEndpointGrant(
    options,
    "urn:ietf:params:oauth:grant-type:token-exchange",
    params,
    "token exchange request",
  );
}

// ---------------------------------------------------------------------------------------------
// Revocation (RFC 7009)

/** Options of {@link revokeToken}. */
export interface RevokeOptions extends GrantOptions {
  /** The token to revoke. Secret. */
  token: string;
  /** `refresh_token` (default, S51) or `access_token`. */
  tokenTypeHint?: "refresh_token" | "access_token";
}

/** What {@link revokeToken} did. */
export type RevocationOutcome = "revoked" | "no-revocation-endpoint";

/**
 * Revokes a token ({@link https://www.rfc-editor.org/rfc/rfc7009#section-2.1 | RFC 7009 §2.1}, S51). 200 means done (also for tokens the server does not
 * know, {@link https://www.rfc-editor.org/rfc/rfc7009#section-2.2 | RFC 7009 §2.2}); a 503 or network failure throws a retryable `TransportError`; a server
 * without a revocation endpoint gives `no-revocation-endpoint`. Local secrets are the caller's
 * to delete either way.
 *
 * @throws {@link ProtocolError} `INVALID_CLIENT`, `INVALID_GRANT` when the server refuses the request.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`.
 */
export async function revokeToken(options: RevokeOptions): Promise<RevocationOutcome> {
  if (!options.server.revocation_endpoint) return "no-revocation-endpoint";
  const { client, auth } = toOauthClient(options.client);
  try {
    const response = await oauth.revocationRequest(options.server, client, auth, options.token, {
      ...clientTransport(options.client, options.signal, "revocation request"),
      additionalParameters: { token_type_hint: options.tokenTypeHint ?? "refresh_token" },
    });
    await oauth.processRevocationResponse(response);
    return "revoked";
  } catch (error) {
    throw mapOauthError(error, "revocation request");
  }
}

/** Options of {@link revokeCredentials}. */
export interface RevokeCredentialsOptions extends GrantOptions {
  /** The session being logged out of. */
  credentials: Credentials;
}

/**
 * What a logout revokes (S51): the refresh token, which ends the whole session, or the access
 * token when there is no refresh token. Errors as for {@link revokeToken}.
 *
 * @example
 * ```ts
 * await revokeCredentials({ client, server, credentials });
 * await store.delete(key); // the local copy is the caller's to delete
 * ```
 */
export function revokeCredentials(options: RevokeCredentialsOptions): Promise<RevocationOutcome> {
  const { credentials, ...grant } = options;
  return revokeToken({
    ...grant,
    token: credentials.refreshToken ?? credentials.accessToken,
    tokenTypeHint: credentials.refreshToken === undefined ? "access_token" : "refresh_token",
  });
}

// ---------------------------------------------------------------------------------------------
// Device authorization grant (RFC 8628)

/** What the user must do, and what the client polls with. */
export interface DeviceAuthorization {
  /** The device code. Secret. */
  deviceCode: string;
  /** The code the user types. Show it exactly as received (escaped for the terminal, S50). */
  userCode: string;
  /** Where the user goes. */
  verificationUri: string;
  /** The same with the code in it, when the server offers one (S50). */
  verificationUriComplete?: string;
  /** When the device code expires, ms since the epoch (S48): the server's `expires_in`, at most 1 h. */
  expiresAt: number;
  /** Seconds between polls: the server's `interval`, else 5 (S48). */
  interval: number;
  /** The scope requested. */
  scope?: string;
}

/**
 * Starts the device authorization grant: asks the server for a device code and a user code
 * ({@link https://www.rfc-editor.org/rfc/rfc8628#section-3.1 | RFC 8628 §3.1}, {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.2 | RFC 8628 §3.2}). Show `userCode` and `verificationUri` (both escaped for a
 * terminal, S50), then call {@link pollDeviceAuthorization}.
 *
 * @throws {@link ConfigurationError} `CONFIG_INVALID` when the server has no device authorization endpoint.
 * @throws {@link ProtocolError} `INVALID_CLIENT`, `INVALID_RESPONSE`, ...; {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`.
 *
 * @example
 * ```ts
 * const device = await startDeviceAuthorization({ client, server });
 * showToUser(`Enter ${device.userCode} at ${device.verificationUri}`); // your UI
 * const credentials = await pollDeviceAuthorization(device, { client, server, signal });
 * ```
 */
export async function startDeviceAuthorization(
  options: GrantOptions,
): Promise<DeviceAuthorization> {
  if (!options.server.device_authorization_endpoint) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `${redactUrl(options.server.issuer)} has no device authorization endpoint.`,
    );
  }
  const { client, auth } = toOauthClient(options.client);
  const params = resourceParams(
    options.client,
    new URLSearchParams(options.client.authorizationParams ?? {}),
  );
  const scope = scopeString(options.client);
  if (scope !== undefined) params.set("scope", scope);
  const now = options.client.now ?? Date.now;
  try {
    const startedAt = now();
    const response = await oauth.deviceAuthorizationRequest(
      options.server,
      client,
      auth,
      params,
      clientTransport(options.client, options.signal),
    );
    const body = await oauth.processDeviceAuthorizationResponse(options.server, client, response);
    // oauth4webapi has checked the fields: `interval`, when sent, is a positive number.
    const result: DeviceAuthorization = {
      deviceCode: body.device_code,
      userCode: body.user_code,
      verificationUri: body.verification_uri,
      expiresAt: startedAt + Math.min(body.expires_in, 3600) * 1000,
      interval: body.interval ?? 5,
    };
    if (body.verification_uri_complete) {
      result.verificationUriComplete = body.verification_uri_complete;
    }
    if (scope !== undefined) result.scope = scope;
    return result;
  } catch (error) {
    throw mapOauthError(error, "device authorization request");
  }
}

/** Options of {@link pollDeviceAuthorization}. */
export interface PollDeviceOptions extends GrantOptions {
  /** Waits `ms` (abortable). Default: `sleep` of `@latchkey/core/async`. Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each poll, e.g. to show progress. */
  onPoll?: (info: { attempt: number; interval: number }) => void;
}

const deviceCancelled = (): TransportError =>
  new TransportError(ErrorCode.ABORTED, "The device login was cancelled.");

const deviceExpired = (cause?: ProtocolError): ProtocolError =>
  new ProtocolError(
    ErrorCode.AUTHORIZATION_DENIED,
    "The device code expired before the login was approved.",
    { cause, oauth: cause?.oauth ?? { error: "expired_token" } },
  );

// The longest wait between two polls, whatever the server says (a setTimeout over 2^31 - 1 ms
// would fire at once).
const MAX_WAIT_SECONDS = 60;

/**
 * Polls the token endpoint until the user has approved (RFC 8628 §3.4–3.5): waits `interval`
 * seconds between polls (never less than 1 s, so `interval=0` cannot spin, nor more than 60 s),
 * adds 5 s on `slow_down` for this and every later poll (S49) up to those 60 s, keeps polling on
 * `authorization_pending`, backs off (doubling, up to 60 s) on network failures, and stops with a coded error on `access_denied`,
 * `expired_token`, any other error, or when the device code expires (S48). Honours the signal.
 * Implements {@link https://www.rfc-editor.org/rfc/rfc8628#section-3.4 | RFC 8628 §3.4}–{@link https://www.rfc-editor.org/rfc/rfc8628#section-3.5 | RFC 8628 §3.5}.
 *
 * @throws {@link ProtocolError} `AUTHORIZATION_DENIED` (the user said no, or the code expired),
 * `INVALID_GRANT`, `INVALID_CLIENT`, `INVALID_RESPONSE`, `INVALID_ID_TOKEN`.
 * @throws {@link TransportError} `ABORTED` only: network failures are retried until the code expires.
 */
export async function pollDeviceAuthorization(
  authorization: DeviceAuthorization,
  options: PollDeviceOptions,
): Promise<Credentials> {
  // Core's sleep rejects only when the signal aborts, which the check after it reports.
  const wait = options.sleep ?? ((ms, signal) => sleep(ms, signal).catch(() => {}));
  const now = options.client.now ?? Date.now;
  let interval = Math.max(1, authorization.interval);
  let networkBackoff = 0;
  for (let attempt = 1; ; attempt++) {
    interval = Math.min(interval, MAX_WAIT_SECONDS);
    const ms = (networkBackoff || interval) * 1000;
    if (now() + ms >= authorization.expiresAt) throw deviceExpired();
    await wait(ms, options.signal);
    if (options.signal?.aborted) throw deviceCancelled();
    options.onPoll?.({ attempt, interval });
    const params = new URLSearchParams(options.client.tokenParams ?? {});
    params.set("device_code", authorization.deviceCode);
    try {
      const { body, receivedAt } = await postToken(
        options,
        "urn:ietf:params:oauth:grant-type:device_code",
        params,
        "device token request",
      );
      return toCredentials(body, {
        issuer: options.server.issuer,
        clientId: options.client.clientId,
        receivedAt,
        requestedScope: authorization.scope,
      });
    } catch (error) {
      const details = error instanceof ProtocolError && error.oauth;
      if (details) {
        networkBackoff = 0;
        if (details.error === "authorization_pending") continue;
        if (details.error === "slow_down") {
          interval += 5;
          continue;
        }
        if (details.error === "expired_token") throw deviceExpired(error);
        // Any other refusal, coded by classifyTokenEndpointFailure.
        throw details.error === "access_denied"
          ? new ProtocolError(ErrorCode.AUTHORIZATION_DENIED, error.message, {
              cause: error,
              oauth: details,
            })
          : error;
      }
      if (error instanceof TransportError && error.code !== ErrorCode.ABORTED) {
        networkBackoff = Math.min(MAX_WAIT_SECONDS, Math.max(interval, networkBackoff * 2));
        continue;
      }
      throw error;
    }
  }
}
