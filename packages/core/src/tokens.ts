import * as oauth from "oauth4webapi";
import * as z from "zod/mini";
import { type ClientOptions, toOauthClient } from "./config.js";
import { type Credentials, TOKEN } from "./credentials.js";
import type { ServerMetadata } from "./discovery.js";
import { ErrorCode, LoginRequiredError, ProtocolError } from "./errors.js";
import { clientTransport, mapOauthError } from "./http.js";
import { checkIdToken, withSafeIdTokenAlgorithms } from "./id-token.js";
import { escapeText } from "./redact.js";

// One refine for every check: zod's own checks (minLength, gte, regex) each cost bundle bytes.
const matching = (pattern: RegExp): z.ZodMiniString<string> =>
  z.string().check(z.refine((value) => pattern.test(value)));

/**
 * The token response as the wire carries it (RFC 6749 §5.1), validated once, here (S32):
 * unknown fields are dropped, `access_token` and `token_type` are required, `expires_in` is
 * optional. `token_type` is compared case-insensitively. The tokens must be what a record may
 * hold (at most 64 KiB; the access token VSCHAR without spaces, the refresh token VSCHAR, the
 * ID token a compact JWS), `scope` at most 64 KiB too.
 */
export const TokenResponseSchema: z.ZodMiniObject<{
  access_token: z.ZodMiniString<string>;
  token_type: z.ZodMiniString<string>;
  expires_in: z.ZodMiniOptional<z.ZodMiniNumber<number>>;
  refresh_token: z.ZodMiniOptional<z.ZodMiniString<string>>;
  id_token: z.ZodMiniOptional<z.ZodMiniString<string>>;
  scope: z.ZodMiniOptional<z.ZodMiniString<string>>;
}> = z.object({
  access_token: matching(TOKEN.accessToken),
  token_type: matching(/./),
  expires_in: z.optional(z.number().check(z.refine((value) => value >= 0))),
  refresh_token: z.optional(matching(TOKEN.refreshToken)),
  id_token: z.optional(matching(TOKEN.idToken)),
  scope: z.optional(matching(/^.{0,65536}$/s)),
});

/** A validated token response. */
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** Options of {@link toCredentials}. */
export interface ToCredentialsOptions {
  /** The issuer the response came from. */
  issuer: string;
  /** The client it was issued to. */
  clientId: string;
  /**
   * Receipt time in ms since the epoch; `expiresAt` = this + `expires_in` (S36), `expires_in`
   * taken as at most 10 years (315 360 000 s).
   */
  receivedAt: number;
  /** The scope that was asked for, used when the response does not name one (RFC 6749 §5.1). */
  requestedScope?: string | undefined;
  /** The credentials being refreshed: their refresh token and ID token are kept if none come back (S37). */
  previous?: Credentials | undefined;
}

/** A token response validated by {@link TokenResponseSchema}, or an `INVALID_RESPONSE`. */
function parseTokenResponse(body: unknown): TokenResponse {
  const parsed = z.safeParse(TokenResponseSchema, body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "body").join(", ");
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      `The token response is invalid (${fields}).`,
    );
  }
  const response = parsed.data;
  if (response.token_type.toLowerCase() !== "bearer") {
    throw new ProtocolError(
      ErrorCode.INVALID_RESPONSE,
      `The token_type "${escapeText(response.token_type, 20)}" is not supported: only Bearer is.`,
    );
  }
  return response;
}

/**
 * Validates a token response body and turns it into {@link Credentials}: the one place where
 * the wire's snake_case becomes latchkey's camelCase.
 */
export function toCredentials(body: unknown, options: ToCredentialsOptions): Credentials {
  const response = parseTokenResponse(body);
  const credentials: Credentials = {
    accessToken: response.access_token,
    tokenType: "Bearer",
    issuer: options.issuer,
    clientId: options.clientId,
    obtainedAt: options.receivedAt,
  };
  if (response.expires_in !== undefined) {
    credentials.expiresAt =
      options.receivedAt + Math.round(Math.min(response.expires_in, 3.1536e8) * 1000);
  }
  const refreshToken = response.refresh_token ?? options.previous?.refreshToken;
  if (refreshToken !== undefined) credentials.refreshToken = refreshToken;
  const idToken = response.id_token ?? options.previous?.idToken;
  if (idToken !== undefined) credentials.idToken = idToken;
  const scope = response.scope ?? options.previous?.scope ?? options.requestedScope;
  if (scope !== undefined && scope !== "") credentials.scope = scope;
  return credentials;
}

/** The `scope` string for these options, or undefined when no scope is configured. */
export function scopeString(client: ClientOptions): string | undefined {
  const scopes = (client.scopes ?? []).flatMap((s) => s.split(/\s+/)).filter(Boolean);
  return scopes.length ? [...new Set(scopes)].join(" ") : undefined;
}

/** @internal Adds `audience` (unless `into` has one) and the `resource`s of these options. */
export function resourceParams(client: ClientOptions, into: URLSearchParams): URLSearchParams {
  if (client.audience !== undefined && !into.has("audience")) into.set("audience", client.audience);
  for (const resource of client.resource ?? []) into.append("resource", resource);
  return into;
}

