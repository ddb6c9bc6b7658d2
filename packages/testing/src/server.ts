import { accessTokenClaims } from "./access-token-jwt.js";
import {
  type FakeEndpoint,
  type FakeFaultName,
  type FakeFaultSpec,
  type FakeHttpFaultKind,
  isFakeFaultName,
  UNTRUSTED_AUDIENCE,
  WRONG_ISSUER_SUFFIX,
} from "./faults.js";
import {
  appendQuery,
  escapeHtml,
  htmlError,
  htmlPage,
  json,
  NO_STORE,
  oauthError,
  type Params,
  parseBasic,
  parseParams,
  positiveInteger,
  redirect,
  scopeList,
  validateIssuer,
} from "./http.js";
import {
  type FakeIssueTokensOptions,
  type FakeTokenResponse,
  issueTokensRequest,
} from "./issue-tokens.js";
import { redirectUriMatches, redirectUriNotRegisteredPage } from "./redirect-uri.js";
import {
  constantTimeEqual,
  corruptSignature,
  createSigningKey,
  type FakeSigningAlg,
  hs256Jwt,
  jwks,
  randomToken,
  type SigningKey,
  s256,
  signJwt,
  unsecuredJwt,
  verifyAccessToken,
} from "./tokens.js";

export type { FakeEndpoint } from "./faults.js";
export type { FakeSigningAlg } from "./tokens.js";

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

/** A user of the fake server, keyed by its subject in {@link FakeAuthorizationServerOptions.users}. */
export interface FakeUser {
  /** Extra claims for the ID token and UserInfo, e.g. `{ email: "alice@example.com" }`. `sub` cannot be overridden. */
  claims?: Record<string, unknown>;
}

/** Options of {@link createFakeAuthorizationServer}. */
export interface FakeAuthorizationServerOptions {
  /** The issuer identifier, e.g. `http://127.0.0.1:8080` or `http://127.0.0.1:8080/tenant-a` (no trailing slash). */
  issuer: string;
  /** Registered clients. Default: {@link defaultFakeClient} alone. */
  clients?: FakeClient[];
  /** The subject logins are approved as when no `login_hint` picks another user. Default: the first of `users`, else `alice`. */
  subject?: string;
  /** Users by subject, with their claims. `login_hint` selects one. Default: `subject` alone, without claims. */
  users?: Record<string, FakeUser>;
  /** Lifetime of access tokens (`expires_in`). Default 3600. */
  accessTokenTtlSeconds?: number;
  /**
   * Put the user's `claims` (from `users`) in access tokens too, next to the RFC 9068 claims
   * (which win over a user's claim of the same name). Default `false`.
   */
  accessTokenUserClaims?: boolean;
  /** Lifetime of ID tokens. Default: `accessTokenTtlSeconds`. */
  idTokenTtlSeconds?: number;
  /** Rotate refresh tokens on every use (S3). Default `true`. */
  refreshTokenRotation?: boolean;
  /** Lifetime of authorization codes, at most 600 (S2). Default 60. */
  codeTtlSeconds?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The JWS algorithm of the signing key. Default `ES256` (no RSA key generation at startup). */
  signingAlg?: FakeSigningAlg;
  /** Accept `code_challenge_method=plain` too. Default `false` (S256 only). */
  allowPlainPkce?: boolean;
  /** Faults switched on from the start; see `fakeFaultCatalogue`. */
  faults?: readonly (FakeFaultName | FakeFaultSpec)[];
  /**
   * Show a real HTML login and consent page at the authorization endpoint instead of approving at
   * once; a session cookie then remembers the login (`prompt`, `max_age` honoured). Default `false`.
   */
  interactive?: boolean;
  /** Approve every device authorization as soon as it is created. Default `false`. */
  deviceAutoApprove?: boolean;
  /** The device-flow polling interval (RFC 8628 `interval`). Default 5. */
  deviceIntervalSeconds?: number;
  /** Lifetime of device codes (`expires_in`). Default 600. */
  deviceCodeTtlSeconds?: number;
  /** Reject authorization requests that were not pushed first (RFC 9126 §5). Default `false`. */
  requirePushedAuthorizationRequests?: boolean;
  /** Answer CORS preflights and add CORS headers on the endpoints a browser client calls. Default `true`. */
  cors?: boolean;
}

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
  /** The status code of the response; 0 when the connection was dropped by a fault. */
  readonly status: number;
  /** The faults that fired while answering, in order. */
  readonly faults?: readonly FakeFaultName[];
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
  /** RFC 8628 device authorization endpoint. */
  readonly deviceAuthorization: string;
  /** The device verification page (`verification_uri`). */
  readonly deviceVerification: string;
  /** RFC 7009 revocation endpoint. */
  readonly revocation: string;
  /** RFC 7662 introspection endpoint. */
  readonly introspection: string;
  /** RFC 9126 pushed authorization request endpoint. */
  readonly pushedAuthorizationRequest: string;
}

/** What a middleware learns about the request besides the `Request` itself. */
export interface FakeMiddlewareInfo {
  /** The endpoint the request is routed to. */
  readonly endpoint: FakeEndpoint;
}

/**
 * A per-request hook: sees every request before the server, may answer it itself, or call `next()`
 * and inspect or replace the server's response. Read the body from `request.clone()`.
 */
export type FakeMiddleware = (
  request: Request,
  next: () => Promise<Response>,
  info: FakeMiddlewareInfo,
) => Response | Promise<Response>;

/** A one-shot answer for {@link FakeAuthorizationServer.once}: a response, or a function making one. */
export type FakeOverride = Response | ((request: Request) => Response | Promise<Response>);

/** Options of {@link FakeAuthorizationServer.rotateKeys}. */
export interface FakeRotateKeysOptions {
  /** Keep publishing the previous keys in the JWKS. Default `true`. */
  keepPrevious?: boolean;
}

/**
 * The `init` of {@link FakeAuthorizationServer.fetch}: a `RequestInit` whose fields may also be
 * `undefined`, as oauth4webapi and openid-client pass them (so it fits their `customFetch` under
 * `exactOptionalPropertyTypes`).
 */
export type FakeFetchInit = {
  [K in Exclude<keyof RequestInit, "body">]?: RequestInit[K] | undefined;
} & { body?: RequestInit["body"] | ArrayBufferView | undefined };

