/** The pushed authorization request endpoint (RFC 9126). */
import { json, NO_STORE, oauthError } from "../../http.js";
import { redirectUriMatches } from "../../redirect-uri.js";
import { randomToken } from "../../tokens.js";
import { formWithClient } from "../client-auth.js";
import { PAR_TTL_SECONDS, REQUEST_URI_PREFIX } from "../config.js";
import type { RequestContext } from "../context.js";

/** Stores the pushed parameters of the authenticated client under a one-time `request_uri`. */
export async function pushedAuthorizationRequest(
  context: RequestContext,
  request: Request,
): Promise<Response> {
  const { config, state } = context;
  const form = await formWithClient(context, request);
  if (form instanceof Response) {
    return form;
  }
  const { params, client } = form;
  if (params.get("request_uri") !== undefined) {
    return oauthError(400, "invalid_request", "request_uri must not be pushed");
  }
  const redirectUri = params.get("redirect_uri");
  if (
    redirectUri === undefined ||
    !client.redirectUris.some((registered) => redirectUriMatches(registered, redirectUri))
  ) {
    return oauthError(
      400,
      "invalid_request",
      `redirect_uri is missing or not registered; registered: ${client.redirectUris.join(" ")}`,
    );
  }
  const stored = new URLSearchParams();
  for (const [name, value] of Object.entries(params.raw)) {
    if (name !== "client_secret") {
      stored.append(name, value);
    }
  }
  stored.set("client_id", client.clientId);
  const requestUri = `${REQUEST_URI_PREFIX}${randomToken(24)}`;
  state.rememberPushedRequest(requestUri, {
    clientId: client.clientId,
    params: stored,
    expiresAtMs: config.now() + PAR_TTL_SECONDS * 1000,
  });
  return json(201, { request_uri: requestUri, expires_in: PAR_TTL_SECONDS }, NO_STORE);
}
