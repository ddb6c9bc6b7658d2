import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  type CredentialKey,
  type Credentials,
  ErrorCode,
  exchangeCode,
  type FetchLike,
  getAccessToken,
  LoginRequiredError,
  ProtocolError,
  parseStoredCredentials,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  serializeCredentials,
  type TokenStore,
  TransportError,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4000/tenant-a";
const REDIRECT = "http://127.0.0.1:53124/callback";

class TestStore implements TokenStore {
  readonly kind = "test";
  readonly records = new Map<string, string>();
  writes = 0;
  async get(key: CredentialKey): Promise<Credentials | undefined> {
    const text = this.records.get(JSON.stringify(key));
    return text === undefined ? undefined : parseStoredCredentials(text);
  }
  async set(key: CredentialKey, credentials: Credentials): Promise<void> {
    this.writes++;
    this.records.set(JSON.stringify(key), serializeCredentials(credentials));
  }
  async delete(key: CredentialKey): Promise<void> {
    this.records.delete(JSON.stringify(key));
  }
}

let idp: FakeAuthorizationServer;
let now: number;
let fetchImpl: FetchLike;
let client: ClientOptions;
beforeEach(async () => {
  now = Date.now();
  idp = await createFakeAuthorizationServer({
    issuer: ISSUER,
    accessTokenTtlSeconds: 600,
    now: () => now,
  });
  // The fake server as the transport, in memory: no socket.
  fetchImpl = (input, init) => idp.fetch(new Request(input, init));
  client = {
    issuer: ISSUER,
    clientId: "latchkey",
    scopes: ["openid"],
    fetch: (i, n) => fetchImpl(i, n),
    now: () => now,
  };
});

/** The user's browser: GET the authorization URL and return where it redirects to. */
async function authorize(url: URL): Promise<string> {
  const response = await idp.fetch(new Request(url));
  expect(response.status).toBe(302);
  return response.headers.get("location") as string;
}

async function login(): Promise<Credentials> {
  const server = await resolveServer(client);
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: REDIRECT,
  });
  const verdict = receiveCallback(state, await authorize(authorizationUrl));
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