/** A fake authorization server: a Web fetch handler, a request log and controls for tests. */
export interface FakeAuthorizationServer {
  /** The issuer identifier, exactly as published in the metadata and in `iss`. */
  readonly issuer: string;
  /** Absolute URLs of the endpoints. */
  readonly endpoints: FakeEndpoints;
  /** The `client_id`s registered. */
  readonly clientIds: readonly string[];
  /**
   * The whole server as a drop-in `fetch` (assignable to `typeof fetch`, oauth4webapi's and
   * openid-client's `customFetch`): needs no socket. `input` and `init` make a `Request` as
   * `fetch` does (an absolute URL); routing uses the path only.
   */
  readonly fetch: (input: string | URL | Request, init?: FakeFetchInit) => Promise<Response>;
  /** Every request answered so far, oldest first (the same array, cleared by {@link clearRequests}). */
  readonly requests: readonly FakeRequestLogEntry[];
  /** Empties {@link requests}. */
  clearRequests(): void;
  /** How many logged requests went to `endpoint` and match `filter`. */
  count(endpoint: FakeEndpoint, filter?: FakeRequestFilter): number;
  /** Adds a per-request hook (outermost last added); returns a function that removes it. */
  use(middleware: FakeMiddleware): () => void;
  /** Answers the next request to `endpoint` with `override` instead (queued, first in first out). */
  once(endpoint: FakeEndpoint, override: FakeOverride): void;
  /**
   * Switches a fault on (see `fakeFaultCatalogue`), for `times` uses or until cleared.
   * @throws TypeError for an unknown fault name or a bad `times`, `delayMs` or `status`.
   */
  setFault(fault: FakeFaultName | FakeFaultSpec, scope?: Omit<FakeFaultSpec, "name">): void;
  /** Switches off every fault, or those named `name`. */
  clearFaults(name?: FakeFaultName): void;
  /** The faults still on, with the uses left in `times` (absent: until cleared). */
  activeFaults(): readonly FakeFaultSpec[];
  /** Clears faults, hooks, pending overrides and the request log; issued tokens stay valid. */
  reset(): void;
  /** Creates a new signing key and signs with it from now on; returns its `kid`. */
  rotateKeys(options?: FakeRotateKeysOptions): Promise<string>;
  /**
   * Mints tokens directly, as if `clientId` had logged `subject` in with `scope`: the server then
   * accepts them like any it issued (UserInfo, introspection, refresh, revocation). No request is
   * logged and no fault fires.
   * @throws TypeError for an unknown client or subject, or a malformed scope.
   */
  issueTokens(options?: FakeIssueTokensOptions): Promise<FakeTokenResponse>;
  /** Approves a pending device authorization, as the user on the verification page would. */
  approveDevice(userCode: string, options?: { subject?: string }): void;
  /** Denies a pending device authorization. */
  denyDevice(userCode: string): void;
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
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:";
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
const SESSION_COOKIE = "latchkey_fake_idp_session";
const PAR_TTL_SECONDS = 60;
const CORS_ENDPOINTS: ReadonlySet<FakeEndpoint> = new Set<FakeEndpoint>([
  "discovery",
  "token",
  "jwks",
  "userinfo",
  "revocation",
  "introspection",
  "device_authorization",
  "par",
]);
const HTTP_FAULT_KINDS: readonly FakeHttpFaultKind[] = [
  "5xx",
  "drop",
  "malformed-json",
  "html-error",
];
const DROPPED = Symbol.for("latchkey.fake-idp.dropped-connection");

/** Whether `error` is what the in-memory `fetch` throws for a `*:drop` fault (the listener then destroys the socket). */
export function isDroppedConnection(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    typeof error.cause === "object" &&
    error.cause !== null &&
    DROPPED in error.cause
  );
}

interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUris: readonly string[];
  readonly method: FakeTokenEndpointAuthMethod;
}

/** A validated authorization request, waiting for approval. */
interface AuthorizationRequest {
  readonly client: RegisteredClient;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256" | "plain";
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly loginHint: string | undefined;
  readonly prompt: readonly string[];
  readonly maxAge: number | undefined;
}

interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256" | "plain";
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly subject: string;
  readonly authTime: number;
  readonly expiresAtMs: number;
  used: boolean;
  familyId: string | undefined;
}

/** Everything issued from one grant: revoked together (S2 replay, S3 reuse, revocation). */
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

interface AccessRecord {
  readonly familyId: string;
  readonly clientId: string;
  revoked: boolean;
}

interface DeviceRecord {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAtMs: number;
  intervalSeconds: number;
  lastPollMs: number | undefined;
  status: "pending" | "approved" | "denied" | "used";
  subject: string | undefined;
  authTime: number;
}

interface PushedRequest {
  readonly clientId: string;
  readonly params: URLSearchParams;
  readonly expiresAtMs: number;
}

interface Session {
  readonly subject: string;
  readonly authTime: number;
}

interface ActiveFault {
  readonly spec: FakeFaultSpec;
  remaining: number;
}

interface LogContext {
  params: Record<string, string>;
  grantType: string | undefined;
  readonly faults: FakeFaultName[];
  /** Set for tokens minted by `issueTokens`: no fault fires. */
  readonly noFaults?: boolean;
}

type IdTokenPayload = Record<string, unknown>;

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

function normalizeFault(
  fault: FakeFaultName | FakeFaultSpec,
  scope: Omit<FakeFaultSpec, "name"> = {},
): FakeFaultSpec {
  const spec: FakeFaultSpec =
    typeof fault === "string" ? { name: fault, ...scope } : { ...fault, ...scope };
  if (!isFakeFaultName(spec.name)) {
    throw new TypeError(`unknown fault: ${String(spec.name)}`);
  }
  if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
    throw new TypeError(`fault ${spec.name}: times must be a positive integer`);
  }
  if (spec.delayMs !== undefined && (!Number.isFinite(spec.delayMs) || spec.delayMs < 0)) {
    throw new TypeError(`fault ${spec.name}: delayMs must be a non-negative number`);
  }
  if (
    spec.status !== undefined &&
    (!Number.isInteger(spec.status) || spec.status < 500 || spec.status > 599)
  ) {
    throw new TypeError(`fault ${spec.name}: status must be 500–599`);
  }
  return spec;
}

function randomUserCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const letters = [...bytes].map((byte) => USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length]);
  return `${letters.slice(0, 4).join("")}-${letters.slice(4).join("")}`;
}

/** User codes compare case-insensitively, ignoring dashes and spaces (RFC 8628 §6.1). */
function normalizeUserCode(userCode: string): string {
  return userCode.toUpperCase().replace(/[-\s]/g, "");
}

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

function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Creates a strict fake OAuth 2.0 / OpenID Connect authorization server as a Web fetch handler.
 *
 * Logins are auto-approved (or shown a real login page with `interactive`). PKCE S256 is required,
 * codes are single-use, redirect URIs match exactly (loopback port excepted), refresh tokens rotate
 * with reuse detection, and tokens are JWTs (ES256 by default, RS256 on request) verifiable with
 * the published JWKS. Grants: authorization code, refresh token, client credentials, device code,
 * token exchange; plus revocation, introspection and PAR. Faults, hooks and one-shot overrides
 * make it misbehave on purpose. Nothing listens on a socket: call `server.fetch(request)`, or wrap
 * it with `startFakeAuthorizationServer`.
 *
 * @param options - The issuer and optional behaviour; see {@link FakeAuthorizationServerOptions}.
 * @returns The server, its endpoints, its request log and its controls.
 * @throws TypeError / RangeError for an invalid issuer, client, user, fault or lifetime.
 *
 * @example
 * ```ts
 * const server = await createFakeAuthorizationServer({
 *   issuer: "https://as.example/tenant",
 *   faults: [{ name: "id_token:wrong-nonce", times: 1 }],
 * });
 * const response = await server.fetch(new Request(server.endpoints.openidConfiguration));
 * (await response.json()).issuer; // "https://as.example/tenant"
 * ```
 */
