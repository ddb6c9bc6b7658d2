import { oauthError } from "../../http.js";
import type { GrantContext } from "../client-auth.js";
import { SCOPE_TOKEN } from "../config.js";
import { nowSeconds } from "../context.js";
import { newFamily, signAccessToken, tokenResponse } from "../issue.js";

/** The client credentials grant (RFC 6749 §4.4), for confidential clients: an access token, no refresh token. */
export async function clientCredentialsGrant(
  context: GrantContext,
  _request: Request,
): Promise<Response> {
  const { config, params, client } = context;
  if (client.method === "none") {
    return oauthError(400, "unauthorized_client", "client_credentials needs a confidential client");
  }
  const scope = params.get("scope") ?? "";
  if (scope !== "" && !scope.split(" ").every((token) => SCOPE_TOKEN.test(token))) {
    return oauthError(400, "invalid_scope", "scope is malformed");
  }
  const family = newFamily(context, client.clientId, client.clientId, scope, nowSeconds(context));
  const body: Record<string, unknown> = {
    access_token: await signAccessToken(context, family, client, scope),
    token_type: "Bearer",
    expires_in: config.accessTokenTtl,
    ...(scope === "" ? {} : { scope }),
  };
  return tokenResponse(context, body);
}
