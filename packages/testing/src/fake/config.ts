/** The fake server's fixed configuration: options validated once, paths, endpoints and metadata. */

import { WRONG_ISSUER_SUFFIX } from "../faults.js";
import { positiveInteger, validateIssuer } from "../http.js";
import type { FakeSigningAlg } from "../tokens.js";
import {
  defaultFakeClient,
  type FakeAuthorizationServerOptions,
  type FakeClient,
  type FakeEndpoints,
  type FakeTokenEndpointAuthMethod,
  type FakeUser,
} from "./types.js";

export const SCOPES_SUPPORTED: readonly string[] = ["openid", "profile", "email", "offline_access"];
export const MAX_CODE_TTL_SECONDS = 600;
export const VERIFIER_OR_CHALLENGE: RegExp = /^[A-Za-z0-9\-._~]{43,128}$/;
export const SCOPE_TOKEN: RegExp = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
export const REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:";
export const SESSION_COOKIE = "latchkey_fake_idp_session";
export const PAR_TTL_SECONDS = 60;

/** A client as the server uses it: its authentication method resolved. */
export interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUris: readonly string[];
  readonly method: FakeTokenEndpointAuthMethod;
}

/** The paths the server answers on (below the issuer's path). */
export interface FakePaths {
  readonly oauthMetadata: string;
  readonly openidConfiguration: string;
  readonly authorization: string;
  readonly login: string;
  readonly token: string;
  readonly jwks: string;
  readonly userinfo: string;
  readonly deviceAuthorization: string;
  readonly deviceVerification: string;
  readonly revocation: string;
  readonly introspection: string;
  readonly pushedAuthorizationRequest: string;
}

/** Every option resolved to its value. */
export interface FakeConfig {
  readonly issuer: string;
  readonly issuerUrl: URL;
  readonly issuerPath: string;
  /** The issuer the faults that send a wrong one use. */
  readonly wrongIssuer: string;
  readonly clients: ReadonlyMap<string, RegisteredClient>;
  readonly users: ReadonlyMap<string, FakeUser>;
  readonly subject: string;
  readonly accessTokenTtl: number;
  readonly idTokenTtl: number;
  readonly codeTtl: number;
  readonly deviceInterval: number;
  readonly deviceTtl: number;
  readonly deviceAutoApprove: boolean;
  readonly rotation: boolean;
  readonly now: () => number;
  readonly signingAlg: FakeSigningAlg;
  readonly interactive: boolean;
  readonly requirePar: boolean;
  readonly cors: boolean;
  readonly allowPlain: boolean;
  readonly accessTokenUserClaims: boolean;
  readonly maxLogEntries: number;
  readonly maxStateEntries: number;
  readonly paths: FakePaths;
  readonly endpoints: FakeEndpoints;
  readonly metadata: Readonly<Record<string, unknown>> & {
    readonly grant_types_supported: readonly string[];
  };
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

function pathsOf(issuerPath: string): FakePaths {
  return {
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
  };
}

function endpointsOf(origin: string, paths: FakePaths): FakeEndpoints {
  return Object.freeze({
    oauthMetadata: `${origin}${paths.oauthMetadata}`,
    openidConfiguration: `${origin}${paths.openidConfiguration}`,
    authorization: `${origin}${paths.authorization}`,
    token: `${origin}${paths.token}`,
    jwks: `${origin}${paths.jwks}`,
    userinfo: `${origin}${paths.userinfo}`,
    deviceAuthorization: `${origin}${paths.deviceAuthorization}`,
    deviceVerification: `${origin}${paths.deviceVerification}`,
    revocation: `${origin}${paths.revocation}`,
    introspection: `${origin}${paths.introspection}`,
    pushedAuthorizationRequest: `${origin}${paths.pushedAuthorizationRequest}`,
  });
}

function metadataOf(
  issuer: string,
  endpoints: FakeEndpoints,
  options: { requirePar: boolean; allowPlain: boolean; signingAlg: FakeSigningAlg },
): FakeConfig["metadata"] {
  const authMethods = ["none", "client_secret_basic", "client_secret_post"];
  return {
    issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    jwks_uri: endpoints.jwks,
    userinfo_endpoint: endpoints.userinfo,
    device_authorization_endpoint: endpoints.deviceAuthorization,
    revocation_endpoint: endpoints.revocation,
    introspection_endpoint: endpoints.introspection,
    pushed_authorization_request_endpoint: endpoints.pushedAuthorizationRequest,
    require_pushed_authorization_requests: options.requirePar,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [
      "authorization_code",
      "refresh_token",
      "client_credentials",
      DEVICE_GRANT,
      TOKEN_EXCHANGE_GRANT,
    ],
    code_challenge_methods_supported: options.allowPlain ? ["S256", "plain"] : ["S256"],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    authorization_response_iss_parameter_supported: true,
    scopes_supported: SCOPES_SUPPORTED,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [options.signingAlg],
    prompt_values_supported: ["none", "login", "consent", "select_account"],
    claims_supported: ["iss", "sub", "aud", "iat", "exp", "auth_time", "nonce"],
  };
}

/**
 * Validates the options and resolves their defaults.
 * @throws TypeError / RangeError for an invalid issuer, client, user or lifetime.
 */
export function resolveConfig(options: FakeAuthorizationServerOptions): FakeConfig {
  const issuerUrl = validateIssuer(options.issuer);
  const issuer = options.issuer;
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
  const signingAlg: FakeSigningAlg = options.signingAlg ?? "ES256";
  if (signingAlg !== "ES256" && signingAlg !== "RS256") {
    throw new TypeError(`signingAlg must be ES256 or RS256, got ${String(signingAlg)}`);
  }
  const requirePar = options.requirePushedAuthorizationRequests ?? false;
  const allowPlain = options.allowPlainPkce ?? false;
  const paths = pathsOf(issuerPath);
  const endpoints = endpointsOf(issuerUrl.origin, paths);
  return {
    issuer,
    issuerUrl,
    issuerPath,
    wrongIssuer: `${issuer}${WRONG_ISSUER_SUFFIX}`,
    clients,
    users,
    subject,
    accessTokenTtl,
    idTokenTtl,
    codeTtl,
    deviceInterval,
    deviceTtl,
    deviceAutoApprove: options.deviceAutoApprove === true,
    rotation: options.refreshTokenRotation ?? true,
    now: options.now ?? Date.now,
    signingAlg,
    interactive: options.interactive ?? false,
    requirePar,
    cors: options.cors ?? true,
    allowPlain,
    accessTokenUserClaims: options.accessTokenUserClaims ?? false,
    maxLogEntries: positiveInteger("maxLogEntries", options.maxLogEntries ?? 1000),
    maxStateEntries: positiveInteger("maxStateEntries", options.maxStateEntries ?? 1000),
    paths,
    endpoints,
    metadata: metadataOf(issuer, endpoints, { requirePar, allowPlain, signingAlg }),
  };
}
