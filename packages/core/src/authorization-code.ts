import * as oauth from "oauth4webapi";
import { type ClientOptions, checkExtraParams, toOauthClient } from "./config.js";
import type { ServerMetadata } from "./discovery.js";
import { ConfigurationError, ErrorCode, ProtocolError } from "./errors.js";
import type { AwaitingCallbackState, CodeReceivedState, CompletedState } from "./flow-state.js";
import { clientTransport, mapOauthError } from "./http.js";
import { decodeJwtClaims } from "./jwt.js";
import {
  calculateCodeChallenge,
  generateCodeVerifier,
  generateNonce,
  generateState,
} from "./pkce.js";
import { receiveCallback } from "./receive-callback.js";
import { redactUrl } from "./redact.js";
import { postToken, resourceParams, scopeString, toCredentials, wantsOpenId } from "./tokens.js";

export type {
  AuthorizationCodeFlowState,
  AwaitingCallbackState,
  CodeReceivedState,
  CompletedState,
  FailedState,
} from "./flow-state.js";
export { isFlowFinished } from "./flow-state.js";

/** Options of {@link beginAuthorization}. */
export interface BeginAuthorizationOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server (from {@link resolveServer}). */
  server: ServerMetadata;
  /** The redirect URI, e.g. `http://127.0.0.1:53124/callback` with the port actually bound (S7). */
  redirectUri: string;
  /** Cancels the pushed authorization request, when one is made. */
  signal?: AbortSignal;
}

/** What {@link beginAuthorization} returns. */
export interface BeganAuthorization {
  /** The state to keep until the callback comes. */
  state: AwaitingCallbackState;
  /** Where to send the user's browser. Holds `state`: print it only as the user's prompt. */
  authorizationUrl: URL;
}

/**
 * Starts a login: a fresh verifier, `state` and `nonce` (S14), the S256 challenge (S10, never
 * `plain`, S12) and the authorization URL, keeping any query the endpoint already has (defect 6).
 * Fails before any browser opens when the server does not offer S256 (S13). When the server
 * requires pushed authorization requests ({@link https://www.rfc-editor.org/rfc/rfc9126#section-2 | RFC 9126 §2}), the parameters are pushed first and the
 * URL carries only a `request_uri`.
 *
 * Implements {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1 | RFC 6749 §4.1.1} with PKCE ({@link https://www.rfc-editor.org/rfc/rfc7636#section-4.1 | RFC 7636 §4.1}–{@link https://www.rfc-editor.org/rfc/rfc7636#section-4.3 | RFC 7636 §4.3}).
 *
 * @returns The state to keep until the callback (plain JSON: it survives a redirect in
 * `sessionStorage`; it holds the verifier, so keep it as secret as a token) and the URL to send
 * the browser to.
 * @throws {@link ConfigurationError} `CONFIG_INVALID` (no authorization endpoint, a redirect URI
 * that is not absolute, an extra parameter that would override `state`, PKCE or the redirect URI),
 * `PKCE_S256_UNSUPPORTED`.
 * @throws {@link TransportError} With PAR only: `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`,
 * `ABORTED`.
 *
 * @example
 * ```ts
 * const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri });
 * sessionStorage.setItem("login", JSON.stringify(state));
 * location.assign(authorizationUrl);
 * ```
 */
export async function beginAuthorization(
  options: BeginAuthorizationOptions,
): Promise<BeganAuthorization> {
  const { client, server } = options;
  const methods = server.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes("S256")) {
    throw new ConfigurationError(
      ErrorCode.PKCE_S256_UNSUPPORTED,
      `${redactUrl(server.issuer)} does not offer PKCE S256; no login without it.`,
    );
  }
  if (!server.authorization_endpoint) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The server has no authorization endpoint; give one.",
    );
  }
  checkExtraParams(client.authorizationParams, "authorization parameters");
  toOauthClient(client);
  let redirect: URL;
  try {
    redirect = new URL(options.redirectUri);
  } catch {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI is not an absolute URL.",
    );
  }
  if (redirect.hash) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The redirect URI must not have a fragment.",
    );
  }

  const codeVerifier = generateCodeVerifier();
  const stateValue = generateState();
  const scope = scopeString(client);
  const nonce = wantsOpenId(client) ? generateNonce() : undefined;
  const challenge = await calculateCodeChallenge(codeVerifier);

  const url = new URL(server.authorization_endpoint);
  const params = url.searchParams;
  for (const [name, value] of Object.entries({
    client_id: client.clientId,
    response_type: "code",
    scope,
    redirect_uri: options.redirectUri,
    state: stateValue,
    code_challenge: challenge,
    code_challenge_method: "S256",
    nonce,
    audience: client.audience,
  })) {
    if (value !== undefined) params.set(name, value);
  }
  for (const resource of client.resource ?? []) params.append("resource", resource);
  for (const [name, value] of Object.entries(client.authorizationParams ?? {})) {
    params.set(name, value);
  }

  const usePar =
    client.pushedAuthorizationRequests ?? server.require_pushed_authorization_requests === true;
  let authorizationUrl = url;
  if (usePar) authorizationUrl = await pushAuthorizationRequest(options, url);

  const state: AwaitingCallbackState = {
    status: "awaiting-callback",
    expectedIssuer: client.issuer === undefined ? null : server.issuer,
    issRequired: server.authorization_response_iss_parameter_supported === true,
    clientId: client.clientId,
    redirectUri: options.redirectUri,
    state: stateValue,
    codeVerifier,
    startedAt: (client.now ?? Date.now)(),
  };
  if (nonce !== undefined) state.nonce = nonce;
  if (scope !== undefined) state.scope = scope;
  return { state, authorizationUrl };
}

