import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  type CredentialKey,
  type Credentials,
  createAuthorizedFetch,
  ErrorCode,
  exchangeCode,
  fetchUserInfo,
  parseStoredCredentials,
  receiveCallback,
  resolveServer,
  serializeCredentials,
  type TokenStore,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4300";
const API = "http://127.0.0.1:4301/me";
let idp: FakeAuthorizationServer;
let client: ClientOptions;
let apiRequests: Request[];
let rejectToken: string | undefined;

beforeEach(async () => {
  idp = await createFakeAuthorizationServer({ issuer: ISSUER });
  apiRequests = [];
  rejectToken = undefined;
  client = {
    issuer: ISSUER,
    clientId: "latchkey",
    scopes: ["openid"],
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith("http://127.0.0.1:4301/")) {
        // A resource server: rejects the token it was told to, as an expired one would be.
        apiRequests.push(request);
        const token = request.headers.get("authorization")?.replace(/^Bearer /, "");
        return token === rejectToken
          ? new Response(null, {
              status: 401,
              headers: { "www-authenticate": 'Bearer error="invalid_token"' },
            })
          : Response.json({ ok: true });
      }
      return idp.fetch(request);
    },
  };
});

async function login(): Promise<Credentials> {
  const server = await resolveServer(client);
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: "http://127.0.0.1:5/callback",
  });
  const verdict = receiveCallback(
    state,
    (await idp.fetch(new Request(authorizationUrl))).headers.get("location") as string,
  );
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

function memoryStore(): TokenStore {
  const map = new Map<string, string>();
  return {
    kind: "test",
    get: async (k) =>
      map.has(JSON.stringify(k))
        ? parseStoredCredentials(map.get(JSON.stringify(k)) as string)
        : undefined,
    set: async (k, c) => void map.set(JSON.stringify(k), serializeCredentials(c)),
    delete: async (k) => void map.delete(JSON.stringify(k)),
  };
}

describe("bearer use (S34, S35)", () => {
  const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };

  it("S34: the access token travels only in the Authorization header", async () => {
    const store = memoryStore();
    const credentials = await login();
    await store.set(key, credentials);
    const api = createAuthorizedFetch({ store, key, client, server: () => resolveServer(client) });
    const response = await api(`${API}?x=1`);
    expect(response.status).toBe(200);
    const sent = apiRequests[0] as Request;
    expect(sent.headers.get("authorization")).toBe(`Bearer ${credentials.accessToken}`);
    expect(sent.url).not.toContain(credentials.accessToken);
  });

  it('S35: 401 Bearer error="invalid_token" refreshes once and retries once', async () => {
    const store = memoryStore();
    const credentials = await login();
    await store.set(key, credentials);
    rejectToken = credentials.accessToken;
    const api = createAuthorizedFetch({ store, key, client, server: () => resolveServer(client) });
    const response = await api(API);
    expect(response.status).toBe(200);
    expect(apiRequests).toHaveLength(2);
    expect(idp.count("token", { grantType: "refresh_token" })).toBe(1);
    expect((await store.get(key))?.accessToken).not.toBe(credentials.accessToken);
  });

  it("S35: never more than one retry", async () => {
    const store = memoryStore();
    await store.set(key, await login());
    // A resource server that keeps saying invalid_token, whatever token comes.
    const original = client.fetch as NonNullable<ClientOptions["fetch"]>;
    client.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith("http://127.0.0.1:4301/")) {
        apiRequests.push(request);
        return new Response(null, {
          status: 401,
          headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        });
      }
      return original(request);
    };
    const retrying = createAuthorizedFetch({
      store,
      key,
      client,
      server: () => resolveServer(client),
    });
    expect((await retrying(API)).status).toBe(401);
    expect(apiRequests).toHaveLength(2);
  });
});

describe("UserInfo (S47)", () => {
  it("returns the claims when sub matches the ID token's", async () => {
    const credentials = await login();
    const claims = await fetchUserInfo({
      client,
      server: await resolveServer(client),
      credentials,
    });
    expect(claims.sub).toBe("alice");
  });

  it("S47: a UserInfo sub other than the ID token's is discarded", async () => {
    const credentials = await login();
    idp.setFault("userinfo:sub-mismatch");
    await expect(
      fetchUserInfo({ client, server: await resolveServer(client), credentials }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });
});