/** Whether the OpenID `openid` scope is requested. */
export function wantsOpenId(client: ClientOptions): boolean {
  return (scopeString(client) ?? "").split(" ").includes("openid");
}

/** Options of {@link refreshCredentials}. */
export interface RefreshOptions {
  /** The client. */
  client: ClientOptions;
  /** The authorization server. */
  server: ServerMetadata;
  /** Cancels the request. */
  signal?: AbortSignal;
  /**
   * Stores credentials in place of the refreshed ones when a refresh fails after the server
   * issued a new refresh token (an ID token or a response that fails validation, S43, S46): the
   * server has already rotated the old one, so using it again would trip its reuse detection and
   * end the session. They hold the new refresh token (a string of printable ASCII, RFC 6749
   * Appendix A.17), the old access token marked expired (the refused one is never used) and the
   * old ID token, which the next refresh's ID token is checked against. Awaited; the refresh
   * then throws its error. Without it, nothing is kept.
   */
  saveRotated?: (credentials: Credentials) => Promise<void>;
}

/**
 * Uses the refresh token (RFC 6749 §6). The old refresh token and ID token are kept when the
 * response carries no new ones (S37, defect 8). A refusal (`invalid_grant`, or any 400 or 401,
 * see `classifyTokenEndpointFailure`) throws a {@link ProtocolError} with code `INVALID_GRANT`;
 * network errors and 5xx throw `TransportError`s: neither deletes anything, that is the
 * caller's decision (S33). A response refused after the server rotated the refresh token goes
 * to `options.saveRotated` first. A refreshed ID token must keep the `iss`, `sub` and `aud` of
 * the previous one ({@link https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse | OIDC Core §12.2}, S46).
 *
 * Implements {@link https://www.rfc-editor.org/rfc/rfc6749#section-6 | RFC 6749 §6}.
 *
 * @returns The new credentials (not stored: persist them, or use {@link getAccessToken}, which does).
 * @throws {@link LoginRequiredError} `LOGIN_REQUIRED` when there is no refresh token.
 * @throws {@link ProtocolError} `INVALID_GRANT` (the session is over), `INVALID_CLIENT`,
 * `TOKEN_REQUEST_FAILED`, `INVALID_RESPONSE`, `INVALID_ID_TOKEN`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`: retry later; nothing is lost.
 *
 * @example
 * ```ts
 * if (isExpiring(credentials)) credentials = await refreshCredentials(credentials, { client, server });
 * ```
 */
export async function refreshCredentials(
  credentials: Credentials,
  options: RefreshOptions,
): Promise<Credentials> {
  if (!credentials.refreshToken) {
    throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "No refresh token; log in again.");
  }
  const params = new URLSearchParams(options.client.refreshParams ?? {});
  params.set("refresh_token", credentials.refreshToken);
  const { body, receivedAt } = await postToken(
    options,
    "refresh_token",
    params,
    "refresh request",
    credentials,
  );
  return toCredentials(body, {
    issuer: credentials.issuer,
    clientId: credentials.clientId,
    receivedAt,
    previous: credentials,
  });
}

/** @internal What {@link postToken} returns. */
export interface TokenPost {
  /** The response body, validated by oauth4webapi (ID-token claims included). */
  body: oauth.TokenEndpointResponse;
  /** When the request was sent, ms since the epoch (S36). */
  receivedAt: number;
}

/**
 * @internal One POST to the token endpoint (`grant_type` and `client_id` added, the client
 * authenticated, no redirect followed, S22) and its response validated: by oauth4webapi against
 * the safe ID-token algorithms, then any ID token's signature, `iat` and, after a refresh
 * (`previous`), its iss/sub/aud against the previous ID token ({@link checkIdToken}, S43, S46),
 * whatever the grant. Errors come out mapped to latchkey errors. The nonce (S44) is the code
 * exchange's to check. A refresh answer refused after the server issued a well-formed refresh
 * token hands that token to `options.saveRotated` first (see {@link RefreshOptions}).
 */
export async function postToken(
  options: RefreshOptions,
  grantType: string,
  params: URLSearchParams,
  what: string,
  previous?: Credentials,
): Promise<TokenPost> {
  const { client, auth } = toOauthClient(options.client);
  const transport = clientTransport(options.client, options.signal, what);
  const server = withSafeIdTokenAlgorithms(options.server, options.client);
  const receivedAt = (options.client.now ?? Date.now)();
  let copy: Response | undefined;
  try {
    const response = await oauth.genericTokenEndpointRequest(
      options.server,
      client,
      auth,
      grantType,
      params,
      transport,
    );
    copy = response.clone();
    const body = await oauth.processGenericTokenEndpointResponse(server, client, response);
    await checkIdToken(server, body, options.client, transport, previous?.idToken);
    parseTokenResponse(body);
    return { body, receivedAt };
  } catch (error) {
    // A refresh answer refused here: the server may have rotated the refresh token already.
    const sent = await copy?.json().catch(() => 0);
    const rotated = sent?.refresh_token;
    if (typeof rotated === "string" && TOKEN.refreshToken.test(rotated)) {
      // Only a refresh has `saveRotated`, and `previous`.
      await options.saveRotated?.({ ...previous!, refreshToken: rotated, expiresAt: receivedAt });
    }
    throw mapOauthError(error, what, sent?.id_token !== undefined);
  }
}
