import * as oauth from "oauth4webapi";
import type { GetAccessTokenOptions } from "./access-token.js";
import { getAccessToken } from "./access-token-eager.js";
import { type ClientOptions, toOauthClient } from "./config.js";
import { authorizationHeader, type Credentials } from "./credentials.js";
import type { ServerMetadata } from "./discovery.js";
import { ErrorCode, ProtocolError } from "./errors.js";
import { clientTransport, httpGet, mapOauthError } from "./http.js";
import { decodeJwtClaims } from "./jwt.js";

/** Options of {@link createAuthorizedFetch}: those of `getAccessToken`. */
export type AuthorizedFetchOptions = GetAccessTokenOptions;

function isInvalidTokenChallenge(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get("www-authenticate") ?? "";
  return /^\s*Bearer\b/i.test(challenge) && /error\s*=\s*"?invalid_token"?/i.test(challenge);
}

/**
 * A `fetch` for resource servers that sends a valid access token in `Authorization: Bearer`
 * (never in the URL, S34). A 401 with `WWW-Authenticate: Bearer error="invalid_token"` refreshes
 * once and retries once (S35); anything else is returned as it is. Implements
 * {@link https://www.rfc-editor.org/rfc/rfc6750#section-2.1 | RFC 6750 §2.1} and the `invalid_token` challenge of {@link https://www.rfc-editor.org/rfc/rfc6750#section-3.1 | RFC 6750 §3.1}.
 *
 * @returns A `fetch`: it rejects as {@link getAccessToken} does when no valid token can be had,
 * and with the transport's own error when the request fails.
 *
 * @example
 * ```ts
 * const api = createAuthorizedFetch({ store, key, client, server: () => resolveServer(client), login });
 * const response = await api("https://api.example.com/me");
 * ```
 */
export function createAuthorizedFetch(
  options: AuthorizedFetchOptions,
): (input: string | URL, init?: RequestInit) => Promise<Response> {
  const base = options.client.fetch ?? ((input, init) => fetch(input, init));
  const send = (
    input: string | URL,
    init: RequestInit | undefined,
    credentials: Credentials,
  ): Promise<Response> => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", authorizationHeader(credentials));
    return base(input, { ...init, headers });
  };
  return async (input, init) => {
    const first = await getAccessToken(options);
    const response = await send(input, init, first.credentials);
    if (!isInvalidTokenChallenge(response)) return response;
    // The body may be a stream: a request with one cannot be replayed safely.
    if (init?.body instanceof ReadableStream) return response;
    const { login: _login, ...withoutLogin } = options;
    const second = await getAccessToken({ ...withoutLogin, forceRefresh: true });
    return send(input, init, second.credentials);
  };
}

/** Options of {@link fetchUserInfo}. */
export interface UserInfoOptions {
  /** The client the credentials were issued to (its transport options are used). */
  client: ClientOptions;
  /** The authorization server; its `userinfo_endpoint` is called. */
  server: ServerMetadata;
  /** Whose claims: the access token is sent, and the ID token's `sub` must match (S47). */
  credentials: Credentials;
  /** Cancels the request (`ABORTED`). */
  signal?: AbortSignal;
}

/**
 * The UserInfo claims ({@link https://openid.net/specs/openid-connect-core-1_0.html#UserInfo | OIDC Core §5.3}).
 * When the credentials carry an ID token, the response's `sub` must equal the ID token's
 * ({@link https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse | §5.3.2}),
 * otherwise it is discarded with `INVALID_RESPONSE` (S47).
 *
 * @throws {@link ProtocolError} `INVALID_RESPONSE`, and the server's refusal of the token.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`.
 *
 * @example
 * ```ts
 * const claims = await fetchUserInfo({ client, server, credentials });
 * ```
 */
export async function fetchUserInfo(options: UserInfoOptions): Promise<Record<string, unknown>> {
  const { client } = toOauthClient(options.client);
  const expected = decodeJwtClaims(options.credentials.idToken)?.sub;
  const transport = clientTransport(options.client, options.signal);
  let claims: oauth.UserInfoResponse;
  try {
    if (!options.server.userinfo_endpoint) {
      throw new ProtocolError(ErrorCode.INVALID_RESPONSE, "The server has no UserInfo endpoint.");
    }
    const response = await httpGet(transport, options.server.userinfo_endpoint, {
      accept: "application/json, application/jwt",
      authorization: authorizationHeader(options.credentials),
    });
    claims = await oauth.processUserInfoResponse(
      options.server,
      client,
      oauth.skipSubjectCheck,
      response,
    );
  } catch (error) {
    throw mapOauthError(error, "userinfo request");
  }
  if (typeof expected === "string" && claims.sub !== expected) {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      "The UserInfo sub is not the ID token's; discarded.",
    );
  }
  return { ...claims };
}
