/** The revocation endpoint (RFC 7009): a refresh token revokes its family, an access token itself. */
import { NO_STORE, oauthError } from "../../http.js";
import { formWithClient } from "../client-auth.js";
import type { RequestContext } from "../context.js";
import { liveAccessToken, revokeFamily } from "../issue.js";

/** Revokes a token of the authenticated client; unknown tokens are answered 200 too (RFC 7009 §2.2). */
export async function revocation(context: RequestContext, request: Request): Promise<Response> {
  const { state } = context;
  const form = await formWithClient(context, request);
  if (form instanceof Response) {
    return form;
  }
  const { params, client } = form;
  const token = params.get("token");
  if (token === undefined) {
    return oauthError(400, "invalid_request", "token is required");
  }
  const refreshRecord = state.refreshTokens.get(token);
  if (refreshRecord !== undefined) {
    if (refreshRecord.clientId !== client.clientId) {
      return oauthError(400, "invalid_request", "the token was issued to another client");
    }
    revokeFamily(context, refreshRecord.familyId);
    return new Response(null, { status: 200, headers: NO_STORE });
  }
  const live = await liveAccessToken(context, token);
  if (live !== undefined) {
    if (live.record.clientId !== client.clientId) {
      return oauthError(400, "invalid_request", "the token was issued to another client");
    }
    live.record.revoked = true;
  }
  return new Response(null, { status: 200, headers: NO_STORE });
}
