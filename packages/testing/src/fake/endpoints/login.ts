/** `POST /login`: the answer to the interactive login page; starts a session. */
import { htmlError, parseParams } from "../../http.js";
import { randomToken } from "../../tokens.js";
import { approve, authorizationError, loginPage } from "../authorization-response.js";
import { SESSION_COOKIE } from "../config.js";
import { mediaType, nowSeconds, type RequestContext } from "../context.js";

/** Approves or denies the pending request of a login page. */
export async function loginSubmit(context: RequestContext, request: Request): Promise<Response> {
  const { config, state } = context;
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    return htmlError("The login form must be posted as application/x-www-form-urlencoded.");
  }
  const params = parseParams(new URLSearchParams(await request.text()));
  context.log.params = params.raw;
  const id = params.get("interaction") ?? "";
  const pending = state.interactions.get(id);
  state.interactions.delete(id);
  if (pending === undefined) {
    return htmlError("This login page has expired or was already used; start again.");
  }
  if (params.get("action") === "deny") {
    return authorizationError(context, pending, "access_denied", "the user denied the request");
  }
  const login = params.get("login") ?? "";
  if (!config.users.has(login)) {
    return loginPage(context, pending, `Unknown user "${login}".`);
  }
  const sessionId = randomToken(24);
  const authTime = nowSeconds(context);
  state.rememberSession(sessionId, { subject: login, authTime });
  const response = approve(context, pending, login, authTime);
  const secure = config.issuerUrl.protocol === "https:" ? "; Secure" : "";
  const headers = new Headers(response.headers);
  headers.append(
    "set-cookie",
    `${SESSION_COOKIE}=${sessionId}; Path=${config.issuerPath || "/"}; HttpOnly; SameSite=Lax${secure}`,
  );
  return new Response(null, { status: 303, headers });
}
