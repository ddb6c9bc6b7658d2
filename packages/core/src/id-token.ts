import * as oauth from "oauth4webapi";
import type { ClientOptions } from "./config.js";
import type { ServerMetadata } from "./discovery.js";
import { ErrorCode, ProtocolError } from "./errors.js";
import type { OauthRequestOptions } from "./http.js";
import { decodeJwtClaims } from "./jwt.js";

// Per transport, then per jwks_uri: two fetch functions may reach two different servers
// behind the same URL (tests, split-horizon DNS).
const jwksCaches = new WeakMap<object, Map<string, oauth.JWKSCacheInput>>();
const globalTransport = {};

/**
 * @internal The metadata oauth4webapi validates ID tokens against, with the algorithm
 * allow-list made safe (S43): never `none`, and no HMAC algorithms for a public client (an
 * HS256 token "signed" with the public client id proves nothing).
 */
export function withSafeIdTokenAlgorithms(
  server: ServerMetadata,
  client: ClientOptions,
): ServerMetadata {
  const listed = server.id_token_signing_alg_values_supported;
  if (!Array.isArray(listed)) return server;
  const confidential = client.clientSecret !== undefined;
  const safe = listed.filter((alg) => alg !== "none" && (confidential || !/^HS\d+$/.test(alg)));
  return { ...server, id_token_signing_alg_values_supported: safe.length ? safe : ["RS256"] };
}

/**
 * @internal Checks the signature of the ID token in a processed token response against the
 * server's `jwks_uri` (S43). An unknown `kid` makes oauth4webapi refetch the key set once, rate
 * limited (S45); the key set is cached per `jwks_uri`.
 */
export async function verifyIdTokenSignature(
  server: ServerMetadata,
  response: Response,
  transport: OauthRequestOptions,
  cacheKey: object | undefined,
): Promise<void> {
  if (!server.jwks_uri) {
    throw new ProtocolError(
      ErrorCode.INVALID_ID_TOKEN,
      "The server sent an ID token but publishes no jwks_uri to verify it with.",
    );
  }
  const owner = cacheKey ?? globalTransport;
  let perTransport = jwksCaches.get(owner);
  if (!perTransport) {
    perTransport = new Map();
    jwksCaches.set(owner, perTransport);
  }
  const jwksUri = server.jwks_uri;
  let cache = perTransport.get(jwksUri);
  if (!cache) {
    cache = {};
    perTransport.set(jwksUri, cache);
  }
  try {
    await oauth.validateApplicationLevelSignature(server, response, {
      ...transport,
      [oauth.jwksCache]: cache,
    });
  } catch (error) {
    // An unknown `kid` after a key rotation: refetch the key set once, at most every 30 s (S45).
    const now = Date.now();
    let refetches = lastForcedRefetch.get(owner);
    if (!refetches) {
      refetches = new Map();
      lastForcedRefetch.set(owner, refetches);
    }
    const last = refetches.get(jwksUri) ?? 0;
    if (
      !(error instanceof oauth.OperationProcessingError) ||
      error.code !== oauth.KEY_SELECTION ||
      now - last < 30_000
    ) {
      throw error;
    }
    refetches.set(jwksUri, now);
    const fresh: oauth.JWKSCacheInput = {};
    perTransport.set(jwksUri, fresh);
    await oauth.validateApplicationLevelSignature({ ...server }, response, {
      ...transport,
      [oauth.jwksCache]: fresh,
    });
  }
}

const lastForcedRefetch = new WeakMap<object, Map<string, number>>();

/**
 * @internal An `iat` in the future beyond the leeway is refused (S43); oauth4webapi only checks
 * that it is there.
 */
export function checkIssuedAt(
  claims: oauth.IDToken | undefined,
  nowMs: number,
  toleranceSeconds: number,
): void {
  if (!claims) return;
  if (typeof claims.iat === "number" && claims.iat > nowMs / 1000 + toleranceSeconds) {
    throw new ProtocolError(
      ErrorCode.INVALID_ID_TOKEN,
      "The ID token was issued in the future (iat); check the clocks.",
    );
  }
}

/**
 * @internal An ID token from a refresh must name the same issuer, subject and audience as the
 * one from the login (S46, OIDC Core §12.2).
 */
export function checkRefreshedIdToken(
  previousIdToken: string | undefined,
  claims: oauth.IDToken | undefined,
): void {
  if (!claims || !previousIdToken) return;
  const previous = decodeJwtClaims(previousIdToken);
  if (!previous) return;
  const sameAud =
    JSON.stringify([previous.aud].flat().sort()) === JSON.stringify([claims.aud].flat().sort());
  if (previous.iss !== claims.iss || previous.sub !== claims.sub || !sameAud) {
    throw new ProtocolError(
      ErrorCode.INVALID_ID_TOKEN,
      "The ID token from the refresh names another issuer, subject or audience than the login's; refusing it.",
    );
  }
}
