import type { JWTPayload } from "jose";

/** Claims the server sets itself; a user's claim of the same name is left out of access tokens. */
const RESERVED: ReadonlySet<string> = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "iat",
  "nbf",
  "jti",
  "client_id",
  "scope",
]);

/** What goes into one access token. */
export interface AccessTokenClaimsInput {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
  readonly clientId: string;
  /** Space-separated; empty: no `scope` claim. */
  readonly scope: string;
  readonly iat: number;
  readonly ttlSeconds: number;
  readonly jti: string;
  /** The user's claims (`users[sub].claims`), added when `accessTokenUserClaims` is on. */
  readonly userClaims: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The payload of an RFC 9068 JWT access token (`typ: at+jwt`): `iss`, `sub`, `aud`, `exp`,
 * `iat`, `jti`, `client_id`, `scope`, plus the user's claims when given (RFC 9068 §2.2.2
 * identity claims); the registered claims always win over a user's claim of the same name.
 *
 * @param input - The token's issuer, subject, audience, client, scope, times and user claims.
 * @returns The JWT payload to sign.
 */
export function accessTokenClaims(input: AccessTokenClaimsInput): JWTPayload {
  const extra = Object.entries(input.userClaims ?? {}).filter(([name]) => !RESERVED.has(name));
  return {
    ...Object.fromEntries(extra),
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    client_id: input.clientId,
    ...(input.scope === "" ? {} : { scope: input.scope }),
    iat: input.iat,
    exp: input.iat + input.ttlSeconds,
    jti: input.jti,
  };
}
