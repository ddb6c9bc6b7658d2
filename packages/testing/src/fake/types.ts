/** The public types of the fake authorization server (re-exported by `server.ts`). */
import type { FakeEndpoint, FakeFaultName, FakeFaultSpec } from "../faults.js";
import type { FakeIssueTokensOptions, FakeTokenResponse } from "../issue-tokens.js";
import type { FakeSigningAlg } from "../tokens.js";

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
  /**
   * How many entries {@link FakeAuthorizationServer.requests} keeps: the newest, the oldest are
   * dropped (so `count` sees only these). Default 1000.
   */
  maxLogEntries?: number;
  /**
   * How many entries each state table keeps at most (authorization codes, token families, refresh
   * and access tokens, device codes, pushed requests, login pages, sessions): when a table is full
   * the oldest entry goes. Entries also expire on their own (a code 10 minutes after it expired, an
   * access token when it expires, a device code one lifetime after it expired, a pushed request when
   * it expires, a login page after an hour, a session after a day). Default 1000.
   */
  maxStateEntries?: number;
}

/** One request the fake server answered. */
export interface FakeRequestLogEntry {
  /** Which endpoint the request was for. */
  readonly endpoint: FakeEndpoint;
  /** The HTTP method, e.g. `POST`. */
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
  /** The authorization endpoint (RFC 6749 §3.1), where the browser is sent. */
  readonly authorization: string;
  /** The token endpoint (RFC 6749 §3.2). */
  readonly token: string;
  /** The JSON Web Key Set of the signing keys (`jwks_uri`). */
  readonly jwks: string;
  /** The OpenID Connect UserInfo endpoint. */
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
  /**
   * The requests answered so far, oldest first: the newest `maxLogEntries` (default 1000) of them
   * (the same array, cleared by {@link clearRequests}).
   */
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
