// Issue 12, points 1–3: what a refused or failed refresh does to the stored credentials.
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeFaultName,
} from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  type CredentialKey,
  type Credentials,
  clientCredentialsGrant,
  ErrorCode,
  exchangeCode,
  exchangeToken,
  type FetchLike,
  getAccessToken,
  ProtocolError,
  parseStoredCredentials,
  pollDeviceAuthorization,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  revokeToken,
  serializeCredentials,
  startDeviceAuthorization,
  type TokenStore,
  TransportError,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4100/issue-12";
const REDIRECT = "http://127.0.0.1:53125/callback";
const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };

/** A store that keeps what a real one keeps: the serialized record. */
class RecordStore implements TokenStore {
  readonly kind = "test";
  record: string | undefined;
  async get(): Promise<Credentials | undefined> {
    return this.record === undefined ? undefined : parseStoredCredentials(this.record);
  }
  async set(_key: CredentialKey, credentials: Credentials): Promise<void> {
    this.record = serializeCredentials(credentials);
  }
  async delete(): Promise<void> {
    this.record = undefined;
  }
}

let idp: FakeAuthorizationServer;
let now: number;
let client: ClientOptions;
let store: RecordStore;
let original: Credentials;
let fetchImpl: FetchLike;

beforeEach(async () => {
  now = Date.now();
  idp = await createFakeAuthorizationServer({
    issuer: ISSUER,
    accessTokenTtlSeconds: 600,
    now: () => now,
    deviceAutoApprove: true,
    clients: [{ clientId: "latchkey" }, { clientId: "service", clientSecret: "service-secret" }],
  });
  fetchImpl = (input, init) => idp.fetch(new Request(input, init));
  client = {
    issuer: ISSUER,
    clientId: "latchkey",
    scopes: ["openid"],
    fetch: (input, init) => fetchImpl(input, init),
    now: () => now,
  };
  store = new RecordStore();
  original = await login();
  await store.set(key, original);
});

