import * as oauth from "oauth4webapi";
import { ConfigurationError, ErrorCode } from "./errors.js";

/** How the client authenticates at the token endpoint. `none` for public clients (S9). */
export type ClientAuthMethod = "none" | "client_secret_basic" | "client_secret_post";

/** A `fetch`-compatible function: the injectable HTTP transport (the reference's `session`). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Everything that describes one OAuth client talking to one authorization server. One options
 * object replaces the reference's 14 positional parameters.
 *
 * @example
 * ```ts
 * const client: ClientOptions = {
 *   issuer: "https://login.example.com",
 *   clientId: "my-cli",
 *   scopes: ["openid", "offline_access"],
 * };
 * ```
 */
export interface ClientOptions {
  /** The issuer identifier; its metadata is discovered (RFC 8414, then OpenID Discovery). */
  issuer?: string;
  /** Explicit authorization endpoint; overrides the discovered one. */
  authorizationEndpoint?: string;
  /** Explicit token endpoint; overrides the discovered one. */
  tokenEndpoint?: string;
  /** Explicit revocation endpoint; overrides the discovered one. */
  revocationEndpoint?: string;
  /** Explicit device authorization endpoint; overrides the discovered one. */
  deviceAuthorizationEndpoint?: string;
  /** The client id. Required. */
  clientId: string;
  /** A client secret, for confidential clients only. Never shipped with a public CLI (S9). */
  clientSecret?: string;
  /** Token endpoint authentication. Default `none`, or `client_secret_basic` when a secret is set. */
  clientAuthMethod?: ClientAuthMethod;
  /** Scopes to request; joined with spaces. */
  scopes?: readonly string[];
  /** The `audience` parameter some servers use (Auth0, Okta, flytekit's). */
  audience?: string;
  /** RFC 8707 resource indicators. */
  resource?: readonly string[];
  /** Extra parameters for the authorization request. */
  authorizationParams?: Readonly<Record<string, string>>;
  /** Extra parameters for the authorization-code token request. */
  tokenParams?: Readonly<Record<string, string>>;
  /** Extra parameters for the refresh request. */
  refreshParams?: Readonly<Record<string, string>>;
  /**
   * Also send the authorization request's own extra parameters, `audience`, `resource` and
   * `scope` to the token endpoint (some IdPs need it). Never `state` or the PKCE challenge.
   */
  copyAuthorizationParamsToTokenRequest?: boolean;
  /**
   * Push the authorization request first (RFC 9126 PAR). Default: only when the server
   * requires it (`require_pushed_authorization_requests`).
   */
  pushedAuthorizationRequests?: boolean;
  /** The HTTP transport. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Allow plain-HTTP endpoints that are not loopback (S20). Default false. */
  allowInsecureHttp?: boolean;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** How long one HTTP request may take, in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Leeway for ID-token `exp` and `iat`, in seconds (S36). Default 30, at most 300. */
  clockToleranceSeconds?: number;
}

/** The parameters a caller may not set through the `*Params` options: latchkey owns them. */
export const RESERVED_AUTHORIZATION_PARAMS: readonly string[] = [
  "client_id",
  "response_type",
  "redirect_uri",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
];

/**
 * Whether a URL's host is a loopback address (where plain HTTP is acceptable, S20): an address in
 * `127.0.0.0/8`, `[::1]` or the name `localhost`. Other `*.localhost` names do not count: a
 * resolver may send them to DNS (glibc does), so they are not known to stay on this machine.
 */
export function isLoopbackUrl(url: URL): boolean {
  return /^(127(\.\d+){3}|\[::1\]|localhost)$/.test(url.hostname);
}

/**
 * Parses and checks an endpoint URL: absolute, `https:` unless loopback or explicitly allowed,
 * no fragment. Messages name the option, never a query string (S42).
 */
export function checkEndpointUrl(value: string, what: string, allowInsecureHttp: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, `The ${what} is not an absolute URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `The ${what} must be an https URL (got ${url.protocol}).`,
    );
  }
  if (url.protocol === "http:" && !isLoopbackUrl(url) && !allowInsecureHttp) {
    throw new ConfigurationError(
      ErrorCode.INSECURE_ENDPOINT,
      `The ${what} (${url.origin}) uses plain HTTP, allowed only for loopback.`,
    );
  }
  if (url.hash) {
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, `The ${what} must not have a fragment.`);
  }
  // Credentials in a URL would be sent along and shown in messages; the message never repeats them.
  if (url.username || url.password) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      `The ${what} must not contain credentials.`,
    );
  }
  return url;
}

/** Checks that caller-supplied extra parameters do not override what latchkey owns. */
export function checkExtraParams(
  params: Readonly<Record<string, string>> | undefined,
  what: string,
): void {
  if (!params) return;
  for (const name of Object.keys(params)) {
    if (RESERVED_AUTHORIZATION_PARAMS.includes(name)) {
      throw new ConfigurationError(ErrorCode.CONFIG_INVALID, `The ${what} may not set "${name}".`);
    }
  }
}

/** @internal The oauth4webapi client object and client authentication for these options. */
export function toOauthClient(options: ClientOptions): {
  client: oauth.Client;
  auth: oauth.ClientAuth;
} {
  if (!options.clientId) {
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "A client id is required.");
  }
  const method: ClientAuthMethod =
    options.clientAuthMethod ??
    (options.clientSecret === undefined ? "none" : "client_secret_basic");
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (!(tolerance >= 0 && tolerance <= 300)) {
    throw new ConfigurationError(
      ErrorCode.CONFIG_INVALID,
      "The clock tolerance must be between 0 and 300 seconds.",
    );
  }
  const client: oauth.Client = { client_id: options.clientId, [oauth.clockTolerance]: tolerance };
  if (options.now) {
    // oauth4webapi's clock is in seconds: its skew is our clock minus the system's.
    client[oauth.clockSkew] = Math.round((options.now() - Date.now()) / 1000);
  }
  switch (method) {
    case "none":
      return { client, auth: bodyAuth() };
    case "client_secret_basic":
    case "client_secret_post": {
      if (options.clientSecret === undefined || options.clientSecret === "") {
        throw new ConfigurationError(
          ErrorCode.CONFIG_INVALID,
          `"${method}" needs a client secret.`,
        );
      }
      const auth =
        method === "client_secret_basic"
          ? clientSecretBasic(options.clientId, options.clientSecret)
          : bodyAuth(options.clientSecret);
      return { client, auth };
    }
    default: {
      const unknown: never = method;
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        `Unknown client authentication method "${String(unknown)}".`,
      );
    }
  }
}

/** `none` (S9) or `client_secret_post`: the client id, and the secret if any, in the body. */
function bodyAuth(secret?: string): oauth.ClientAuth {
  return (_as, client, body) => {
    body.set("client_id", client.client_id);
    if (secret !== undefined) body.set("client_secret", secret);
  };
}

/** Percent-encoding as Python's `urllib.parse.quote` does it (the reference's Basic header). */
function quote(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * `client_secret_basic` as the reference sends it and RFC 6749 §2.3.1 asks: id and secret
 * percent-encoded, then `Basic base64(id:secret)`. (`client_id`/`abc` → `Basic Y2xpZW50X2lkOmFiYw==`.)
 */
function clientSecretBasic(clientId: string, secret: string): oauth.ClientAuth {
  const credentials = `${quote(clientId)}:${quote(secret)}`;
  const bytes = new TextEncoder().encode(credentials);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const header = `Basic ${btoa(binary)}`;
  return (_as, _client, body, headers) => {
    body.delete("client_id");
    headers.set("authorization", header);
  };
}
