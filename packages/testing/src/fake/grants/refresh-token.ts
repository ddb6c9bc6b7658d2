import { oauthError, scopeList } from "../../http.js";
import type { GrantContext } from "../client-auth.js";
import { issueTokens } from "../issue.js";

/** The refresh token grant (RFC 6749 §6): rotation with reuse detection (S3), scope narrowing only. */
export async function refreshTokenGrant(
  context: GrantContext,
  _request: Request,
): Promise<Response> {
  const { config, state, params, client } = context;
  const token = params.get("refresh_token");
  if (token === undefined) {
    return oauthError(400, "invalid_request", "refresh_token is required");
  }
  const record = state.refreshTokens.get(token);
  const family = record === undefined ? undefined : state.families.get(record.familyId);
  if (record === undefined || family === undefined || record.clientId !== client.clientId) {
    return oauthError(400, "invalid_grant", "unknown refresh token");
  }
  if (family.revoked) {
    return oauthError(400, "invalid_grant", "refresh token revoked");
  }
  if (record.consumed) {
    family.revoked = true;
    return oauthError(
      400,
      "invalid_grant",
      "refresh token already used; the token family is revoked",
    );
  }
  const requested = params.get("scope");
  const granted = scopeList(family.scope);
  if (requested !== undefined && !scopeList(requested).every((scope) => granted.includes(scope))) {
    return oauthError(400, "invalid_scope", "scope exceeds the original grant");
  }
  if (config.rotation) {
    record.consumed = true;
  }
  return issueTokens(context, client, family, {
    scope: requested ?? family.scope,
    nonce: undefined,
    refreshToken: config.rotation ? undefined : token,
    fromRefresh: true,
  });
}
