/** Token families, access tokens and the token response every grant ends with. */
import { accessTokenClaims } from "../access-token-jwt.js";
import { json, NO_STORE, scopeList } from "../http.js";
import { randomToken, signJwt, verifyAccessToken } from "../tokens.js";
import type { RegisteredClient } from "./config.js";
import { nowSeconds, type RequestContext, type ServerContext, take } from "./context.js";
import { signIdToken } from "./id-token.js";
import type { AccessRecord, TokenFamily } from "./state.js";

/** What a grant asks {@link issueTokens} for. */
export interface GrantIssue {
  readonly scope: string;
  readonly nonce: string | undefined;
  /** `undefined`: issue a new one; `false`: none (client credentials); a string: keep it. */
  readonly refreshToken: string | undefined | false;
  readonly fromRefresh: boolean;
}

/** A live access token: its claims, its record and its family. */
export interface LiveAccessToken {
  readonly payload: Record<string, unknown>;
  readonly record: AccessRecord;
  readonly family: TokenFamily;
}

/** Starts a token family (one per grant). */
export function newFamily(
  context: ServerContext,
  clientId: string,
  sub: string,
  scope: string,
  authTime: number,
): TokenFamily {
  const family: TokenFamily = {
    id: randomToken(16),
    clientId,
    subject: sub,
    scope,
    authTime,
    revoked: false,
  };
  context.state.rememberFamily(family);
  return family;
}

/** Revokes a family and so every token issued from it. */
export function revokeFamily(context: ServerContext, familyId: string | undefined): void {
  const family = familyId === undefined ? undefined : context.state.families.get(familyId);
  if (family !== undefined) {
    family.revoked = true;
  }
}

/** Signs an RFC 9068 access token for `family` and remembers its `jti`. */
export async function signAccessToken(
  context: ServerContext,
  family: TokenFamily,
  client: RegisteredClient,
  scope: string,
  audience: string = client.clientId,
): Promise<string> {
  const { config, state } = context;
  const iat = nowSeconds(context);
  const jti = randomToken(16);
  state.rememberAccessToken(
    jti,
    { familyId: family.id, clientId: client.clientId, revoked: false },
    (iat + config.accessTokenTtl) * 1000,
  );
  // A family stays as long as tokens are issued from it.
  state.rememberFamily(family);
  return signJwt(
    context.keys.active,
    "at+jwt",
    accessTokenClaims({
      issuer: config.issuer,
      subject: family.subject,
      audience,
      clientId: client.clientId,
      scope,
      iat,
      ttlSeconds: config.accessTokenTtl,
      jti,
      userClaims: config.accessTokenUserClaims
        ? config.users.get(family.subject)?.claims
        : undefined,
    }),
  );
}

/** A successful token response, with the `token:*` response faults applied. */
export function tokenResponse(context: RequestContext, body: Record<string, unknown>): Response {
  if (take(context, "token:no-expires-in")) {
    delete body.expires_in;
  }
  if (take(context, "token:token-type-uppercase")) {
    body.token_type = "BEARER";
  }
  return json(200, body, NO_STORE);
}

/** Issues an access token, a refresh token unless told not to, and an ID token for `openid`. */
export async function issueTokens(
  context: RequestContext,
  client: RegisteredClient,
  family: TokenFamily,
  grant: GrantIssue,
): Promise<Response> {
  const accessToken = await signAccessToken(context, family, client, grant.scope);
  let refreshToken = grant.refreshToken;
  if (refreshToken === undefined) {
    refreshToken = randomToken(32);
    context.state.rememberRefreshToken(refreshToken, {
      familyId: family.id,
      clientId: client.clientId,
      consumed: false,
    });
  }
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: context.config.accessTokenTtl,
  };
  if (refreshToken !== false) {
    body.refresh_token = refreshToken;
  }
  if (grant.scope !== "") {
    body.scope = grant.scope;
  }
  if (scopeList(grant.scope).includes("openid")) {
    body.id_token = await signIdToken(context, client, family, grant.nonce, grant.fromRefresh);
  }
  return tokenResponse(context, body);
}

/** The access token behind a token string, when it is a valid, unexpired, unrevoked access token of this server. */
export async function liveAccessToken(
  context: ServerContext,
  token: string,
): Promise<LiveAccessToken | undefined> {
  const { config, state } = context;
  const payload = await verifyAccessToken(context.keys.all, token, {
    issuer: config.issuer,
    nowMs: config.now(),
  });
  const record = typeof payload?.jti === "string" ? state.accessTokens.get(payload.jti) : undefined;
  const family = record === undefined ? undefined : state.families.get(record.familyId);
  if (
    payload === undefined ||
    record === undefined ||
    family === undefined ||
    record.revoked ||
    family.revoked
  ) {
    return undefined;
  }
  return { payload, record, family };
}