async function login(): Promise<Credentials> {
  const server = await resolveServer(client);
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

const options = (extra: Partial<Parameters<typeof getAccessToken>[0]> = {}) => ({
  store,
  key,
  client,
  server: () => resolveServer(client),
  ...extra,
});

describe("point 1: a 400/401 without an OAuth body is a refused grant", () => {
  const REFUSAL_FAULTS: FakeFaultName[] = ["token:400-empty", "token:401-empty", "token:400-html"];

  for (const fault of REFUSAL_FAULTS) {
    it(`${fault}: refreshCredentials throws INVALID_GRANT (not SERVER_ERROR)`, async () => {
      idp.setFault(fault, { times: 1 });
      const error = await refreshCredentials(original, {
        client,
        server: await resolveServer(client),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_GRANT });
    });

    it(`${fault}: getAccessToken drops the refresh token, keeps the rest, never retries it`, async () => {
      now += 601_000;
      idp.setFault(fault);
      await expect(getAccessToken(options())).rejects.toMatchObject({
        code: ErrorCode.INVALID_GRANT,
      });
      const { refreshToken: _dropped, ...rest } = original;
      expect(await store.get()).toEqual(rest);
      expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
    });
  }

  it("token:400-empty with a login allowed: a new login follows", async () => {
    now += 601_000;
    idp.setFault("token:400-empty", { times: 1 });
    const result = await getAccessToken(options({ login }));
    expect(result.source).toBe("login");
    expect((await store.get())?.refreshToken).toBe(result.credentials.refreshToken);
  });

  for (const [fault, code] of [
    ["token:5xx", "SERVER_ERROR"],
    ["token:html-error", "SERVER_ERROR"],
    ["token:drop", "NETWORK_ERROR"],
  ] as const) {
    it(`${fault} stays transient: TransportError ${code}, the store byte-identical`, async () => {
      now += 601_000;
      const before = store.record;
      idp.setFault(fault);
      const error = await getAccessToken(options({ login })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code });
      expect(store.record).toBe(before);
    });
  }

  it("429 and a proxy's 407 stay transient, with or without an OAuth body", async () => {
    now += 601_000;
    const before = store.record;
    for (const answer of [
      () => Response.json({ error: "slow_down" }, { status: 429 }),
      () => new Response("<html>Proxy Authentication Required</html>", { status: 407 }),
    ]) {
      idp.once("token", answer());
      const error = await getAccessToken(options({ login })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
    }
    expect(store.record).toBe(before);
  });

  it("siblings: client credentials and token exchange are refused, not retryable", async () => {
    const service: ClientOptions = {
      ...client,
      clientId: "service",
      clientSecret: "service-secret",
    };
    const server = await resolveServer(service);
    idp.setFault("token:400-empty", { times: 1 });
    await expect(clientCredentialsGrant({ client: service, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
    idp.setFault("token:401-empty", { times: 1 });
    await expect(
      exchangeToken({ client, server, subjectToken: original.accessToken }),
    ).rejects.toBeInstanceOf(ProtocolError);
  });

  it("sibling: device polling stops at a bodyless 400 instead of polling on", async () => {
    const server = await resolveServer(client);
    const authorization = await startDeviceAuthorization({ client, server });
    idp.setFault("token:400-empty", { times: 1 });
    let polls = 0;
    const error = await pollDeviceAuthorization(authorization, {
      client,
      server,
      sleep: async () => {},
      onPoll: () => void polls++,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_GRANT });
    expect(polls).toBe(1);
  });

  it("sibling: a bodyless 400 from the revocation endpoint is a refusal, a 503 is not", async () => {
    const server = await resolveServer(client);
    idp.once("revocation", new Response(null, { status: 400 }));
    const refused = await revokeToken({ client, server, token: "x" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProtocolError);
    idp.setFault("revocation:5xx", { times: 1 });
    const failed = await revokeToken({ client, server, token: "x" }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(TransportError);
  });
});

describe("point 2: a refused refresh answer keeps the rotated refresh token", () => {
  for (const fault of ["refresh:id_token-other-sub", "id_token:bad-signature"] as const) {
    it(`${fault}: INVALID_ID_TOKEN; the new refresh token is stored, the next refresh succeeds, no family revoked`, async () => {
      now += 601_000;
      idp.setFault(fault, { times: 1 });
      await expect(getAccessToken(options({ login }))).rejects.toMatchObject({
        code: ErrorCode.INVALID_ID_TOKEN,
      });
      const kept = await store.get();
      expect(kept?.refreshToken).toBeTruthy();
      expect(kept?.refreshToken).not.toBe(original.refreshToken);
      // The refused access and ID tokens are not stored; the old ID token stays the reference.
      expect(kept).toMatchObject({ accessToken: original.accessToken, idToken: original.idToken });
      expect(kept?.expiresAt).toBeLessThanOrEqual(now);

      const next = await getAccessToken(options());
      expect(next.source).toBe("refresh");
      expect(idp.requests.filter((r) => r.endpoint === "token").map((r) => r.status)).toEqual([
        200, 200, 200,
      ]);
      // The family is alive: its newest refresh token still works.
      const again = await refreshCredentials(next.credentials, {
        client,
        server: await resolveServer(client),
      });
      expect(again.accessToken).toBeTruthy();
    });
  }

  it("refreshCredentials hands the rotated token to saveRotated, only when it is well-formed", async () => {
    const server = await resolveServer(client);
    const saved: Credentials[] = [];
    const saveRotated = async (credentials: Credentials) => void saved.push(credentials);
    // A response without access_token: refused (INVALID_RESPONSE) after the server rotated.
    const breakResponse = (refreshToken: unknown) =>
      idp.use(async (_request, next, info) => {
        const response = await next();
        if (info.endpoint !== "token") return response;
        const body = await response.json();
        return Response.json({ ...body, access_token: undefined, refresh_token: refreshToken });
      });
    for (const bad of ["line\nbreak", "", 42, "caf\u00e9"]) {
      const remove = breakResponse(bad);
      await expect(
        refreshCredentials(original, { client, server, saveRotated }),
      ).rejects.toBeInstanceOf(ProtocolError);
      remove();
    }
    expect(saved).toEqual([]);
    const remove = breakResponse("rotated-token-1");
    const error = await refreshCredentials(original, { client, server, saveRotated }).catch(
      (e: unknown) => e,
    );
    remove();
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    expect(saved).toEqual([{ ...original, refreshToken: "rotated-token-1", expiresAt: now }]);
    expect(JSON.stringify(error)).not.toContain("rotated-token-1");
  });
});

describe("point 3: a transient failure of a proactive refresh returns the still-valid token", () => {
  for (const [fault, code] of [
    ["token:5xx", "SERVER_ERROR"],
    ["token:drop", "NETWORK_ERROR"],
  ] as const) {
    it(`${fault} with 10 min left and a 1 h minimum: the stored token, with refreshError`, async () => {
      const before = store.record;
      idp.setFault(fault);
      const result = await getAccessToken(options({ minValiditySeconds: 3600, login }));
      expect(result.source).toBe("store");
      expect(result.credentials).toEqual(original);
      expect(result.refreshError).toBeInstanceOf(TransportError);
      expect(result.refreshError?.code).toBe(code);
      expect(store.record).toBe(before);
      expect(idp.count("token", { grantType: "authorization_code" })).toBe(1); // no login
    });
  }

  it("forceRefresh (latchkey refresh) still throws the transient error", async () => {
    idp.setFault("token:5xx");
    await expect(getAccessToken(options({ forceRefresh: true }))).rejects.toMatchObject({
      code: ErrorCode.SERVER_ERROR,
    });
  });

  it("an expired token is not returned: the transient error is thrown", async () => {
    now += 600_000;
    idp.setFault("token:5xx");
    await expect(getAccessToken(options({ minValiditySeconds: 3600 }))).rejects.toMatchObject({
      code: ErrorCode.SERVER_ERROR,
    });
  });

  it("a cancelled refresh is not a transient failure: ABORTED is thrown", async () => {
    const controller = new AbortController();
    fetchImpl = () => {
      controller.abort();
      return Promise.reject(new DOMException("This operation was aborted", "AbortError"));
    };
    await expect(
      getAccessToken(options({ minValiditySeconds: 3600, signal: controller.signal })),
    ).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});
