import { redirectUriMatches } from "./redirect-uri.js";
import {
  constantTimeEqual,
  createSigningKey,
  jwks,
  randomToken,
  type SigningKey,
  s256,
  signJwt,
  verifyAccessToken,
} from "./tokens.js";

/** How a client authenticates at the token endpoint (RFC 7591 §2 names). */
export type FakeTokenEndpointAuthMethod = "none" | "client_secret_basic" | "client_secret_post";

/** A client registered with the fake authorization server. */
export interface FakeClient {
  /** The `client_id`. */
  clientId: string;
  /** The secret of a confidential client; a client with a secret defaults to `client_secret_basic`. */
  clientSecret?: string;
  /**
   * Registered redirect URIs, compared exactly except for the port of `http` loopback URIs (S1).
   * Default: `http://127.0.0.1/callback`, `http://[::1]/callback`, `http://localhost/callback`.
   */
  redirectUris?: string[];
  /** Default: `client_secret_basic` when `clientSecret` is set, else `none`. */
  tokenEndpointAuthMethod?: FakeTokenEndpointAuthMethod;
}

/** Options of {@link createFakeAuthorizationServer}. */
export interface FakeAuthorizationServerOptions {
  /** The issuer identifier, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/tenant-a` (no trailing slash). */
  issuer: string;
  /** Registered clients. Default: {@link defaultFakeClient} alone. */
  clients?: FakeClient[];
  /** The subject every login is auto-approved as. Default `alice`. */
  subject?: string;
  /** Lifetime of access and ID tokens. Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Rotate refresh tokens on every use (S3). Default `true`. */
  refreshTokenRotation?: boolean;
  /** Lifetime of authorization codes, at most 600 (S2). Default 60. */
  codeTtlSeconds?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** The name under which a request is logged. */
export type FakeEndpoint = "discovery" | "authorize" | "token" | "jwks" | "userinfo" | "unknown";

/** One request the fake server answered. */
export interface FakeRequestLogEntry {
  readonly endpoint: FakeEndpoint;
  readonly method: string;
  /** The path of the request URL, without the query. */
  readonly path: string;
  /** The query for `GET`, the form body for `POST`; the first value when a name is repeated. */
  readonly params: Readonly<Record<string, string>>;
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The `grant_type` of a token request. */
  readonly grantType?: string;
  /** The status code of the response. */
  readonly status: number;
}

/** Selects log entries for {@link FakeAuthorizationServer.count}: fields to match, or a predicate. */
export type FakeRequestFilter =
  | Partial<Pick<FakeRequestLogEntry, "method" | "grantType" | "status">>
  | ((entry: FakeRequestLogEntry) => boolean);

/** Absolute URLs of the fake server's endpoints. */
export interface FakeEndpoints {
  /** RFC 8414 metadata: `/.well-known/oauth-authorization-server{issuer path}`. */
  readonly oauthMetadata: string;
  /** OpenID discovery: `{issuer}/.well-known/openid-configuration`. */
  readonly openidConfiguration: string;
  readonly authorization: string;
  readonly token: string;
  readonly jwks: string;
  readonly userinfo: string;
}

/** A fake authorization server: a Web fetch handler plus a request log. */
export interface FakeAuthorizationServer {
  /** The issuer identifier, exactly as published in the metadata and in `iss`. */
  readonly issuer: string;
  /** Absolute URLs of the endpoints. */
  readonly endpoints: FakeEndpoints;
  /** The `client_id`s registered. */
  readonly clientIds: readonly string[];
  /** The whole server as a fetch handler; needs no socket. Routing uses the path only. */
  readonly fetch: (request: Request) => Promise<Response>;
  /** Every request answered so far, oldest first (the same array, cleared by {@link clearRequests}). */
  readonly requests: readonly FakeRequestLogEntry[];
  /** Empties {@link requests}. */
  clearRequests(): void;
  /** How many logged requests went to `endpoint` and match `filter`. */
  count(endpoint: FakeEndpoint, filter?: FakeRequestFilter): number;
}

/** The client registered when no `clients` option is given: public, PKCE, loopback redirects. */
export const defaultFakeClient: Readonly<FakeClient> = Object.freeze({
  clientId: "latchkey",
  redirectUris: ["http://127.0.0.1/callback", "http://[::1]/callback", "http://localhost/callback"],
  tokenEndpointAuthMethod: "none",
});

const SCOPES_SUPPORTED = ["openid", "profile", "email", "offline_access"];
const MAX_CODE_TTL_SECONDS = 600;
const VERIFIER_OR_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUris: readonly string[];
  readonly method: FakeTokenEndpointAuthMethod;
}

interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly expiresAtMs: number;
  used: boolean;
  familyId: string | undefined;
}

/** Everything issued from one authorization code: revoked together (S2 replay, S3 reuse). */
interface TokenFamily {
  readonly id: string;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  readonly authTime: number;
  revoked: boolean;
}

interface RefreshRecord {
  readonly familyId: string;
  readonly clientId: string;
  consumed: boolean;
}

interface Params {
  /** First value of each name, empty ones included (for the log). */
  readonly raw: Record<string, string>;
  /** Names given more than once. */
  readonly duplicates: readonly string[];
  /** The value of a parameter; an empty value counts as absent (RFC 6749 §3.1). */
  get(name: string): string | undefined;
}

interface LogContext {
  params: Record<string, string>;
  grantType: string | undefined;
}

function parseParams(search: URLSearchParams): Params {
  const raw: Record<string, string> = {};
  const duplicates = new Set<string>();
  for (const [name, value] of search) {
    if (Object.hasOwn(raw, name)) {
      duplicates.add(name);
    } else {
      raw[name] = value;
    }
  }
  return {
    raw,
    duplicates: [...duplicates],
    get(name) {
      const value = Object.hasOwn(raw, name) ? raw[name] : undefined;
      return value === "" ? undefined : value;
    },
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** An error shown to the user instead of redirecting, for a client or redirect URI that cannot be trusted. */
function htmlError(description: string): Response {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>Authorization error</title></head><body><h1>Authorization error</h1><p>${escapeHtml(description)}</p></body></html>`;
  return new Response(body, {
    status: 400,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'",
      ...NO_STORE,
    },
  });
}

/** Appends parameters to a redirect URI without re-serialising it, so its existing query stays byte for byte. */
function appendQuery(uri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) {
      query.append(name, value);
    }
  }
  const separator = !uri.includes("?") ? "?" : uri.endsWith("?") || uri.endsWith("&") ? "" : "&";
  return `${uri}${separator}${query.toString()}`;
}

function redirect(location: string): Response {
  return new Response(null, { status: 302, headers: { location, ...NO_STORE } });
}

function validateIssuer(issuer: string): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`issuer is not an absolute URL: ${issuer}`);
  }
  const path = url.pathname === "/" ? "" : url.pathname;
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username !== "" ||
    url.password !== "" ||
    path.endsWith("/") ||
    issuer !== `${url.origin}${path}`
  ) {
    throw new TypeError(
      `issuer must be an http(s) URL without query, fragment, credentials or trailing slash, in normal form: ${issuer}`,
    );
  }
  return url;
}

function registerClients(clients: readonly FakeClient[]): Map<string, RegisteredClient> {
  const registered = new Map<string, RegisteredClient>();
  for (const client of clients) {
    if (client.clientId === "" || registered.has(client.clientId)) {
      throw new TypeError(`client_id must be non-empty and unique: "${client.clientId}"`);
    }
    const method =
      client.tokenEndpointAuthMethod ??
      (client.clientSecret === undefined ? "none" : "client_secret_basic");
    if ((method === "none") !== (client.clientSecret === undefined)) {
      throw new TypeError(
        `client "${client.clientId}": a secret goes with client_secret_basic or client_secret_post, no secret with none`,
      );
    }
    const redirectUris = client.redirectUris ?? defaultFakeClient.redirectUris ?? [];
    for (const uri of redirectUris) {
      if (!URL.canParse(uri) || uri.includes("#")) {
        throw new TypeError(
          `client "${client.clientId}": redirect URI must be absolute without fragment: ${uri}`,
        );
      }
    }
    registered.set(client.clientId, {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      redirectUris: [...redirectUris],
      method,
    });
  }
  return registered;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new RangeError(`${name} must be an integer between 1 and ${max}, got ${value}`);
  }
  return value;
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

/** `Basic` credentials per RFC 6749 §2.3.1: both halves are form-urlencoded before base64. */
function parseBasic(value: string): { id: string; secret: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(value);
  if (match?.[1] === undefined) {
    return undefined;
  }
  try {
    const bytes = Uint8Array.from(atob(match[1]), (character) => character.charCodeAt(0));
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      return undefined;
    }
    return {
      id: decodeFormComponent(decoded.slice(0, colon)),
      secret: decodeFormComponent(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

function scopeList(scope: string): string[] {
  return scope === "" ? [] : scope.split(" ");
}

function matchesFilter(entry: FakeRequestLogEntry, filter: FakeRequestFilter | undefined): boolean {
  if (filter === undefined) {
    return true;
  }
  if (typeof filter === "function") {
    return filter(entry);
  }
  return (
    (filter.method === undefined || filter.method === entry.method) &&
    (filter.grantType === undefined || filter.grantType === entry.grantType) &&
    (filter.status === undefined || filter.status === entry.status)
  );
}

/**
 * Creates a strict fake OAuth 2.0 / OpenID Connect authorization server as a Web fetch handler.
 *
 * Logins are auto-approved as `subject`. PKCE S256 is required, codes are single-use, redirect
 * URIs match exactly (loopback port excepted), refresh tokens rotate with reuse detection, and
 * tokens are ES256 JWTs verifiable with the published JWKS. Nothing listens on a socket: call
 * `server.fetch(request)`, or wrap it with `startFakeAuthorizationServer`.
 *
 * @param options - The issuer and optional behaviour; see {@link FakeAuthorizationServerOptions}.
 * @returns The server, its endpoints and its request log.
 * @throws TypeError / RangeError for an invalid issuer, client or lifetime.
 *
 * @example
 * ```ts
 * const server = await createFakeAuthorizationServer({ issuer: "https://as.example/tenant" });
 * const response = await server.fetch(new Request(server.endpoints.openidConfiguration));
 * (await response.json()).issuer; // "https://as.example/tenant"
 * ```
 */
export async function createFakeAuthorizationServer(
  options: FakeAuthorizationServerOptions,
): Promise<FakeAuthorizationServer> {
  const issuerUrl = validateIssuer(options.issuer);
  const issuer = options.issuer;
  const issuerPath = issuerUrl.pathname === "/" ? "" : issuerUrl.pathname;
  const clients = registerClients(options.clients ?? [defaultFakeClient]);
  const subject = options.subject ?? "alice";
  if (subject === "") {
    throw new TypeError("subject must not be empty");
  }
  const accessTokenTtl = positiveInteger(
    "accessTokenTtlSeconds",
    options.accessTokenTtlSeconds ?? 3600,
  );
  const codeTtl = positiveInteger(
    "codeTtlSeconds",
    options.codeTtlSeconds ?? 60,
    MAX_CODE_TTL_SECONDS,
  );
  const rotation = options.refreshTokenRotation ?? true;
  const now = options.now ?? Date.now;
  const key: SigningKey = await createSigningKey();

  const paths = {
    oauthMetadata: `/.well-known/oauth-authorization-server${issuerPath}`,
    openidConfiguration: `${issuerPath}/.well-known/openid-configuration`,
    authorization: `${issuerPath}/authorize`,
    token: `${issuerPath}/token`,
    jwks: `${issuerPath}/jwks`,
    userinfo: `${issuerPath}/userinfo`,
  } as const;
  const endpoints: FakeEndpoints = Object.freeze({
    oauthMetadata: `${issuerUrl.origin}${paths.oauthMetadata}`,
    openidConfiguration: `${issuerUrl.origin}${paths.openidConfiguration}`,
    authorization: `${issuerUrl.origin}${paths.authorization}`,
    token: `${issuerUrl.origin}${paths.token}`,
    jwks: `${issuerUrl.origin}${paths.jwks}`,
    userinfo: `${issuerUrl.origin}${paths.userinfo}`,
  });

  const metadata = {
    issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    userinfo_endpoint: endpoints.userinfo,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    authorization_response_iss_parameter_supported: true,
    scopes_supported: SCOPES_SUPPORTED,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "auth_time", "nonce"],
  };

  const codes = new Map<string, CodeRecord>();
  const families = new Map<string, TokenFamily>();
  const refreshTokens = new Map<string, RefreshRecord>();
  /** Access token `jti` → family, so revoking a family also kills its access tokens. */
  const accessTokens = new Map<string, string>();
  const requests: FakeRequestLogEntry[] = [];

  const nowSeconds = (): number => Math.floor(now() / 1000);

  function authorize(request: Request, context: LogContext): Response {
    const params = parseParams(new URL(request.url).searchParams);
    context.params = params.raw;
    const clientId = params.get("client_id");
    if (clientId === undefined || params.duplicates.includes("client_id")) {
      return htmlError("The request has no single client_id.");
    }
    const client = clients.get(clientId);
    if (client === undefined) {
      return htmlError("Unknown client_id.");
    }
    const redirectUri = params.get("redirect_uri");
    if (redirectUri === undefined || params.duplicates.includes("redirect_uri")) {
      return htmlError("The request has no single redirect_uri.");
    }
    if (!client.redirectUris.some((registered) => redirectUriMatches(registered, redirectUri))) {
      return htmlError("The redirect_uri is not registered for this client.");
    }

    const state = params.duplicates.includes("state") ? undefined : params.get("state");
    const fail = (error: string, description: string): Response =>
      redirect(
        appendQuery(redirectUri, { error, error_description: description, state, iss: issuer }),
      );

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
    if (method !== "S256") {
      return fail("invalid_request", "code_challenge_method must be S256");
    }
    if (!VERIFIER_OR_CHALLENGE.test(codeChallenge)) {
      return fail("invalid_request", "code_challenge is malformed");
    }
    const scope = params.get("scope") ?? "";
    if (!scope.split(" ").every((token) => SCOPE_TOKEN.test(token)) && scope !== "") {
      return fail("invalid_scope", "scope is malformed");
    }

    const code = randomToken(32);
    codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge,
      scope,
      nonce: params.get("nonce"),
      authTime: nowSeconds(),
      expiresAtMs: now() + codeTtl * 1000,
      used: false,
      familyId: undefined,
    });
    return redirect(appendQuery(redirectUri, { code, state, iss: issuer }));
  }

  function revokeFamily(familyId: string | undefined): void {
    const family = familyId === undefined ? undefined : families.get(familyId);
    if (family !== undefined) {
      family.revoked = true;
    }
  }

  async function authenticateClient(
    request: Request,
    params: Params,
  ): Promise<RegisteredClient | Response> {
    const header = request.headers.get("authorization");
    const basic = header === null ? undefined : parseBasic(header);
    const challenge: Record<string, string> =
      header === null ? {} : { "www-authenticate": 'Basic realm="latchkey-fake-idp"' };
    const invalidClient = (description: string): Response =>
      oauthError(401, "invalid_client", description, challenge);
    if (header !== null && basic === undefined) {
      return invalidClient("the Authorization header is not valid Basic client authentication");
    }
    const bodyId = params.get("client_id");
    const bodySecret = params.get("client_secret");
    if (basic !== undefined && bodySecret !== undefined) {
      return oauthError(400, "invalid_request", "more than one client authentication method");
    }
    if (basic !== undefined && bodyId !== undefined && bodyId !== basic.id) {
      return invalidClient("client_id differs from the authenticated client");
    }
    const clientId = basic?.id ?? bodyId;
    if (clientId === undefined) {
      return invalidClient("no client identification");
    }
    const client = clients.get(clientId);
    if (client === undefined) {
      return invalidClient("unknown client");
    }
    const secret = client.clientSecret ?? "";
    switch (client.method) {
      case "none":
        if (basic !== undefined || bodySecret !== undefined) {
          return invalidClient("this client is public and must not send credentials");
        }
        return client;
      case "client_secret_basic":
        if (basic === undefined || !constantTimeEqual(basic.secret, secret)) {
          return invalidClient("client_secret_basic authentication failed");
        }
        return client;
      case "client_secret_post":
        if (
          basic !== undefined ||
          bodySecret === undefined ||
          !constantTimeEqual(bodySecret, secret)
        ) {
          return invalidClient("client_secret_post authentication failed");
        }
        return client;
      default: {
        const unreachable: never = client.method;
        return invalidClient(`unsupported method ${String(unreachable)}`);
      }
    }
  }

  async function issueTokens(
    client: RegisteredClient,
    family: TokenFamily,
    grant: { scope: string; nonce: string | undefined; refreshToken: string | undefined },
  ): Promise<Response> {
    const iat = nowSeconds();
    const exp = iat + accessTokenTtl;
    const jti = randomToken(16);
    accessTokens.set(jti, family.id);
    const accessToken = await signJwt(key, "at+jwt", {
      iss: issuer,
      sub: family.subject,
      aud: client.clientId,
      client_id: client.clientId,
      ...(grant.scope === "" ? {} : { scope: grant.scope }),
      iat,
      exp,
      jti,
    });
    let refreshToken = grant.refreshToken;
    if (refreshToken === undefined) {
      refreshToken = randomToken(32);
      refreshTokens.set(refreshToken, {
        familyId: family.id,
        clientId: client.clientId,
        consumed: false,
      });
    }
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: accessTokenTtl,
      refresh_token: refreshToken,
    };
    if (grant.scope !== "") {
      body.scope = grant.scope;
    }
    if (scopeList(grant.scope).includes("openid")) {
      body.id_token = await signJwt(key, "JWT", {
        iss: issuer,
        sub: family.subject,
        aud: client.clientId,
        iat,
        exp,
        auth_time: family.authTime,
        ...(grant.nonce === undefined ? {} : { nonce: grant.nonce }),
      });
    }
    return json(200, body, NO_STORE);
  }

  async function authorizationCodeGrant(
    client: RegisteredClient,
    params: Params,
  ): Promise<Response> {
    const code = params.get("code");
    if (code === undefined) {
      return oauthError(400, "invalid_request", "code is required");
    }
    const record = codes.get(code);
    if (record === undefined || record.clientId !== client.clientId) {
      return oauthError(400, "invalid_grant", "unknown authorization code");
    }
    if (record.used) {
      revokeFamily(record.familyId);
      return oauthError(
        400,
        "invalid_grant",
        "authorization code already used; tokens issued from it are revoked",
      );
    }
    record.used = true;
    if (now() >= record.expiresAtMs) {
      return oauthError(400, "invalid_grant", "authorization code expired");
    }
    if (params.get("redirect_uri") !== record.redirectUri) {
      return oauthError(
        400,
        "invalid_grant",
        "redirect_uri differs from the authorization request",
      );
    }
    const verifier = params.get("code_verifier");
    if (verifier === undefined) {
      return oauthError(400, "invalid_grant", "code_verifier is required (PKCE)");
    }
    if (!VERIFIER_OR_CHALLENGE.test(verifier) || (await s256(verifier)) !== record.codeChallenge) {
      return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    const family: TokenFamily = {
      id: randomToken(16),
      clientId: client.clientId,
      subject,
      scope: record.scope,
      authTime: record.authTime,
      revoked: false,
    };
    families.set(family.id, family);
    record.familyId = family.id;
    return issueTokens(client, family, {
      scope: record.scope,
      nonce: record.nonce,
      refreshToken: undefined,
    });
  }

  async function refreshTokenGrant(client: RegisteredClient, params: Params): Promise<Response> {
    const token = params.get("refresh_token");
    if (token === undefined) {
      return oauthError(400, "invalid_request", "refresh_token is required");
    }
    const record = refreshTokens.get(token);
    const family = record === undefined ? undefined : families.get(record.familyId);
    if (record === undefined || family === undefined || record.clientId !== client.clientId) {
      return oauthError(400, "invalid_grant", "unknown refresh token");
    }
    if (family.revoked) {
      return oauthError(400, "invalid_grant", "refresh token revoked");
    }
    if (record.consumed) {
      family.revoked = true;
      return oauthError(
        400,
        "invalid_grant",
        "refresh token already used; the token family is revoked",
      );
    }
    const requested = params.get("scope");
    const granted = scopeList(family.scope);
    if (
      requested !== undefined &&
      !scopeList(requested).every((scope) => granted.includes(scope))
    ) {
      return oauthError(400, "invalid_scope", "scope exceeds the original grant");
    }
    if (rotation) {
      record.consumed = true;
    }
    return issueTokens(client, family, {
      scope: requested ?? family.scope,
      nonce: undefined,
      refreshToken: rotation ? undefined : token,
    });
  }

  async function tokenEndpoint(request: Request, context: LogContext): Promise<Response> {
    const body = await request.text();
    const params = parseParams(new URLSearchParams(body));
    context.params = params.raw;
    context.grantType = params.raw.grant_type;
    const mediaType = (request.headers.get("content-type") ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase();
    if (mediaType !== "application/x-www-form-urlencoded") {
      return oauthError(
        400,
        "invalid_request",
        "the body must be application/x-www-form-urlencoded",
      );
    }
    if (params.duplicates.length > 0) {
      return oauthError(
        400,
        "invalid_request",
        `repeated parameter: ${params.duplicates.join(", ")}`,
      );
    }
    const client = await authenticateClient(request, params);
    if (client instanceof Response) {
      return client;
    }
    const grantType = params.get("grant_type");
    switch (grantType) {
      case undefined:
        return oauthError(400, "invalid_request", "grant_type is required");
      case "authorization_code":
        return authorizationCodeGrant(client, params);
      case "refresh_token":
        return refreshTokenGrant(client, params);
      default:
        return oauthError(
          400,
          "unsupported_grant_type",
          "supported: authorization_code, refresh_token",
        );
    }
  }

  async function userinfo(request: Request): Promise<Response> {
    const header = request.headers.get("authorization");
    const realm = 'Bearer realm="latchkey-fake-idp"';
    if (header === null) {
      return json(401, { error: "invalid_request" }, { ...NO_STORE, "www-authenticate": realm });
    }
    const invalid = json(
      401,
      { error: "invalid_token" },
      {
        ...NO_STORE,
        "www-authenticate": `${realm}, error="invalid_token"`,
      },
    );
    const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (match?.[1] === undefined) {
      return invalid;
    }
    const payload = await verifyAccessToken(key, match[1], { issuer, nowMs: now() });
    const familyId = typeof payload?.jti === "string" ? accessTokens.get(payload.jti) : undefined;
    const family = familyId === undefined ? undefined : families.get(familyId);
    if (payload === undefined || family === undefined || family.revoked) {
      return invalid;
    }
    if (typeof payload.scope !== "string" || !scopeList(payload.scope).includes("openid")) {
      return json(
        403,
        { error: "insufficient_scope" },
        {
          ...NO_STORE,
          "www-authenticate": `${realm}, error="insufficient_scope", scope="openid"`,
        },
      );
    }
    return json(200, { sub: family.subject }, NO_STORE);
  }

  function route(path: string): { endpoint: FakeEndpoint; methods: readonly string[] } {
    switch (path) {
      case paths.oauthMetadata:
      case paths.openidConfiguration:
        return { endpoint: "discovery", methods: ["GET"] };
      case paths.authorization:
        return { endpoint: "authorize", methods: ["GET"] };
      case paths.token:
        return { endpoint: "token", methods: ["POST"] };
      case paths.jwks:
        return { endpoint: "jwks", methods: ["GET"] };
      case paths.userinfo:
        return { endpoint: "userinfo", methods: ["GET", "POST"] };
      default:
        return { endpoint: "unknown", methods: [] };
    }
  }

  async function dispatch(
    request: Request,
    endpoint: FakeEndpoint,
    context: LogContext,
  ): Promise<Response> {
    switch (endpoint) {
      case "discovery":
        return json(200, metadata);
      case "authorize":
        return authorize(request, context);
      case "token":
        return tokenEndpoint(request, context);
      case "jwks":
        return json(200, jwks(key));
      case "userinfo":
        return userinfo(request);
      case "unknown":
        return json(404, { error: "not_found", error_description: "no such endpoint" });
      default: {
        const unreachable: never = endpoint;
        throw new Error(`unrouted endpoint ${String(unreachable)}`);
      }
    }
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { endpoint, methods } = route(url.pathname);
    const context: LogContext = {
      params: request.method === "GET" ? parseParams(url.searchParams).raw : {},
      grantType: undefined,
    };
    let response: Response;
    if (endpoint !== "unknown" && !methods.includes(request.method)) {
      response = json(
        405,
        { error: "method_not_allowed", error_description: `use ${methods.join(" or ")}` },
        { allow: methods.join(", ") },
      );
    } else {
      try {
        response = await dispatch(request, endpoint, context);
      } catch (error) {
        response = json(500, { error: "server_error", error_description: String(error) }, NO_STORE);
      }
    }
    requests.push(
      Object.freeze({
        endpoint,
        method: request.method,
        path: url.pathname,
        params: Object.freeze(context.params),
        headers: Object.freeze(Object.fromEntries(request.headers)),
        ...(context.grantType === undefined ? {} : { grantType: context.grantType }),
        status: response.status,
      }),
    );
    return response;
  }

  return {
    issuer,
    endpoints,
    clientIds: Object.freeze([...clients.keys()]),
    fetch: handle,
    requests,
    clearRequests(): void {
      requests.length = 0;
    },
    count(endpoint: FakeEndpoint, filter?: FakeRequestFilter): number {
      return requests.filter((entry) => entry.endpoint === endpoint && matchesFilter(entry, filter))
        .length;
    },
  };
}