describe("a whole login in memory against the fake server", () => {
  it("S19: discovers an issuer with a path (RFC 8414 first)", async () => {
    const server = await resolveServer(client);
    expect(server.issuer).toBe(ISSUER);
    expect(server.token_endpoint).toBe(`${ISSUER}/token`);
    expect(idp.requests[0]?.path).toBe("/.well-known/oauth-authorization-server/tenant-a");
  });

  it("S17 S21: logs in with PKCE, RFC 9207 iss and the ID-token nonce; credentials carry an absolute expiry", async () => {
    const credentials = await login();
    expect(credentials.tokenType).toBe("Bearer");
    expect(credentials.issuer).toBe(ISSUER);
    expect(credentials.expiresAt).toBe(now + 600_000);
    expect(credentials.refreshToken).toBeTruthy();
    expect(credentials.idToken).toBeTruthy();
    const token = idp.requests.find((r) => r.endpoint === "token");
    expect(token?.params).toMatchObject({
      grant_type: "authorization_code",
      redirect_uri: REDIRECT,
      client_id: "latchkey",
    });
    expect(Object.keys(token?.params ?? {}).sort()).toEqual([
      "client_id",
      "code",
      "code_verifier",
      "grant_type",
      "redirect_uri",
    ]);
  });

  it("defect 7: authorize parameters reach the token endpoint only when asked", async () => {
    client = {
      ...client,
      audience: "api",
      authorizationParams: { prompt: "consent" },
      tokenParams: { foo: "bar" },
    };
    await login();
    expect(idp.requests.find((r) => r.endpoint === "token")?.params).not.toHaveProperty("audience");
    expect(idp.requests.find((r) => r.endpoint === "token")?.params.foo).toBe("bar");
    idp.clearRequests();
    client = { ...client, copyAuthorizationParamsToTokenRequest: true };
    await login();
    expect(idp.requests.find((r) => r.endpoint === "token")?.params).toMatchObject({
      audience: "api",
      prompt: "consent",
      scope: "openid",
      foo: "bar",
    });
  });

  it("S18: a code delivered for one issuer is never sent to another", async () => {
    const server = await resolveServer(client);
    const { state, authorizationUrl } = await beginAuthorization({
      client,
      server,
      redirectUri: REDIRECT,
    });
    const verdict = receiveCallback(state, await authorize(authorizationUrl));
    if (verdict.outcome !== "accepted") throw verdict.error;
    idp.clearRequests();
    await expect(
      exchangeCode(verdict.next, {
        client,
        server: { ...server, issuer: "http://127.0.0.1:4000/tenant-b" },
      }),
    ).rejects.toMatchObject({ code: ErrorCode.ISS_MISMATCH });
    expect(idp.count("token")).toBe(0);
  });

  it("S2: replaying the code gives INVALID_GRANT", async () => {
    const server = await resolveServer(client);
    const { state, authorizationUrl } = await beginAuthorization({
      client,
      server,
      redirectUri: REDIRECT,
    });
    const verdict = receiveCallback(state, await authorize(authorizationUrl));
    if (verdict.outcome !== "accepted") throw verdict.error;
    await exchangeCode(verdict.next, { client, server });
    const error = await exchangeCode(verdict.next, { client, server }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      code: ErrorCode.INVALID_GRANT,
      oauth: { error: "invalid_grant", status: 400 },
    });
  });

  it("S37: refresh rotates the refresh token and keeps the ID token", async () => {
    const first = await login();
    const server = await resolveServer(client);
    now += 60_000;
    const second = await refreshCredentials(first, { client, server });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.expiresAt).toBe(now + 600_000);
    expect(second.idToken).toBeTruthy();
    const reused = await refreshCredentials(first, { client, server }).catch((e: unknown) => e);
    expect(reused).toMatchObject({ code: ErrorCode.INVALID_GRANT });
  });
});

