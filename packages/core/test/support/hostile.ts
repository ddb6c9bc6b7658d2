// The fixture of the hostile-token tests (issue 13): the fake server in memory, its answers
// rewritten by a middleware as a hostile server would send them, and a store that writes only
// what it reads back. Exported bindings are live: `setUp` and `startSession` replace them.
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeAuthorizationServerOptions,
  type FakeEndpoint,
} from "@latchkey/testing";
import {
  beginAuthorization,
  type ClientOptions,
  type CredentialKey,
  type Credentials,
  decodeJwtClaims,
  exchangeCode,
  getAccessToken,
  parseStoredCredentials,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  type ServerMetadata,
  serializeCredentials,
  type TokenStore,
} from "../../src/index.js";
import { b64u } from "./jws.js";

export const ISSUER = "http://127.0.0.1:4113/issue-13";
const REDIRECT = "http://127.0.0.1:53113/callback";
export const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };
export const TEN_YEARS_MS = 315_360_000_000;

/** A store that writes only what it can read back, as the real stores do (serializeForStore). */
export class RecordStore implements TokenStore {
  readonly kind = "test";
  record: string | undefined;
  async get(): Promise<Credentials | undefined> {
    return this.record === undefined ? undefined : parseStoredCredentials(this.record);
  }
  async set(_key: CredentialKey, credentials: Credentials): Promise<void> {
    const text = serializeCredentials(credentials);
    parseStoredCredentials(text);
    this.record = text;
  }
  async delete(): Promise<void> {
    this.record = undefined;
  }
}

export let idp: FakeAuthorizationServer;
export let now: number;
export let client: ClientOptions;
export let server: ServerMetadata;
export let store: RecordStore;
export let original: Credentials;

/** Moves the clock of the server and the client. */
export function advance(ms: number): void {
  now += ms;
}

/**
 * A new fake server (`latchkey` public, `service` confidential) and a client with its own fetch
 * function (key sets are cached per fetch function).
 */
export async function setUp(options: Partial<FakeAuthorizationServerOptions> = {}): Promise<void> {
  now ??= Date.now();
  idp = await createFakeAuthorizationServer({
    issuer: ISSUER,
    now: () => now,
    clients: [{ clientId: "latchkey" }, { clientId: "service", clientSecret: "service-secret" }],
    ...options,
  });
  client = {
    issuer: ISSUER,
    clientId: "latchkey",
    scopes: ["openid"],
    fetch: (input, init) => idp.fetch(new Request(input, init)),
    now: () => now,
  };
  server = await resolveServer(client);
}

/** A fresh clock, server and store holding the credentials of a login (`original`). */
export async function startSession(): Promise<void> {
  now = Date.now();
  await setUp();
  store = new RecordStore();
  original = await login();
  await store.set(key, original);
}

/** A whole code-flow login against the fake server. */
export async function login(): Promise<Credentials> {
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: REDIRECT,
  });
  const location = (await idp.fetch(new Request(authorizationUrl))).headers.get("location");
  const verdict = receiveCallback(state, location as string);
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

/**
 * Rewrites the body of every successful answer of `endpoint` (default: the token endpoint);
 * `seen` collects the bodies as the server sent them.
 */
export function rewrite(
  change: (
    body: Record<string, unknown>,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>,
  endpoint: FakeEndpoint = "token",
  seen: Record<string, unknown>[] = [],
): () => void {
  return idp.use(async (_request, next, info) => {
    const response = await next();
    if (info.endpoint !== endpoint || response.status !== 200) return response;
    const body = (await response.json()) as Record<string, unknown>;
    seen.push(body);
    return Response.json(await change({ ...body }), { headers: { "cache-control": "no-store" } });
  });
}

/** Credentials of a new session (minted, no request): refresh tokens rotate, each is used once. */
async function fresh(): Promise<Credentials> {
  const minted = await idp.issueTokens({ clientId: "latchkey", scope: "openid" });
  return {
    ...original,
    refreshToken: minted.refresh_token as string,
    idToken: minted.id_token as string,
  };
}

/** refreshCredentials on a new session. */
export const refresh = async (
  saveRotated?: (c: Credentials) => Promise<void>,
): Promise<Credentials> =>
  refreshCredentials(
    await fresh(),
    saveRotated ? { client, server, saveRotated } : { client, server },
  );

/** getAccessToken with forceRefresh on the stored session. */
export const refreshStored = (): ReturnType<typeof getAccessToken> =>
  getAccessToken({ store, key, client, server: async () => server, forceRefresh: true });

/** A copy of `idToken` whose `sub` is `mallory` and whose payload holds a U+00A0. */
export function forge(idToken: string): string {
  const [head, , signature] = idToken.split(".");
  const payload = b64u(JSON.stringify({ ...decodeJwtClaims(idToken), sub: "mallory" }));
  return `${head}.${payload.slice(0, 8)}\u00a0${payload.slice(8)}.${signature}`;
}
