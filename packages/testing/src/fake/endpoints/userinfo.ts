/** The UserInfo endpoint (OpenID Connect Core §5.3). */
import { json, NO_STORE, scopeList } from "../../http.js";
import { type RequestContext, take, userClaims } from "../context.js";
import { liveAccessToken } from "../issue.js";

/** The claims of the user behind a Bearer access token with `openid`. */
export async function userinfo(context: RequestContext, request: Request): Promise<Response> {
  const header = request.headers.get("authorization");
  const realm = 'Bearer realm="latchkey-fake-idp"';
  if (header === null) {
    return json(401, { error: "invalid_request" }, { ...NO_STORE, "www-authenticate": realm });
  }
  const invalid = json(
    401,
    { error: "invalid_token" },
    { ...NO_STORE, "www-authenticate": `${realm}, error="invalid_token"` },
  );
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (match?.[1] === undefined) {
    return invalid;
  }
  const live = await liveAccessToken(context, match[1]);
  if (live === undefined) {
    return invalid;
  }
  if (typeof live.payload.scope !== "string" || !scopeList(live.payload.scope).includes("openid")) {
    return json(
      403,
      { error: "insufficient_scope" },
      { ...NO_STORE, "www-authenticate": `${realm}, error="insufficient_scope", scope="openid"` },
    );
  }
  const sub = take(context, "userinfo:sub-mismatch")
    ? `${live.family.subject}-other`
    : live.family.subject;
  return json(200, { ...userClaims(context, live.family.subject), sub }, NO_STORE);
}