describe("getAccessToken", () => {
  const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };

  it("returns a valid stored token without any request", async () => {
    const store = new TestStore();
    await store.set(key, await login());
    idp.clearRequests();
    const result = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
    });
    expect(result.source).toBe("store");
    expect(idp.requests).toHaveLength(0);
  });

  it("S36 S37: refreshes a token that expires within the minimum validity and persists the rotated token first", async () => {
    const store = new TestStore();
    const original = await login();
    await store.set(key, original);
    now += 570_000; // 30 s left, less than the 60 s default
    const result = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
    });
    expect(result.source).toBe("refresh");
    const stored = await store.get(key);
    expect(stored?.refreshToken).toBe(result.credentials.refreshToken);
    expect(stored?.refreshToken).not.toBe(original.refreshToken);
  });

  it("S33: a network failure during refresh keeps the stored credentials", async () => {
    const store = new TestStore();
    const original = await login();
    await store.set(key, original);
    now += 601_000; // expired: no valid token remains to fall back on
    fetchImpl = () =>
      Promise.reject(
        new TypeError("fetch failed", {
          cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
        }),
      );
    const error = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
      login,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCode.NETWORK_ERROR });
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect(await store.get(key)).toEqual(original);
  });

  it("S33: a 5xx during refresh keeps the stored credentials (defect 10)", async () => {
    const store = new TestStore();
    const original = await login();
    await store.set(key, original);
    now += 601_000; // expired: no valid token remains to fall back on
    const real = fetchImpl;
    fetchImpl = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      return url.endsWith("/token")
        ? new Response("<html>Bad gateway</html>", {
            status: 502,
            headers: { "content-type": "text/html" },
          })
        : real(input, init);
    };
    await expect(
      getAccessToken({ store, key, client, server: () => resolveServer(client) }),
    ).rejects.toMatchObject({ code: ErrorCode.SERVER_ERROR });
    expect(await store.get(key)).toEqual(original);
  });

  it("S41: a dead refresh token is dropped, never retried, and a login follows", async () => {
    const store = new TestStore();
    const original = await login();
    await refreshCredentials(original, { client, server: await resolveServer(client) }); // rotates: original's token is now consumed
    await store.set(key, original);
    now += 590_000;
    idp.clearRequests();
    let logins = 0;
    const result = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
      login: () => {
        logins++;
        return login();
      },
    });
    expect(result.source).toBe("login");
    expect(logins).toBe(1);
    expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
  });

  it("S41: invalid_grant without a login allowed clears the refresh token and says LOGIN_REQUIRED next time", async () => {
    const store = new TestStore();
    const original = await login();
    await refreshCredentials(original, { client, server: await resolveServer(client) });
    await store.set(key, original);
    now += 590_000;
    await expect(
      getAccessToken({ store, key, client, server: () => resolveServer(client) }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_GRANT });
    expect((await store.get(key))?.refreshToken).toBeUndefined();
    const next = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
    }).catch((e: unknown) => e);
    expect(next).toBeInstanceOf(LoginRequiredError);
  });

  it("S41: when another process rotated the token meanwhile, retries exactly once with the new one", async () => {
    const store = new TestStore();
    const original = await login();
    const server = await resolveServer(client);
    const rotated = await refreshCredentials(original, { client, server }); // "another process"
    await store.set(key, rotated);
    now += 590_000;
    // This process read the record before the other one wrote: its first read is stale.
    let reads = 0;
    const stale: TokenStore = {
      kind: "stale",
      get: async (k) => (reads++ === 0 ? original : store.get(k)),
      set: (k, c) => store.set(k, c),
      delete: (k) => store.delete(k),
    };
    idp.clearRequests();
    // The fake server revokes the whole family on reuse (S3), so the retry fails too: that is
    // why S40's lock exists. What S41 guarantees here: one retry with the newer token, no loop.
    const error = await getAccessToken({
      store: stale,
      key,
      client,
      server: () => resolveServer(client),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_GRANT });
    const refreshes = idp.requests.filter(
      (r) => r.endpoint === "token" && r.grantType === "refresh_token",
    );
    expect(refreshes.map((r) => r.params.refresh_token)).toEqual([
      original.refreshToken,
      rotated.refreshToken,
    ]);
    expect((await store.get(key))?.refreshToken).toBeUndefined();
  });

  it("S40: with a lock, the store is re-read once it is held and a refresh done elsewhere is used", async () => {
    const store = new TestStore();
    const original = await login();
    await store.set(key, original);
    now += 590_000;
    const events: string[] = [];
    const lock = {
      acquire: async () => {
        events.push("acquire");
        // While this process waited, "another process" refreshed and persisted.
        const server = await resolveServer(client);
        await store.set(key, await refreshCredentials(original, { client, server }));
        return async () => {
          events.push("release");
        };
      },
    };
    idp.clearRequests();
    const result = await getAccessToken({
      store,
      key,
      client,
      server: () => resolveServer(client),
      lock,
    });
    expect(result.source).toBe("store");
    expect(result.credentials.accessToken).not.toBe(original.accessToken);
    expect(events).toEqual(["acquire", "release"]);
    expect(idp.count("token", { grantType: "refresh_token" })).toBe(1); // only the other process's
  });

  it("S40: the lock is released when the refresh fails", async () => {
    const store = new TestStore();
    await store.set(key, await login());
    now += 601_000; // expired: no valid token remains to fall back on
    fetchImpl = () => Promise.reject(new TypeError("fetch failed"));
    let released = 0;
    const lock = { acquire: async () => async () => void released++ };
    await expect(
      getAccessToken({ store, key, client, server: () => resolveServer(client), lock }),
    ).rejects.toBeInstanceOf(TransportError);
    expect(released).toBe(1);
  });

  it("concurrent callers in one process share one refresh", async () => {
    const store = new TestStore();
    await store.set(key, await login());
    now += 590_000;
    idp.clearRequests();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        getAccessToken({ store, key, client, server: () => resolveServer(client) }),
      ),
    );
    expect(new Set(results.map((r) => r.credentials.accessToken)).size).toBe(1);
    expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
  });
});
