/** The authorization response (a redirect to the client, S15, S17) and the login page. */
import { appendQuery, escapeHtml, htmlPage, redirect } from "../http.js";
import { randomToken } from "../tokens.js";
import { type RequestContext, take } from "./context.js";
import type { AuthorizationRequest } from "./state.js";

/** Builds the redirect of an authorization response, applying the response faults (S15, S17). */
export function authorizationRedirect(
  context: RequestContext,
  redirectUri: string,
  state: string | undefined,
  params: Record<string, string | undefined>,
): Response {
  const { config } = context;
  let sentState = state;
  if (take(context, "authorize:state-missing")) {
    sentState = undefined;
  } else if (take(context, "authorize:state-wrong")) {
    sentState = state === undefined ? "wrong-state" : `${state}-wrong`;
  }
  let iss: string | undefined = config.issuer;
  if (take(context, "authorize:iss-missing")) {
    iss = undefined;
  } else if (take(context, "authorize:iss-wrong")) {
    iss = config.wrongIssuer;
  }
  return redirect(appendQuery(redirectUri, { ...params, state: sentState, iss }));
}

/** An error authorization response, redirected to the client. */
export function authorizationError(
  context: RequestContext,
  pending: Pick<AuthorizationRequest, "redirectUri" | "state">,
  error: string,
  description: string,
): Response {
  return authorizationRedirect(context, pending.redirectUri, pending.state, {
    error,
    error_description: description,
  });
}

/** Issues a code for an approved request and redirects to the client. */
export function approve(
  context: RequestContext,
  pending: AuthorizationRequest,
  sub: string,
  authTime: number,
): Response {
  const { config, state } = context;
  if (take(context, "authorize:access-denied")) {
    return authorizationError(context, pending, "access_denied", "the user denied the request");
  }
  const code = randomToken(32);
  state.rememberCode(code, {
    clientId: pending.client.clientId,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    codeChallengeMethod: pending.codeChallengeMethod,
    scope: pending.scope,
    nonce: pending.nonce,
    subject: sub,
    authTime,
    expiresAtMs: config.now() + config.codeTtl * 1000,
    used: false,
    familyId: undefined,
  });
  return authorizationRedirect(context, pending.redirectUri, pending.state, { code });
}

/** The interactive login and consent page; remembers `pending` until it is answered. */
export function loginPage(
  context: RequestContext,
  pending: AuthorizationRequest,
  message: string | undefined,
): Response {
  const { config, state } = context;
  const id = randomToken(16);
  state.rememberInteraction(id, pending);
  const hint = pending.loginHint ?? config.subject;
  const error = message === undefined ? "" : `<p role="alert">${escapeHtml(message)}</p>`;
  const body = `${error}<p>${escapeHtml(pending.client.clientId)} asks for: ${escapeHtml(pending.scope || "(no scope)")}</p>
<form method="post" action="${escapeHtml(config.paths.login)}">
<input type="hidden" name="interaction" value="${id}">
<label>User <input name="login" value="${escapeHtml(hint)}" autocomplete="username"></label>
<button type="submit" name="action" value="approve">Sign in and allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`;
  return htmlPage(
    message === undefined ? 200 : 401,
    "Sign in to the fake authorization server",
    body,
  );
}