export async function createFakeAuthorizationServer(
  options: FakeAuthorizationServerOptions,
): Promise<FakeAuthorizationServer> {
  const issuerUrl = validateIssuer(options.issuer);
  const issuer = options.issuer;
  const wrongIssuer = `${issuer}${WRONG_ISSUER_SUFFIX}`;
  const issuerPath = issuerUrl.pathname === "/" ? "" : issuerUrl.pathname;
  const clients = registerClients(options.clients ?? [defaultFakeClient]);
  const users = new Map<string, FakeUser>(Object.entries(options.users ?? {}));
  const subject = options.subject ?? users.keys().next().value ?? "alice";
  if (subject === "" || [...users.keys()].includes("")) {
    throw new TypeError("subject must not be empty");
  }
  if (!users.has(subject)) {
    users.set(subject, {});
  }
  const accessTokenTtl = positiveInteger(
    "accessTokenTtlSeconds",
    options.accessTokenTtlSeconds ?? 3600,
  );
  const idTokenTtl = positiveInteger(
    "idTokenTtlSeconds",
    options.idTokenTtlSeconds ?? accessTokenTtl,
  );
  const codeTtl = positiveInteger(
    "codeTtlSeconds",
    options.codeTtlSeconds ?? 60,
    MAX_CODE_TTL_SECONDS,
  );
  const deviceInterval = positiveInteger(
    "deviceIntervalSeconds",
    options.deviceIntervalSeconds ?? 5,
  );
  const deviceTtl = positiveInteger("deviceCodeTtlSeconds", options.deviceCodeTtlSeconds ?? 600);
  const rotation = options.refreshTokenRotation ?? true;
  const now = options.now ?? Date.now;
  const signingAlg: FakeSigningAlg = options.signingAlg ?? "ES256";
  if (signingAlg !== "ES256" && signingAlg !== "RS256") {
    throw new TypeError(`signingAlg must be ES256 or RS256, got ${String(signingAlg)}`);
  }
  const interactive = options.interactive ?? false;
  const requirePar = options.requirePushedAuthorizationRequests ?? false;
  const cors = options.cors ?? true;
  const allowPlain = options.allowPlainPkce ?? false;
  const accessTokenUserClaims = options.accessTokenUserClaims ?? false;

  let activeKey: SigningKey = await createSigningKey(signingAlg);
  /** Every key ever created, by kid: access tokens stay verifiable after a rotation. */
  const allKeys = new Map<string, SigningKey>([[activeKey.kid, activeKey]]);
  let publishedKeys: SigningKey[] = [activeKey];

  const faults: ActiveFault[] = [];
  for (const fault of options.faults ?? []) {
    const spec = normalizeFault(fault);
    faults.push({ spec, remaining: spec.times ?? Number.POSITIVE_INFINITY });
  }
  const middlewares: FakeMiddleware[] = [];
  const overrides = new Map<FakeEndpoint, FakeOverride[]>();

  const paths = {
    oauthMetadata: `/.well-known/oauth-authorization-server${issuerPath}`,
    openidConfiguration: `${issuerPath}/.well-known/openid-configuration`,
    authorization: `${issuerPath}/authorize`,
    login: `${issuerPath}/login`,
    token: `${issuerPath}/token`,
    jwks: `${issuerPath}/jwks`,
    userinfo: `${issuerPath}/userinfo`,
    deviceAuthorization: `${issuerPath}/device_authorization`,
    deviceVerification: `${issuerPath}/device`,
    revocation: `${issuerPath}/revoke`,
    introspection: `${issuerPath}/introspect`,
    pushedAuthorizationRequest: `${issuerPath}/par`,
  } as const;
  const endpoints: FakeEndpoints = Object.freeze({
    oauthMetadata: `${issuerUrl.origin}${paths.oauthMetadata}`,
    openidConfiguration: `${issuerUrl.origin}${paths.openidConfiguration}`,
    authorization: `${issuerUrl.origin}${paths.authorization}`,
    token: `${issuerUrl.origin}${paths.token}`,
    jwks: `${issuerUrl.origin}${paths.jwks}`,
    userinfo: `${issuerUrl.origin}${paths.userinfo}`,
    deviceAuthorization: `${issuerUrl.origin}${paths.deviceAuthorization}`,
    deviceVerification: `${issuerUrl.origin}${paths.deviceVerification}`,
    revocation: `${issuerUrl.origin}${paths.revocation}`,
    introspection: `${issuerUrl.origin}${paths.introspection}`,
    pushedAuthorizationRequest: `${issuerUrl.origin}${paths.pushedAuthorizationRequest}`,
  });

  const authMethods = ["none", "client_secret_basic", "client_secret_post"];
  const metadata = {
    issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    userinfo_endpoint: endpoints.userinfo,
    device_authorization_endpoint: endpoints.deviceAuthorization,
    revocation_endpoint: endpoints.revocation,
    introspection_endpoint: endpoints.introspection,
    pushed_authorization_request_endpoint: endpoints.pushedAuthorizationRequest,
    require_pushed_authorization_requests: requirePar,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [
      "authorization_code",
      "refresh_token",
      "client_credentials",
      DEVICE_GRANT,
      TOKEN_EXCHANGE_GRANT,
    ],
    code_challenge_methods_supported: allowPlain ? ["S256", "plain"] : ["S256"],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    authorization_response_iss_parameter_supported: true,
    scopes_supported: SCOPES_SUPPORTED,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [signingAlg],
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "auth_time", "nonce"],
  };

  const codes = new Map<string, CodeRecord>();
  const families = new Map<string, TokenFamily>();
  const refreshTokens = new Map<string, RefreshRecord>();
  /** Access token `jti` → record, so revoking a family also kills its access tokens. */
  const accessTokens = new Map<string, AccessRecord>();
  const devicesByCode = new Map<string, DeviceRecord>();
  const devicesByUserCode = new Map<string, DeviceRecord>();
  const pushedRequests = new Map<string, PushedRequest>();
  const interactions = new Map<string, AuthorizationRequest>();
  const sessions = new Map<string, Session>();
  const requests: FakeRequestLogEntry[] = [];

  const nowSeconds = (): number => Math.floor(now() / 1000);

  // ---- faults ----------------------------------------------------------------------------------

  /** Consumes one use of the first active fault accepted by `match`; records it in the log context. */
  function takeFault(
    context: LogContext,
    match: (name: FakeFaultName) => boolean,
  ): FakeFaultSpec | undefined {
    const index = context.noFaults === true ? -1 : faults.findIndex((f) => match(f.spec.name));
    const fault = faults[index];
    if (fault === undefined) {
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      faults.splice(index, 1);
    }
    context.faults.push(fault.spec.name);
    return fault.spec;
  }

  function take(context: LogContext, name: FakeFaultName): boolean {
    return takeFault(context, (candidate) => candidate === name) !== undefined;
  }

  // ---- users and sessions ----------------------------------------------------------------------

  function userClaims(sub: string): Record<string, unknown> {
    return { ...(users.get(sub)?.claims ?? {}) };
  }

  function sessionOf(request: Request): Session | undefined {
    const id = parseCookies(request.headers.get("cookie")).get(SESSION_COOKIE);
    return id === undefined ? undefined : sessions.get(id);
  }

  // ---- authorization endpoint ------------------------------------------------------------------

  /** Builds the redirect of an authorization response, applying the response faults (S15, S17). */
  function authorizationRedirect(
    context: LogContext,
    redirectUri: string,
    state: string | undefined,
    params: Record<string, string | undefined>,
  ): Response {
    let sentState = state;
    if (take(context, "authorize:state-missing")) {
      sentState = undefined;
    } else if (take(context, "authorize:state-wrong")) {
      sentState = state === undefined ? "wrong-state" : `${state}-wrong`;
    }
    let iss: string | undefined = issuer;
    if (take(context, "authorize:iss-missing")) {
      iss = undefined;
    } else if (take(context, "authorize:iss-wrong")) {
      iss = wrongIssuer;
    }
    return redirect(appendQuery(redirectUri, { ...params, state: sentState, iss }));
  }

  function authorizationError(
    context: LogContext,
    pending: Pick<AuthorizationRequest, "redirectUri" | "state">,
    error: string,
    description: string,
  ): Response {
    return authorizationRedirect(context, pending.redirectUri, pending.state, {
      error,
      error_description: description,
    });
  }

  /** Validates an authorization request (from the query or from PAR); a `Response` is an error to send. */
  function validateAuthorizationRequest(
    context: LogContext,
    params: Params,
  ): AuthorizationRequest | Response {
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
    if (method !== "S256" && !(allowPlain && method === "plain")) {
      return fail(
        "invalid_request",
        allowPlain
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

  /** Issues a code for an approved request and redirects to the client. */
  function approve(
    context: LogContext,
    pending: AuthorizationRequest,
    sub: string,
    authTime: number,
  ): Response {
    if (take(context, "authorize:access-denied")) {
      return authorizationError(context, pending, "access_denied", "the user denied the request");
    }
    const code = randomToken(32);
    codes.set(code, {
      clientId: pending.client.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      codeChallengeMethod: pending.codeChallengeMethod,
      scope: pending.scope,
      nonce: pending.nonce,
      subject: sub,
      authTime,
      expiresAtMs: now() + codeTtl * 1000,
      used: false,
      familyId: undefined,
    });
    return authorizationRedirect(context, pending.redirectUri, pending.state, { code });
  }

  function loginPage(pending: AuthorizationRequest, message: string | undefined): Response {
    const id = randomToken(16);
    interactions.set(id, pending);
    const hint = pending.loginHint ?? subject;
    const error = message === undefined ? "" : `<p role="alert">${escapeHtml(message)}</p>`;
    const body = `${error}<p>${escapeHtml(pending.client.clientId)} asks for: ${escapeHtml(pending.scope || "(no scope)")}</p>
<form method="post" action="${escapeHtml(paths.login)}">
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

  async function authorize(request: Request, context: LogContext): Promise<Response> {
    let params = parseParams(new URL(request.url).searchParams);
    context.params = params.raw;
    const requestUri = params.get("request_uri");
    if (requestUri !== undefined) {
      const pushed = requestUri.startsWith(REQUEST_URI_PREFIX)
        ? pushedRequests.get(requestUri)
        : undefined;
      pushedRequests.delete(requestUri);
      if (
        pushed === undefined ||
        pushed.clientId !== params.get("client_id") ||
        now() >= pushed.expiresAtMs
      ) {
        return htmlError("The request_uri is unknown, expired, used, or of another client.");
      }
      params = parseParams(pushed.params);
    }
    const pending = validateAuthorizationRequest(context, params);
    if (pending instanceof Response) {
      return pending;
    }
    if (requirePar && requestUri === undefined) {
      return authorizationError(
        context,
        pending,
        "invalid_request",
        "pushed authorization requests are required (RFC 9126)",
      );
    }
    if (pending.loginHint !== undefined && !users.has(pending.loginHint)) {
      return authorizationError(context, pending, "access_denied", "unknown user in login_hint");
    }
    if (!interactive) {
      return approve(context, pending, pending.loginHint ?? subject, nowSeconds());
    }
    const session = sessionOf(request);
    const fresh =
      session !== undefined &&
      (pending.maxAge === undefined || nowSeconds() - session.authTime <= pending.maxAge) &&
      (pending.loginHint === undefined || pending.loginHint === session.subject);
    if (pending.prompt.includes("none")) {
      return session !== undefined && fresh
        ? approve(context, pending, session.subject, session.authTime)
        : authorizationError(context, pending, "login_required", "no current login session");
    }
    if (session !== undefined && fresh && pending.prompt.length === 0) {
      return approve(context, pending, session.subject, session.authTime);
    }
    return loginPage(pending, undefined);
  }

  async function loginSubmit(request: Request, context: LogContext): Promise<Response> {
    if (mediaType(request) !== "application/x-www-form-urlencoded") {
      return htmlError("The login form must be posted as application/x-www-form-urlencoded.");
    }
    const params = parseParams(new URLSearchParams(await request.text()));
    context.params = params.raw;
    const id = params.get("interaction") ?? "";
    const pending = interactions.get(id);
    interactions.delete(id);
    if (pending === undefined) {
      return htmlError("This login page has expired or was already used; start again.");
    }
    if (params.get("action") === "deny") {
      return authorizationError(context, pending, "access_denied", "the user denied the request");
    }
    const login = params.get("login") ?? "";
    if (!users.has(login)) {
      return loginPage(pending, `Unknown user "${login}".`);
    }
    const sessionId = randomToken(24);
    const authTime = nowSeconds();
    sessions.set(sessionId, { subject: login, authTime });
    const response = approve(context, pending, login, authTime);
    const secure = issuerUrl.protocol === "https:" ? "; Secure" : "";
    const headers = new Headers(response.headers);
    headers.append(
      "set-cookie",
      `${SESSION_COOKIE}=${sessionId}; Path=${issuerPath || "/"}; HttpOnly; SameSite=Lax${secure}`,
    );
    return new Response(null, { status: 303, headers });
  }

  // ---- client authentication -------------------------------------------------------------------

  function revokeFamily(familyId: string | undefined): void {
    const family = familyId === undefined ? undefined : families.get(familyId);
    if (family !== undefined) {
      family.revoked = true;
    }
  }

  function authenticateClient(request: Request, params: Params): RegisteredClient | Response {
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

  /** Parses a form POST and authenticates its client; a `Response` is an error to send. */
  async function formWithClient(
    request: Request,
    context: LogContext,
  ): Promise<{ params: Params; client: RegisteredClient } | Response> {
    const params = parseParams(new URLSearchParams(await request.text()));
    context.params = params.raw;
    context.grantType = params.raw.grant_type;
    if (mediaType(request) !== "application/x-www-form-urlencoded") {
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
    const client = authenticateClient(request, params);
    return client instanceof Response ? client : { params, client };
  }

  // ---- tokens ----------------------------------------------------------------------------------

  async function signAccessToken(
    family: TokenFamily,
    client: RegisteredClient,
    scope: string,
    audience: string = client.clientId,
  ): Promise<string> {
    const iat = nowSeconds();
    const jti = randomToken(16);
    accessTokens.set(jti, { familyId: family.id, clientId: client.clientId, revoked: false });
    return signJwt(
      activeKey,
      "at+jwt",
      accessTokenClaims({
        issuer,
        subject: family.subject,
        audience,
        clientId: client.clientId,
        scope,
        iat,
        ttlSeconds: accessTokenTtl,
        jti,
        userClaims: accessTokenUserClaims ? users.get(family.subject)?.claims : undefined,
      }),
    );
  }

  async function signIdToken(
    context: LogContext,
    client: RegisteredClient,
    family: TokenFamily,
    nonce: string | undefined,
    fromRefresh: boolean,
  ): Promise<string> {
    const iat = nowSeconds();
    const payload: IdTokenPayload = {
      ...userClaims(family.subject),
      iss: issuer,
      sub: family.subject,
      aud: client.clientId,
      iat,
      exp: iat + idTokenTtl,
      auth_time: family.authTime,
      ...(nonce === undefined ? {} : { nonce }),
    };
    if (fromRefresh && take(context, "refresh:id_token-other-iss")) {
      payload.iss = wrongIssuer;
    }
    if (fromRefresh && take(context, "refresh:id_token-other-sub")) {
      payload.sub = `${family.subject}-other`;
    }
    if (take(context, "id_token:wrong-iss")) {
      payload.iss = wrongIssuer;
    }
    if (take(context, "id_token:wrong-aud")) {
      payload.aud = UNTRUSTED_AUDIENCE;
    }
    if (take(context, "id_token:missing-aud")) {
      delete payload.aud;
    }
    if (take(context, "id_token:extra-aud")) {
      payload.aud = [client.clientId, UNTRUSTED_AUDIENCE];
    }
    if (take(context, "id_token:missing-iat")) {
      delete payload.iat;
    }
    if (take(context, "id_token:future-iat")) {
      payload.iat = iat + 3600;
      payload.exp = iat + 3600 + idTokenTtl;
    }
    if (take(context, "id_token:expired")) {
      payload.iat = iat - 7200;
      payload.exp = iat - 3600;
    }
    if (take(context, "id_token:missing-sub")) {
      delete payload.sub;
    }
    if (take(context, "id_token:wrong-nonce")) {
      payload.nonce = nonce === undefined ? "wrong-nonce" : `${nonce}-wrong`;
    }
    if (take(context, "id_token:missing-nonce")) {
      delete payload.nonce;
    }
    if (take(context, "id_token:alg-none")) {
      return unsecuredJwt(payload);
    }
    if (take(context, "id_token:hs256-client-id")) {
      return hs256Jwt(payload, client.clientId);
    }
    let kid = true;
    if (take(context, "id_token:kid-absent")) {
      kid = false;
    }
    if (take(context, "id_token:kid-absent-several-keys")) {
      kid = false;
      if (!publishedKeys.some((key) => key !== activeKey && key.alg === activeKey.alg)) {
        const decoy = await createSigningKey(activeKey.alg);
        publishedKeys = [...publishedKeys, decoy];
      }
    }
    const token = await signJwt(activeKey, "JWT", payload, { kid });
    return take(context, "id_token:bad-signature") ? corruptSignature(token) : token;
  }

  async function issueTokens(
    context: LogContext,
    client: RegisteredClient,
    family: TokenFamily,
    grant: {
      scope: string;
      nonce: string | undefined;
      /** `undefined`: issue a new one; `false`: none (client credentials). */
      refreshToken: string | undefined | false;
      fromRefresh: boolean;
    },
  ): Promise<Response> {
    const accessToken = await signAccessToken(family, client, grant.scope);
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
    };
    if (refreshToken !== false) {
      body.refresh_token = refreshToken;
    }
    if (grant.scope !== "") {
      body.scope = grant.scope;
    }
    if (scopeList(grant.scope).includes("openid")) {
      body.id_token = await signIdToken(context, client, family, grant.nonce, grant.fromRefresh);
    }
    return tokenResponse(context, body);
  }

  function tokenResponse(context: LogContext, body: Record<string, unknown>): Response {
    if (take(context, "token:no-expires-in")) {
      delete body.expires_in;
    }
    if (take(context, "token:token-type-uppercase")) {
      body.token_type = "BEARER";
    }
    return json(200, body, NO_STORE);
  }

  function newFamily(clientId: string, sub: string, scope: string, authTime: number): TokenFamily {
    const family: TokenFamily = {
      id: randomToken(16),
      clientId,
      subject: sub,
      scope,
      authTime,
      revoked: false,
    };
    families.set(family.id, family);
    return family;
  }

  async function authorizationCodeGrant(
    context: LogContext,
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
    const transformed = record.codeChallengeMethod === "plain" ? verifier : await s256(verifier);
    if (!VERIFIER_OR_CHALLENGE.test(verifier) || transformed !== record.codeChallenge) {
      return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    const family = newFamily(client.clientId, record.subject, record.scope, record.authTime);
    record.familyId = family.id;
    return issueTokens(context, client, family, {
      scope: record.scope,
      nonce: record.nonce,
      refreshToken: undefined,
      fromRefresh: false,
    });
  }

  async function refreshTokenGrant(
    context: LogContext,
    client: RegisteredClient,
    params: Params,
  ): Promise<Response> {
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
    return issueTokens(context, client, family, {
      scope: requested ?? family.scope,
      nonce: undefined,
      refreshToken: rotation ? undefined : token,
      fromRefresh: true,
    });
  }

  async function clientCredentialsGrant(
    context: LogContext,
    client: RegisteredClient,
    params: Params,
  ): Promise<Response> {
    if (client.method === "none") {
      return oauthError(
        400,
        "unauthorized_client",
        "client_credentials needs a confidential client",
      );
    }
    const scope = params.get("scope") ?? "";
    if (scope !== "" && !scope.split(" ").every((token) => SCOPE_TOKEN.test(token))) {
      return oauthError(400, "invalid_scope", "scope is malformed");
    }
    const family = newFamily(client.clientId, client.clientId, scope, nowSeconds());
    const body: Record<string, unknown> = {
      access_token: await signAccessToken(family, client, scope),
      token_type: "Bearer",
      expires_in: accessTokenTtl,
      ...(scope === "" ? {} : { scope }),
    };
    return tokenResponse(context, body);
  }

  async function deviceCodeGrant(
    context: LogContext,
    client: RegisteredClient,
    params: Params,
  ): Promise<Response> {
    const deviceCode = params.get("device_code");
    if (deviceCode === undefined) {
      return oauthError(400, "invalid_request", "device_code is required");
    }
    const record = devicesByCode.get(deviceCode);
    if (record === undefined || record.clientId !== client.clientId || record.status === "used") {
      return oauthError(400, "invalid_grant", "unknown device_code");
    }
    const lastPoll = record.lastPollMs;
    record.lastPollMs = now();
    const scripted = takeFault(context, (name) => name.startsWith("device:"));
    switch (scripted?.name) {
      case "device:authorization_pending":
        return oauthError(400, "authorization_pending", "the user has not answered yet (scripted)");
      case "device:slow_down":
        record.intervalSeconds += 5;
        return oauthError(
          400,
          "slow_down",
          `polling too fast; wait ${record.intervalSeconds} s (scripted)`,
        );
      case "device:access_denied":
        return oauthError(400, "access_denied", "the user denied the request (scripted)");
      case "device:expired_token":
        return oauthError(400, "expired_token", "the device_code has expired (scripted)");
      default:
        break;
    }
    if (now() >= record.expiresAtMs) {
      return oauthError(400, "expired_token", "the device_code has expired");
    }
    if (record.status === "denied") {
      return oauthError(400, "access_denied", "the user denied the request");
    }
    if (lastPoll !== undefined && record.lastPollMs - lastPoll < record.intervalSeconds * 1000) {
      record.intervalSeconds += 5;
      return oauthError(400, "slow_down", `polling too fast; wait ${record.intervalSeconds} s`);
    }
    if (record.status === "pending" || record.subject === undefined) {
      return oauthError(400, "authorization_pending", "the user has not answered yet");
    }
    record.status = "used";
    const family = newFamily(client.clientId, record.subject, record.scope, record.authTime);
    return issueTokens(context, client, family, {
      scope: record.scope,
      nonce: undefined,
      refreshToken: undefined,
      fromRefresh: false,
    });
  }

  /** The access-token record behind a token string, when it is a valid, unexpired, unrevoked access token of this server. */
  async function liveAccessToken(
    token: string,
  ): Promise<
    { payload: Record<string, unknown>; record: AccessRecord; family: TokenFamily } | undefined
  > {
    const payload = await verifyAccessToken(allKeys, token, { issuer, nowMs: now() });
    const record = typeof payload?.jti === "string" ? accessTokens.get(payload.jti) : undefined;
    const family = record === undefined ? undefined : families.get(record.familyId);
    if (
      payload === undefined ||
      record === undefined ||
      family === undefined ||
      record.revoked ||
      family.revoked
    ) {
      return undefined;
    }
    return { payload, record, family };
  }

  async function tokenExchangeGrant(
    context: LogContext,
    client: RegisteredClient,
    params: Params,
  ): Promise<Response> {
    const subjectToken = params.get("subject_token");
    const subjectTokenType = params.get("subject_token_type");
    if (subjectToken === undefined || subjectTokenType === undefined) {
      return oauthError(
        400,
        "invalid_request",
        "subject_token and subject_token_type are required",
      );
    }
    if (subjectTokenType !== ACCESS_TOKEN_TYPE) {
      return oauthError(400, "invalid_request", `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    }
    const requestedType = params.get("requested_token_type");
    if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
      return oauthError(
        400,
        "invalid_request",
        `requested_token_type must be ${ACCESS_TOKEN_TYPE}`,
      );
    }
    if (params.get("actor_token") !== undefined) {
      return oauthError(400, "invalid_request", "actor_token (delegation) is not supported");
    }
    const live = await liveAccessToken(subjectToken);
    if (live === undefined) {
      return oauthError(
        400,
        "invalid_grant",
        "subject_token is not a valid access token of this server",
      );
    }
    const granted = scopeList(typeof live.payload.scope === "string" ? live.payload.scope : "");
    const requested = params.get("scope");
    if (
      requested !== undefined &&
      !scopeList(requested).every((scope) => granted.includes(scope))
    ) {
      return oauthError(400, "invalid_scope", "scope exceeds the subject token's scope");
    }
    const scope = requested ?? granted.join(" ");
    const audience = params.get("audience") ?? params.get("resource") ?? client.clientId;
    const body: Record<string, unknown> = {
      access_token: await signAccessToken(live.family, client, scope, audience),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: "Bearer",
      expires_in: accessTokenTtl,
      ...(scope === "" ? {} : { scope }),
    };
    return tokenResponse(context, body);
  }

  async function tokenEndpoint(request: Request, context: LogContext): Promise<Response> {
    const form = await formWithClient(request, context);
    if (form instanceof Response) {
      return form;
    }
    const { params, client } = form;
    const refusal = takeFault(context, (name) => name.startsWith("token:40"));
    if (refusal !== undefined) {
      return refusal.name === "token:400-html"
        ? htmlPage(400, "400 Bad Request", "<p>The request was refused.</p>")
        : new Response(null, { status: refusal.name === "token:401-empty" ? 401 : 400 });
    }
    const grantType = params.get("grant_type");
    switch (grantType) {
      case undefined:
        return oauthError(400, "invalid_request", "grant_type is required");
      case "authorization_code":
        return authorizationCodeGrant(context, client, params);
      case "refresh_token":
        return refreshTokenGrant(context, client, params);
      case "client_credentials":
        return clientCredentialsGrant(context, client, params);
      case DEVICE_GRANT:
        return deviceCodeGrant(context, client, params);
      case TOKEN_EXCHANGE_GRANT:
        return tokenExchangeGrant(context, client, params);
      default:
        return oauthError(
          400,
          "unsupported_grant_type",
          `supported: ${metadata.grant_types_supported.join(", ")}`,
        );
    }
  }

  // ---- device authorization (RFC 8628) ---------------------------------------------------------

  async function deviceAuthorization(request: Request, context: LogContext): Promise<Response> {
    const form = await formWithClient(request, context);
    if (form instanceof Response) {
      return form;
    }
    const { params, client } = form;
    const scope = params.get("scope") ?? "";
    if (scope !== "" && !scope.split(" ").every((token) => SCOPE_TOKEN.test(token))) {
      return oauthError(400, "invalid_scope", "scope is malformed");
    }
    let userCode = randomUserCode();
    while (devicesByUserCode.has(normalizeUserCode(userCode))) {
      userCode = randomUserCode();
    }
    const record: DeviceRecord = {
      deviceCode: randomToken(32),
      userCode,
      clientId: client.clientId,
      scope,
      expiresAtMs: now() + deviceTtl * 1000,
      intervalSeconds: deviceInterval,
      lastPollMs: undefined,
      status: options.deviceAutoApprove === true ? "approved" : "pending",
      subject: options.deviceAutoApprove === true ? subject : undefined,
      authTime: nowSeconds(),
    };
    devicesByCode.set(record.deviceCode, record);
    devicesByUserCode.set(normalizeUserCode(userCode), record);
    return json(
      200,
      {
        device_code: record.deviceCode,
        user_code: userCode,
        verification_uri: endpoints.deviceVerification,
        verification_uri_complete: `${endpoints.deviceVerification}?user_code=${encodeURIComponent(userCode)}`,
        expires_in: deviceTtl,
        interval: deviceInterval,
      },
      NO_STORE,
    );
  }

  function answerDevice(userCode: string, approved: boolean, sub: string): DeviceRecord | string {
    const record = devicesByUserCode.get(normalizeUserCode(userCode));
    if (record === undefined) {
      return "unknown user code";
    }
    if (record.status !== "pending") {
      return "this code was already answered";
    }
    if (now() >= record.expiresAtMs) {
      return "this code has expired";
    }
    if (!users.has(sub)) {
      return `unknown user "${sub}"`;
    }
    record.status = approved ? "approved" : "denied";
    record.subject = approved ? sub : undefined;
    record.authTime = nowSeconds();
    return record;
  }

  function deviceForm(userCode: string, message: string | undefined, status = 200): Response {
    const alert = message === undefined ? "" : `<p role="alert">${escapeHtml(message)}</p>`;
    const body = `${alert}<form method="post" action="${escapeHtml(paths.deviceVerification)}">
<label>Code <input name="user_code" value="${escapeHtml(userCode)}" autocomplete="off"></label>
<label>User <input name="login" value="${escapeHtml(subject)}" autocomplete="username"></label>
<button type="submit" name="action" value="approve">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`;
    return htmlPage(status, "Connect a device", body);
  }

  async function deviceVerification(request: Request, context: LogContext): Promise<Response> {
    if (request.method === "GET") {
      return deviceForm(new URL(request.url).searchParams.get("user_code") ?? "", undefined);
    }
    if (mediaType(request) !== "application/x-www-form-urlencoded") {
      return htmlError("The form must be posted as application/x-www-form-urlencoded.");
    }
    const params = parseParams(new URLSearchParams(await request.text()));
    context.params = params.raw;
    const userCode = params.get("user_code") ?? "";
    const approved = params.get("action") !== "deny";
    const result = answerDevice(userCode, approved, params.get("login") ?? subject);
    if (typeof result === "string") {
      return deviceForm(userCode, result, 400);
    }
    return htmlPage(
      200,
      approved ? "Device connected" : "Request denied",
      `<p>${approved ? "You can return to your device." : "The device was not connected."}</p>`,
    );
  }

  // ---- revocation, introspection, PAR, userinfo ------------------------------------------------

  async function revocation(request: Request, context: LogContext): Promise<Response> {
    const form = await formWithClient(request, context);
    if (form instanceof Response) {
      return form;
    }
    const { params, client } = form;
    const token = params.get("token");
    if (token === undefined) {
      return oauthError(400, "invalid_request", "token is required");
    }
    const refreshRecord = refreshTokens.get(token);
    if (refreshRecord !== undefined) {
      if (refreshRecord.clientId !== client.clientId) {
        return oauthError(400, "invalid_request", "the token was issued to another client");
      }
      revokeFamily(refreshRecord.familyId);
      return new Response(null, { status: 200, headers: NO_STORE });
    }
    const live = await liveAccessToken(token);
    if (live !== undefined) {
      if (live.record.clientId !== client.clientId) {
        return oauthError(400, "invalid_request", "the token was issued to another client");
      }
      live.record.revoked = true;
    }
    return new Response(null, { status: 200, headers: NO_STORE });
  }

  async function introspection(request: Request, context: LogContext): Promise<Response> {
    const form = await formWithClient(request, context);
    if (form instanceof Response) {
      return form;
    }
    const token = form.params.get("token");
    if (token === undefined) {
      return oauthError(400, "invalid_request", "token is required");
    }
    const refreshRecord = refreshTokens.get(token);
    const refreshFamily =
      refreshRecord === undefined ? undefined : families.get(refreshRecord.familyId);
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
              iss: issuer,
              ...(refreshFamily.scope === "" ? {} : { scope: refreshFamily.scope }),
            }
          : { active },
        NO_STORE,
      );
    }
    const live = await liveAccessToken(token);
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

  async function pushedAuthorizationRequest(
    request: Request,
    context: LogContext,
  ): Promise<Response> {
    const form = await formWithClient(request, context);
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
    pushedRequests.set(requestUri, {
      clientId: client.clientId,
      params: stored,
      expiresAtMs: now() + PAR_TTL_SECONDS * 1000,
    });
    return json(201, { request_uri: requestUri, expires_in: PAR_TTL_SECONDS }, NO_STORE);
  }

  async function userinfo(request: Request, context: LogContext): Promise<Response> {
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
    const live = await liveAccessToken(match[1]);
    if (live === undefined) {
      return invalid;
    }
    if (
      typeof live.payload.scope !== "string" ||
      !scopeList(live.payload.scope).includes("openid")
    ) {
      return json(
        403,
        { error: "insufficient_scope" },
        { ...NO_STORE, "www-authenticate": `${realm}, error="insufficient_scope", scope="openid"` },
      );
    }
    const sub = take(context, "userinfo:sub-mismatch")
      ? `${live.family.subject}-other`
      : live.family.subject;
    return json(200, { ...userClaims(live.family.subject), sub }, NO_STORE);
  }

  // ---- routing ---------------------------------------------------------------------------------

  function route(path: string): { endpoint: FakeEndpoint; methods: readonly string[] } {
    switch (path) {
      case paths.oauthMetadata:
      case paths.openidConfiguration:
        return { endpoint: "discovery", methods: ["GET"] };
      case paths.authorization:
        return { endpoint: "authorize", methods: ["GET"] };
      case paths.login:
        return { endpoint: "login", methods: ["POST"] };
      case paths.token:
        return { endpoint: "token", methods: ["POST"] };
      case paths.jwks:
        return { endpoint: "jwks", methods: ["GET"] };
      case paths.userinfo:
        return { endpoint: "userinfo", methods: ["GET", "POST"] };
      case paths.deviceAuthorization:
        return { endpoint: "device_authorization", methods: ["POST"] };
      case paths.deviceVerification:
        return { endpoint: "device", methods: ["GET", "POST"] };
      case paths.revocation:
        return { endpoint: "revocation", methods: ["POST"] };
      case paths.introspection:
        return { endpoint: "introspection", methods: ["POST"] };
      case paths.pushedAuthorizationRequest:
        return { endpoint: "par", methods: ["POST"] };
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
        return json(
          200,
          take(context, "discovery:issuer-mismatch")
            ? { ...metadata, issuer: wrongIssuer }
            : metadata,
        );
      case "authorize":
        return authorize(request, context);
      case "login":
        return loginSubmit(request, context);
      case "token":
        return tokenEndpoint(request, context);
      case "jwks":
        return json(200, jwks(publishedKeys));
      case "userinfo":
        return userinfo(request, context);
      case "device_authorization":
        return deviceAuthorization(request, context);
      case "device":
        return deviceVerification(request, context);
      case "revocation":
        return revocation(request, context);
      case "introspection":
        return introspection(request, context);
      case "par":
        return pushedAuthorizationRequest(request, context);
      case "unknown":
        return json(404, { error: "not_found", error_description: "no such endpoint" });
      default: {
        const unreachable: never = endpoint;
        throw new Error(`unrouted endpoint ${String(unreachable)}`);
      }
    }
  }

  /**
   * The generic HTTP faults of `endpoint`: at most one delay (a fault without `times` would
   * otherwise never run out within the request), then the first replacing fault answers.
   */
  async function httpFault(
    request: Request,
    endpoint: FakeEndpoint,
    context: LogContext,
  ): Promise<Response | undefined> {
    const delay = takeFault(context, (name) => name === `${endpoint}:delay`);
    if (delay !== undefined) {
      await sleep(delay.delayMs ?? 1000, request.signal);
    }
    const fault = takeFault(context, (name) =>
      HTTP_FAULT_KINDS.some((kind) => name === `${endpoint}:${kind}`),
    );
    const kind = fault?.name.slice(fault.name.lastIndexOf(":") + 1);
    switch (kind) {
      case undefined:
        return undefined;
      case "5xx":
        return json(
          fault?.status ?? 503,
          { error: "server_error", error_description: `scripted fault ${fault?.name}` },
          { ...NO_STORE, "retry-after": "1" },
        );
      case "drop": {
        const cause = Object.assign(new Error(`connection dropped by fault ${fault?.name}`), {
          code: "ECONNRESET",
          [DROPPED]: true,
        });
        throw new TypeError("fetch failed", { cause });
      }
      case "malformed-json":
        return new Response('{"', {
          status: 200,
          headers: { "content-type": "application/json", ...NO_STORE },
        });
      default:
        return htmlPage(502, "502 Bad Gateway", "<p>The upstream server did not answer.</p>");
    }
  }

  function corsHeaders(request: Request, response: Response): Response {
    const headers = new Headers(response.headers);
    headers.set("access-control-allow-origin", "*");
    headers.set("access-control-expose-headers", "www-authenticate, retry-after, dpop-nonce");
    if (request.method === "OPTIONS") {
      headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
      headers.set("access-control-allow-headers", "authorization, content-type, dpop");
      headers.set("access-control-max-age", "600");
    }
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }

  async function serve(
    request: Request,
    endpoint: FakeEndpoint,
    methods: readonly string[],
    context: LogContext,
  ): Promise<Response> {
    const withCors = cors && CORS_ENDPOINTS.has(endpoint) && request.headers.has("origin");
    if (request.method === "OPTIONS" && cors && CORS_ENDPOINTS.has(endpoint)) {
      return corsHeaders(request, new Response(null, { status: 204 }));
    }
    let response: Response;
    if (endpoint !== "unknown" && !methods.includes(request.method)) {
      response = json(
        405,
        { error: "method_not_allowed", error_description: `use ${methods.join(" or ")}` },
        { allow: methods.join(", ") },
      );
    } else {
      const queued = overrides.get(endpoint)?.shift();
      if (queued !== undefined) {
        response = typeof queued === "function" ? await queued(request) : queued;
      } else {
        response =
          (await httpFault(request, endpoint, context)) ??
          (await dispatch(request, endpoint, context));
      }
    }
    return withCors ? corsHeaders(request, response) : response;
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { endpoint, methods } = route(url.pathname);
    const context: LogContext = {
      params: request.method === "GET" ? parseParams(url.searchParams).raw : {},
      grantType: undefined,
      faults: [],
    };
    const log = (status: number): void => {
      requests.push(
        Object.freeze({
          endpoint,
          method: request.method,
          path: url.pathname,
          params: Object.freeze(context.params),
          headers: Object.freeze(Object.fromEntries(request.headers)),
          ...(context.grantType === undefined ? {} : { grantType: context.grantType }),
          status,
          ...(context.faults.length === 0 ? {} : { faults: Object.freeze([...context.faults]) }),
        }),
      );
    };
    const chain = [...middlewares];
    const run = async (index: number): Promise<Response> => {
      const middleware = chain[index];
      if (middleware === undefined) {
        return serve(request, endpoint, methods, context);
      }
      return middleware(request, () => run(index + 1), { endpoint });
    };
    let response: Response;
    try {
      response = await run(0);
    } catch (error) {
      if (isDroppedConnection(error)) {
        log(0);
        throw error;
      }
      response = json(500, { error: "server_error", error_description: String(error) }, NO_STORE);
    }
    log(response.status);
    return response;
  }

  return {
    issuer,
    endpoints,
    clientIds: Object.freeze([...clients.keys()]),
    // A Request alone is used as is (as before, whichever realm made it).
    fetch: async (input, init) =>
      handle(
        init === undefined && typeof input === "object" && "method" in input
          ? input
          : new Request(input, init as RequestInit | undefined),
      ),
    requests,
    clearRequests(): void {
      requests.length = 0;
    },
    count(endpoint: FakeEndpoint, filter?: FakeRequestFilter): number {
      return requests.filter((entry) => entry.endpoint === endpoint && matchesFilter(entry, filter))
        .length;
    },
    use(middleware: FakeMiddleware): () => void {
      middlewares.unshift(middleware);
      return () => {
        const index = middlewares.indexOf(middleware);
        if (index >= 0) {
          middlewares.splice(index, 1);
        }
      };
    },
    once(endpoint: FakeEndpoint, override: FakeOverride): void {
      const queue = overrides.get(endpoint) ?? [];
      queue.push(override);
      overrides.set(endpoint, queue);
    },
    setFault(fault: FakeFaultName | FakeFaultSpec, scope?: Omit<FakeFaultSpec, "name">): void {
      const spec = normalizeFault(fault, scope);
      faults.push({ spec, remaining: spec.times ?? Number.POSITIVE_INFINITY });
    },
    clearFaults(name?: FakeFaultName): void {
      for (let index = faults.length - 1; index >= 0; index -= 1) {
        if (name === undefined || faults[index]?.spec.name === name) {
          faults.splice(index, 1);
        }
      }
    },
    activeFaults(): readonly FakeFaultSpec[] {
      return faults.map((fault) => {
        const { times: _times, ...rest } = fault.spec;
        return Number.isFinite(fault.remaining) ? { ...rest, times: fault.remaining } : rest;
      });
    },
    reset(): void {
      faults.length = 0;
      middlewares.length = 0;
      overrides.clear();
      requests.length = 0;
    },
    async rotateKeys(rotateOptions: FakeRotateKeysOptions = {}): Promise<string> {
      const key = await createSigningKey(signingAlg);
      allKeys.set(key.kid, key);
      publishedKeys = rotateOptions.keepPrevious === false ? [key] : [key, ...publishedKeys];
      activeKey = key;
      return key.kid;
    },
    async issueTokens(mintOptions: FakeIssueTokensOptions = {}): Promise<FakeTokenResponse> {
      const mint = issueTokensRequest(mintOptions, {
        subject,
        clientIds: [...clients.keys()],
        hasUser: (sub) => users.has(sub),
      });
      const client = clients.get(mint.clientId) as RegisteredClient;
      const family = newFamily(client.clientId, mint.subject, mint.scope, nowSeconds());
      const context: LogContext = { params: {}, grantType: undefined, faults: [], noFaults: true };
      const response = await issueTokens(context, client, family, {
        scope: mint.scope,
        nonce: mint.nonce,
        refreshToken: mint.refreshToken ? undefined : false,
        fromRefresh: false,
      });
      return (await response.json()) as FakeTokenResponse;
    },
    approveDevice(userCode: string, approveOptions: { subject?: string } = {}): void {
      const result = answerDevice(userCode, true, approveOptions.subject ?? subject);
      if (typeof result === "string") {
        throw new Error(`approveDevice: ${result}`);
      }
    },
    denyDevice(userCode: string): void {
      const result = answerDevice(userCode, false, subject);
      if (typeof result === "string") {
        throw new Error(`denyDevice: ${result}`);
      }
    },
  };
}
