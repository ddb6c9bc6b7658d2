/** The authorization endpoint (RFC 6749 §4.1.1), with PAR request URIs (RFC 9126) and sessions. */
import { htmlError, type Params, parseParams } from "../../http.js";
import { redirectUriMatches, redirectUriNotRegisteredPage } from "../../redirect-uri.js";
import { approve, authorizationError, loginPage } from "../authorization-response.js";
import {
  REQUEST_URI_PREFIX,
  SCOPE_TOKEN,
  SESSION_COOKIE,
  VERIFIER_OR_CHALLENGE,
} from "../config.js";
import { nowSeconds, type RequestContext, type ServerContext } from "../context.js";
import type { AuthorizationRequest, Session } from "../state.js";

function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) {
      cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  return cookies;
}

function sessionOf(context: ServerContext, request: Request): Session | undefined {
  const { state } = context;
  const id = parseCookies(request.headers.get("cookie")).get(SESSION_COOKIE);
  return id === undefined ? undefined : state.sessions.get(id);
}

/** Validates an authorization request (from the query or from PAR); a `Response` is an error to send. */
function validateAuthorizationRequest(
  context: RequestContext,
  params: Params,
): AuthorizationRequest | Response {
  const { config } = context;
  const clientId = params.get("client_id");
  if (clientId === undefined || params.duplicates.includes("client_id")) {
    return htmlError("The request has no single client_id.");
  }
  const client = config.clients.get(clientId);
  if (client === undefined) {
    return htmlError("Unknown client_id.");
  }
  const redirectUri = params.get("redirect_uri");
  if (redirectUri === undefined || params.duplicates.includes("redirect_uri")) {
    return htmlError("The request has no single redirect_uri.");
  }
  if (!client.redirectUris.some((registered) => redirectUriMatches(registered, redirectUri))) {
    return redirectUriNotRegisteredPage(client.clientId, redirectUri, client.redirectUris);
  }
  const state = params.duplicates.includes("state") ? undefined : params.get("state");
  const target = { redirectUri, state };
  const fail = (error: string, description: string): Response =>
    authorizationError(context, target, error, description);

  if (params.duplicates.length > 0) {
    return fail("invalid_request", `repeated parameter: ${params.duplicates.join(", ")}`);
  }
  const responseType = params.get("response_type");
  if (responseType === undefined) {
    return fail("invalid_request", "response_type is required");
  }
  if (responseType !== "code") {
    return fail("unsupported_response_type", "only response_type=code is supported");
  }
  const responseMode = params.get("response_mode");
  if (responseMode !== undefined && responseMode !== "query") {
    return fail("invalid_request", "only response_mode=query is supported");
  }
  const codeChallenge = params.get("code_challenge");
  if (codeChallenge === undefined) {
    return fail("invalid_request", "code_challenge is required (PKCE)");
  }
  const method = params.get("code_challenge_method");
  if (method !== "S256" && !(config.allowPlain && method === "plain")) {
    return fail(
      "invalid_request",
      config.allowPlain
        ? "code_challenge_method must be S256 or plain"
        : "code_challenge_method must be S256",
    );
  }
  if (!VERIFIER_OR_CHALLENGE.test(codeChallenge)) {
    return fail("invalid_request", "code_challenge is malformed");
  }
  const scope = params.get("scope") ?? "";
  if (!scope.split(" ").every((token) => SCOPE_TOKEN.test(token)) && scope !== "") {
    return fail("invalid_scope", "scope is malformed");
  }
  const prompt = (params.get("prompt") ?? "").split(" ").filter((value) => value !== "");
  if (prompt.includes("none") && prompt.length > 1) {
    return fail("invalid_request", "prompt=none cannot be combined with other values");
  }
  const maxAgeText = params.get("max_age");
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) {
    return fail("invalid_request", "max_age must be a non-negative integer");
  }
  return {
    client,
    redirectUri,
    state,
    codeChallenge,
    codeChallengeMethod: method,
    scope,
    nonce: params.get("nonce"),
    loginHint: params.get("login_hint"),
    prompt,
    maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
  };
}

/** `GET /authorize`: approves at once, or shows the login page with `interactive`. */
export async function authorize(context: RequestContext, request: Request): Promise<Response> {
  const { config, state } = context;
  let params = parseParams(new URL(request.url).searchParams);
  context.log.params = params.raw;
  const requestUri = params.get("request_uri");
  if (requestUri !== undefined) {
    const pushed = requestUri.startsWith(REQUEST_URI_PREFIX)
      ? state.pushedRequests.get(requestUri)
      : undefined;
    state.pushedRequests.delete(requestUri);
    if (
      pushed === undefined ||
      pushed.clientId !== params.get("client_id") ||
      config.now() >= pushed.expiresAtMs
    ) {
      return htmlError("The request_uri is unknown, expired, used, or of another client.");
    }
    params = parseParams(pushed.params);
  }
  const pending = validateAuthorizationRequest(context, params);
  if (pending instanceof Response) {
    return pending;
  }
  if (config.requirePar && requestUri === undefined) {
    return authorizationError(
      context,
      pending,
      "invalid_request",
      "pushed authorization requests are required (RFC 9126)",
    );
  }
  if (pending.loginHint !== undefined && !config.users.has(pending.loginHint)) {
    return authorizationError(context, pending, "access_denied", "unknown user in login_hint");
  }
  if (!config.interactive) {
    return approve(context, pending, pending.loginHint ?? config.subject, nowSeconds(context));
  }
  const session = sessionOf(context, request);
  const fresh =
    session !== undefined &&
    (pending.maxAge === undefined || nowSeconds(context) - session.authTime <= pending.maxAge) &&
    (pending.loginHint === undefined || pending.loginHint === session.subject);
  if (pending.prompt.includes("none")) {
    return session !== undefined && fresh
      ? approve(context, pending, session.subject, session.authTime)
      : authorizationError(context, pending, "login_required", "no current login session");
  }
  if (session !== undefined && fresh && pending.prompt.length === 0) {
    return approve(context, pending, session.subject, session.authTime);
  }
  return loginPage(context, pending, undefined);
}