/** RFC 9126: sends the parameters to the PAR endpoint; the browser gets only a `request_uri`. */
async function pushAuthorizationRequest(
  options: BeginAuthorizationOptions,
  url: URL,
): Promise<URL> {
  const { server } = options;
  if (!server.pushed_authorization_request_endpoint) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `${redactUrl(server.issuer)} requires PAR but has no PAR endpoint.`,
    );
  }
  const { client, auth } = toOauthClient(options.client);
  const params = new URLSearchParams(url.searchParams);
  const base = new URL(server.authorization_endpoint as string);
  for (const name of base.searchParams.keys()) params.delete(name);
  try {
    const response = await oauth.pushedAuthorizationRequest(
      server,
      client,
      auth,
      params,
      clientTransport(options.client, options.signal),
    );
    const result = await oauth.processPushedAuthorizationResponse(server, client, response);
    base.searchParams.set("client_id", options.client.clientId);
    base.searchParams.set("request_uri", result.request_uri);
    return base;
  } catch (error) {
    throw mapOauthError(error, "pushed authorization request");
  }
}

/** Options of {@link exchangeCode}. */
export interface ExchangeCodeOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server the login was sent to. */
  server: ServerMetadata;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * Exchanges the code for tokens: `grant_type=authorization_code`, the code, the byte-identical
 * `redirect_uri`, `client_id` and `code_verifier` (S21), plus the configured token parameters
 * (and the authorization parameters only when asked, defect 7). The callback is checked again
 * first, as {@link receiveCallback} does. The response is validated by oauth4webapi (ID-token
 * claims), here (nonce, signature, `iat`; an ID token is required when `openid` was asked) and
 * once more at the boundary (token shapes, `token_type`, `expires_in`; S32).
 *
 * Implements {@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 | RFC 6749 §4.1.3}–{@link https://www.rfc-editor.org/rfc/rfc6749#section-4.1.4 | RFC 6749 §4.1.4} with the `code_verifier` of {@link https://www.rfc-editor.org/rfc/rfc7636#section-4.5 | RFC 7636 §4.5},
 * and ID-token validation ({@link https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken | OIDC Core §3.1.3.7}).
 *
 * @returns The completed state; `credentials` are not stored: persist them yourself.
 * @throws {@link ProtocolError} `INVALID_GRANT` (the code was refused: used, expired, or for
 * another redirect URI), `INVALID_CLIENT`, `TOKEN_REQUEST_FAILED`, `INVALID_RESPONSE`,
 * `INVALID_ID_TOKEN`, `ISS_MISMATCH`; {@link ConfigurationError} `CONFIG_INVALID`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`: the code
 * may still be unused; a new login is the safe way on.
 *
 * @example
 * ```ts
 * const { credentials } = await exchangeCode(verdict.next, { client, server });
 * await store.set({ issuer: server.issuer, clientId: client.clientId, profile: "default" }, credentials);
 * ```
 */
export async function exchangeCode(
  state: CodeReceivedState,
  options: ExchangeCodeOptions,
): Promise<CompletedState> {
  const { server } = options;
  if (state.expectedIssuer !== null && state.expectedIssuer !== server.issuer) {
    throw new ProtocolError(
      ErrorCode.ISS_MISMATCH,
      "This login was sent to another authorization server (S18).",
    );
  }
  if (state.clientId !== options.client.clientId) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "This login was started for another client id.",
    );
  }
  // The callback is checked again: the state may have been kept, and edited, outside latchkey.
  const verdict = receiveCallback(
    { ...state, status: "awaiting-callback" },
    new URL(state.callbackQuery, "http://callback"),
  );
  if (verdict.outcome !== "accepted") throw verdict.error;
  const query = new URLSearchParams(state.callbackQuery);
  if (query.has("response") || query.has("id_token") || query.has("token")) {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      "Only the code flow is supported, not JARM, implicit or hybrid.",
    );
  }
  const params = new URLSearchParams(options.client.tokenParams ?? {});
  if (options.client.copyAuthorizationParamsToTokenRequest) {
    for (const [name, value] of Object.entries(options.client.authorizationParams ?? {})) {
      if (!params.has(name)) params.set(name, value);
    }
    if (state.scope !== undefined && !params.has("scope")) params.set("scope", state.scope);
    resourceParams(options.client, params);
  }
  params.set("redirect_uri", state.redirectUri);
  params.set("code", query.get("code") as string);
  params.set("code_verifier", state.codeVerifier);
  const { body, receivedAt } = await postToken(
    options,
    "authorization_code",
    params,
    "token request",
  );
  const claims = decodeJwtClaims(body.id_token);
  if (state.nonce !== undefined && !claims) {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      "The token response has no ID token (openid was asked for).",
    );
  }
  // Before anything else is done with the response (S44).
  if (claims && claims.nonce !== state.nonce) {
    throw new ProtocolError(
      ErrorCode.INVALID_ID_TOKEN,
      "The ID token's nonce is not this login's.",
    );
  }
  const credentials = toCredentials(body, {
    issuer: server.issuer,
    clientId: state.clientId,
    receivedAt,
    requestedScope: state.scope,
  });
  return { status: "completed", credentials };
}
