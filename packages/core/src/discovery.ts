import type * as oauth from "oauth4webapi";
import { type ClientOptions, checkEndpointUrl } from "./config.js";
import { ConfigurationError, ErrorCode, ProtocolError, TransportError } from "./errors.js";
import { clientTransport, httpGet, readJson } from "./http.js";
import { redactUrl } from "./redact.js";
import { tableFor } from "./tables.js";

/**
 * What latchkey knows about an authorization server: its metadata (RFC 8414 names), discovered
 * and/or given explicitly. Plain JSON, so it can be cached or kept across a browser redirect.
 */
export type ServerMetadata = oauth.AuthorizationServer;

/** Options of {@link resolveServer}. */
export interface ResolveServerOptions {
  /** Cancels discovery. */
  signal?: AbortSignal;
  /** Reuse a document discovered in this process in the last 10 minutes. Default true. */
  cache?: boolean;
}

const CACHE_TTL_MS = 10 * 60 * 1000;
// Per transport, then per issuer: a document found through one fetch is not reused for another.
const discoveryCache = new WeakMap<object, Map<string, { at: number; metadata: ServerMetadata }>>();

/**
 * Finds the authorization server's endpoints: discovery from `issuer` (RFC 8414
 * `/.well-known/oauth-authorization-server` first, then OpenID `/.well-known/openid-configuration`,
 * issuers with a path included), then the explicit endpoints on top. The discovered document's
 * `issuer` must equal the configured one (S19). Every endpoint must be https or loopback (S20).
 * Results are cached per transport and issuer for ten minutes.
 *
 * Implements {@link https://www.rfc-editor.org/rfc/rfc8414#section-3 | RFC 8414 §3} (with the issuer check of {@link https://www.rfc-editor.org/rfc/rfc8414#section-3.3 | RFC 8414 §3.3}) and
 * {@link https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig | OpenID Connect Discovery §4}.
 *
 * @throws {@link ConfigurationError} `CONFIG_INVALID` (no issuer and no explicit endpoints, a URL
 * that is not absolute), `INSECURE_ENDPOINT`, `DISCOVERY_FAILED` (no metadata at either address).
 * @throws {@link ProtocolError} `DISCOVERY_ISSUER_MISMATCH`.
 * @throws {@link TransportError} `NETWORK_ERROR`, `SERVER_ERROR`, `TIMEOUT`, `ABORTED`; `DISCOVERY_FAILED` when the published metadata cannot be used.
 *
 * @example
 * ```ts
 * const server = await resolveServer({ issuer: "https://login.example.com", clientId: "cli" });
 * ```
 */
export async function resolveServer(
  options: ClientOptions,
  callOptions: ResolveServerOptions = {},
): Promise<ServerMetadata> {
  const insecure = options.allowInsecureHttp ?? false;
  let metadata: ServerMetadata | undefined;
  if (options.issuer !== undefined) {
    const issuer = checkEndpointUrl(options.issuer, "issuer", insecure);
    if (issuer.search) {
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        "The issuer must not have a query string.",
      );
    }
    const perTransport = tableFor(discoveryCache, options.fetch);
    const now = (options.now ?? Date.now)();
    const cached = callOptions.cache === false ? undefined : perTransport.get(issuer.href);
    if (cached && now - cached.at < CACHE_TTL_MS) {
      metadata = cached.metadata;
    } else {
      metadata = await discover(issuer, options, callOptions.signal);
      perTransport.set(issuer.href, { at: now, metadata });
    }
  }
  // The explicit endpoints, under their RFC 8414 names (tokenEndpoint → token_endpoint).
  const explicit: Record<string, string> = {};
  for (const option of [
    "authorizationEndpoint",
    "tokenEndpoint",
    "revocationEndpoint",
    "deviceAuthorizationEndpoint",
  ] as const) {
    const value = options[option];
    if (value !== undefined) explicit[option.replace(/[A-Z]/g, "_$&").toLowerCase()] = value;
  }
  if (!metadata) {
    if (explicit.token_endpoint === undefined) {
      throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "Give an issuer or a token endpoint.");
    }
    metadata = { issuer: new URL(explicit.token_endpoint).origin };
  }
  const merged: ServerMetadata = { ...metadata, ...explicit };
  for (const name of [
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "device_authorization_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "pushed_authorization_request_endpoint",
  ] as const) {
    const value = merged[name];
    if (value !== undefined) checkEndpointUrl(value, name.replaceAll("_", " "), insecure);
  }
  if (!merged.token_endpoint) {
    throw new TransportError(
      ErrorCode.DISCOVERY_FAILED,
      `The metadata of ${redactUrl(merged.issuer)} has no token endpoint.`,
    );
  }
  return merged;
}

async function discover(
  issuer: URL,
  options: ClientOptions,
  signal: AbortSignal | undefined,
): Promise<ServerMetadata> {
  const transport = clientTransport(options, signal);
  const path = issuer.pathname.replace(/\/$/, "");
  // RFC 8414 §3.1 inserts its well-known path before the issuer's; OpenID appends its own.
  for (const wellKnown of [
    `/.well-known/oauth-authorization-server${path}`,
    `${path}/.well-known/openid-configuration`,
  ]) {
    const response = await httpGet(transport, new URL(wellKnown, issuer).href, {
      accept: "application/json",
    });
    if (response.status === 404) continue;
    const metadata = response.status === 200 ? await readJson(response, "discovery request") : {};
    if (typeof metadata.issuer !== "string") {
      throw new TransportError(
        ErrorCode.DISCOVERY_FAILED,
        `${redactUrl(issuer)} (HTTP ${response.status}) gave no metadata.`,
      );
    }
    // RFC 8414 §3.3: identical strings, not URLs that normalise alike (`<issuer>/x/..`); only the
    // trailing slash a URL adds to an origin may differ from what was configured.
    if (metadata.issuer !== issuer.href && `${metadata.issuer}/` !== issuer.href) {
      throw new ProtocolError(
        ErrorCode.DISCOVERY_ISSUER_MISMATCH,
        `The discovery document of ${redactUrl(issuer)} names another issuer.`,
      );
    }
    return metadata as ServerMetadata;
  }
  throw new ConfigurationError(
    ErrorCode.DISCOVERY_FAILED,
    `No metadata found for ${redactUrl(issuer)} (RFC 8414 or OpenID).`,
  );
}
