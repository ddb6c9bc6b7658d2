import { oauthError } from "../../http.js";
import { s256 } from "../../tokens.js";
import type { GrantContext } from "../client-auth.js";
import { VERIFIER_OR_CHALLENGE } from "../config.js";
import { issueTokens, newFamily, revokeFamily } from "../issue.js";

/** The authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636): single-use codes, a replay revokes what the code gave (S2). */
export async function authorizationCodeGrant(
  context: GrantContext,
  _request: Request,
): Promise<Response> {
  const { config, state, params, client } = context;
  const code = params.get("code");
  if (code === undefined) {
    return oauthError(400, "invalid_request", "code is required");
  }
  const record = state.codes.get(code);
  if (record === undefined || record.clientId !== client.clientId) {
    return oauthError(400, "invalid_grant", "unknown authorization code");
  }
  if (record.used) {
    revokeFamily(context, record.familyId);
    return oauthError(
      400,
      "invalid_grant",
      "authorization code already used; tokens issued from it are revoked",
    );
  }
  record.used = true;
  if (config.now() >= record.expiresAtMs) {
    return oauthError(400, "invalid_grant", "authorization code expired");
  }
  if (params.get("redirect_uri") !== record.redirectUri) {
    return oauthError(400, "invalid_grant", "redirect_uri differs from the authorization request");
  }
  const verifier = params.get("code_verifier");
  if (verifier === undefined) {
    return oauthError(400, "invalid_grant", "code_verifier is required (PKCE)");
  }
  const transformed = record.codeChallengeMethod === "plain" ? verifier : await s256(verifier);
  if (!VERIFIER_OR_CHALLENGE.test(verifier) || transformed !== record.codeChallenge) {
    return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
  }
  const family = newFamily(context, client.clientId, record.subject, record.scope, record.authTime);
  record.familyId = family.id;
  return issueTokens(context, client, family, {
    scope: record.scope,
    nonce: record.nonce,
    refreshToken: undefined,
    fromRefresh: false,
  });
}
