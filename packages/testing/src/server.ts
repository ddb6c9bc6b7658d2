import { type RegisteredClient, resolveConfig } from "./fake/config.js";
import type { ServerContext } from "./fake/context.js";
import { answerDevice } from "./fake/endpoints/device.js";
import { FaultStore, type LogContext } from "./fake/fault-store.js";
import { linkState } from "./fake/inspect.js";
import { issueTokens, newFamily } from "./fake/issue.js";
import { type Controls, createRouter } from "./fake/router.js";
import { FakeState } from "./fake/state.js";
import type {
  FakeAuthorizationServer,
  FakeAuthorizationServerOptions,
  FakeRequestFilter,
  FakeRequestLogEntry,
} from "./fake/types.js";
import { type FakeTokenResponse, issueTokensRequest } from "./issue-tokens.js";
import { createSigningKey } from "./tokens.js";

export { isDroppedConnection } from "./fake/fault-store.js";
export {
  defaultFakeClient,
  type FakeAuthorizationServer,
  type FakeAuthorizationServerOptions,
  type FakeClient,
  type FakeEndpoints,
  type FakeFetchInit,
  type FakeMiddleware,
  type FakeMiddlewareInfo,
  type FakeOverride,
  type FakeRequestFilter,
  type FakeRequestLogEntry,
  type FakeRotateKeysOptions,
  type FakeTokenEndpointAuthMethod,
  type FakeUser,
} from "./fake/types.js";
export type { FakeEndpoint } from "./faults.js";
export type { FakeSigningAlg } from "./tokens.js";

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
  const config = resolveConfig(options);
  const faults = new FaultStore();
  for (const fault of options.faults ?? []) {
    faults.add(fault);
  }
  const active = await createSigningKey(config.signingAlg);
  const keys = { active, published: [active], all: new Map([[active.kid, active]]) };
  const state = new FakeState(config);
  const server: ServerContext = { config, state, keys, faults };
  const controls: Controls = { middlewares: [], overrides: new Map() };
  const handle = createRouter(server, controls);
  const { requests } = state;
  const clientIds = Object.freeze([...config.clients.keys()]);

  const fake: FakeAuthorizationServer = {
    issuer: config.issuer,
    endpoints: config.endpoints,
    clientIds,
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
    count(endpoint, filter): number {
      return requests.filter((entry) => entry.endpoint === endpoint && matchesFilter(entry, filter))
        .length;
    },
    use(middleware): () => void {
      controls.middlewares.unshift(middleware);
      return () => {
        const index = controls.middlewares.indexOf(middleware);
        if (index >= 0) {
          controls.middlewares.splice(index, 1);
        }
      };
    },
    once(endpoint, override): void {
      const queue = controls.overrides.get(endpoint) ?? [];
      queue.push(override);
      controls.overrides.set(endpoint, queue);
    },
    setFault(fault, scope): void {
      faults.add(fault, scope);
    },
    clearFaults(name): void {
      faults.clear(name);
    },
    activeFaults() {
      return faults.active();
    },
    reset(): void {
      faults.clear();
      controls.middlewares.length = 0;
      controls.overrides.clear();
      requests.length = 0;
    },
    async rotateKeys(rotateOptions = {}): Promise<string> {
      const key = await createSigningKey(config.signingAlg);
      keys.all.set(key.kid, key);
      keys.published = rotateOptions.keepPrevious === false ? [key] : [key, ...keys.published];
      keys.active = key;
      return key.kid;
    },
    async issueTokens(mintOptions = {}) {
      const mint = issueTokensRequest(mintOptions, {
        subject: config.subject,
        clientIds: [...clientIds],
        hasUser: (sub) => config.users.has(sub),
      });
      const client = config.clients.get(mint.clientId) as RegisteredClient;
      const family = newFamily(
        server,
        client.clientId,
        mint.subject,
        mint.scope,
        Math.floor(config.now() / 1000),
      );
      const log: LogContext = { params: {}, grantType: undefined, faults: [], noFaults: true };
      const response = await issueTokens({ ...server, log }, client, family, {
        scope: mint.scope,
        nonce: mint.nonce,
        refreshToken: mint.refreshToken ? undefined : false,
        fromRefresh: false,
      });
      return (await response.json()) as FakeTokenResponse;
    },
    approveDevice(userCode, approveOptions = {}): void {
      const result = answerDevice(server, userCode, true, approveOptions.subject ?? config.subject);
      if (typeof result === "string") {
        throw new Error(`approveDevice: ${result}`);
      }
    },
    denyDevice(userCode): void {
      const result = answerDevice(server, userCode, false, config.subject);
      if (typeof result === "string") {
        throw new Error(`denyDevice: ${result}`);
      }
    },
  };
  linkState(fake, state);
  return fake;
}
