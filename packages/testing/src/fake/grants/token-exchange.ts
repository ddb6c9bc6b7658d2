import { oauthError, scopeList } from "../../http.js";
import type { GrantContext } from "../client-auth.js";
import { ACCESS_TOKEN_TYPE } from "../config.js";
import { liveAccessToken, signAccessToken, tokenResponse } from "../issue.js";

/** Token exchange (RFC 8693) of an access token of this server for another, for an audience or resource. */
export async function tokenExchangeGrant(
  context: GrantContext,
  _request: Request,
): Promise<Response> {
  const { config, params, client } = context;
  const subjectToken = params.get("subject_token");
  const subjectTokenType = params.get("subject_token_type");
  if (subjectToken === undefined || subjectTokenType === undefined) {
    return oauthError(400, "invalid_request", "subject_token and subject_token_type are required");
  }
  if (subjectTokenType !== ACCESS_TOKEN_TYPE) {
    return oauthError(400, "invalid_request", `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const requestedType = params.get("requested_token_type");
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    return oauthError(400, "invalid_request", `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (params.get("actor_token") !== undefined) {
    return oauthError(400, "invalid_request", "actor_token (delegation) is not supported");
  }
  const live = await liveAccessToken(context, subjectToken);
  if (live === undefined) {
    return oauthError(
      400,
      "invalid_grant",
      "subject_token is not a valid access token of this server",
    );
  }
  const granted = scopeList(typeof live.payload.scope === "string" ? live.payload.scope : "");
  const requested = params.get("scope");
  if (requested !== undefined && !scopeList(requested).every((scope) => granted.includes(scope))) {
    return oauthError(400, "invalid_scope", "scope exceeds the subject token's scope");
  }
  const scope = requested ?? granted.join(" ");
  const audience = params.get("audience") ?? params.get("resource") ?? client.clientId;
  const body: Record<string, unknown> = {
    access_token: await signAccessToken(context, live.family, client, scope, audience),
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: "Bearer",
    expires_in: config.accessTokenTtl,
    ...(scope === "" ? {} : { scope }),
  };
  return tokenResponse(context, body);
}
