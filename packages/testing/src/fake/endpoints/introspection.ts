/** The introspection endpoint (RFC 7662). */
import { json, NO_STORE, oauthError } from "../../http.js";
import { formWithClient } from "../client-auth.js";
import type { RequestContext } from "../context.js";
import { liveAccessToken } from "../issue.js";

/** Says whether a refresh or access token is active, and what it carries. */
export async function introspection(context: RequestContext, request: Request): Promise<Response> {
  const { config, state } = context;
  const form = await formWithClient(context, request);
  if (form instanceof Response) {
    return form;
  }
  const token = form.params.get("token");
  if (token === undefined) {
    return oauthError(400, "invalid_request", "token is required");
  }
  const refreshRecord = state.refreshTokens.get(token);
  const refreshFamily =
    refreshRecord === undefined ? undefined : state.families.get(refreshRecord.familyId);
  if (refreshRecord !== undefined && refreshFamily !== undefined) {
    const active = !refreshRecord.consumed && !refreshFamily.revoked;
    return json(
      200,
      active
        ? {
            active,
            token_type: "refresh_token",
            client_id: refreshRecord.clientId,
            sub: refreshFamily.subject,
            iss: config.issuer,
            ...(refreshFamily.scope === "" ? {} : { scope: refreshFamily.scope }),
          }
        : { active },
      NO_STORE,
    );
  }
  const live = await liveAccessToken(context, token);
  if (live === undefined) {
    return json(200, { active: false }, NO_STORE);
  }
  const { payload } = live;
  return json(
    200,
    {
      active: true,
      token_type: "Bearer",
      client_id: payload.client_id,
      sub: payload.sub,
      iss: payload.iss,
      aud: payload.aud,
      iat: payload.iat,
      exp: payload.exp,
      jti: payload.jti,
      ...(typeof payload.scope === "string" ? { scope: payload.scope } : {}),
    },
    NO_STORE,
  );
}
