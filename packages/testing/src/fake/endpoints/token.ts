/** The token endpoint (RFC 6749 §3.2): authenticates the client, then hands over to its grant. */
import { oauthError } from "../../http.js";
import { formWithClient, type Grant } from "../client-auth.js";
import { DEVICE_GRANT, TOKEN_EXCHANGE_GRANT } from "../config.js";
import type { RequestContext } from "../context.js";
import { authorizationCodeGrant } from "../grants/authorization-code.js";
import { clientCredentialsGrant } from "../grants/client-credentials.js";
import { deviceCodeGrant } from "../grants/device-code.js";
import { refreshTokenGrant } from "../grants/refresh-token.js";
import { tokenExchangeGrant } from "../grants/token-exchange.js";

/** The grants, by `grant_type`. */
const GRANTS: ReadonlyMap<string, Grant> = new Map<string, Grant>([
  ["authorization_code", authorizationCodeGrant],
  ["refresh_token", refreshTokenGrant],
  ["client_credentials", clientCredentialsGrant],
  [DEVICE_GRANT, deviceCodeGrant],
  [TOKEN_EXCHANGE_GRANT, tokenExchangeGrant],
]);

/** `POST /token`. */
export async function tokenEndpoint(context: RequestContext, request: Request): Promise<Response> {
  const form = await formWithClient(context, request);
  if (form instanceof Response) {
    return form;
  }
  const refusal = context.faults.tokenRefusal(context.log);
  if (refusal !== undefined) {
    return refusal;
  }
  const grantType = form.params.get("grant_type");
  if (grantType === undefined) {
    return oauthError(400, "invalid_request", "grant_type is required");
  }
  const grant = GRANTS.get(grantType);
  if (grant === undefined) {
    return oauthError(
      400,
      "unsupported_grant_type",
      `supported: ${context.config.metadata.grant_types_supported.join(", ")}`,
    );
  }
  return grant({ ...context, ...form }, request);
}
