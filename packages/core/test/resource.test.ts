import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  authorizationHeader,
  beginAuthorization,
  type ClientOptions,
  ConfigurationError,
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
import * as storeEntry from "../src/store.js";

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

describe("authorizationHeader: the one place a token becomes a header (RFC 6750 §2.1)", () => {
  const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };

  it("gives Bearer <token> for a Bearer token type in any case, b64token and VSCHAR tokens alike", () => {
    for (const tokenType of ["Bearer", "bearer", "BEARER"]) {
      expect(authorizationHeader({ tokenType, accessToken: "abc.DEF-_~+/==" })).toBe(
        "Bearer abc.DEF-_~+/==",
      );
    }
    const request = new Request(API, { method: "POST" });
    expect(
      authorizationHeader({ tokenType: "Bearer", accessToken: "!#$%&*:;<>?@[]^`{|}" }, request),
    ).toBe("Bearer !#$%&*:;<>?@[]^`{|}");
    // The same function in @latchkey/core/store, the entry the CLI's hot path loads.
    expect(storeEntry.authorizationHeader).toBe(authorizationHeader);
  });

  const secret = "s3cr3t-token";
  const REFUSED: [string, { tokenType: string; accessToken: string }][] = [
    ["a DPoP token (not sendable as a bearer token)", { tokenType: "DPoP", accessToken: secret }],
    ["a MAC token", { tokenType: "mac", accessToken: secret }],
    ["an empty token type", { tokenType: "", accessToken: secret }],
    ["a token type with a prefix", { tokenType: "xBearer", accessToken: secret }],
    [
      "a line break (header injection)",
      { tokenType: "Bearer", accessToken: `${secret}\r\nX-Injected: 1` },
    ],
    ["a space", { tokenType: "Bearer", accessToken: `${secret} more` }],
    ["a control character", { tokenType: "Bearer", accessToken: `${secret}\u001b[2J` }],
    ["a character outside ASCII", { tokenType: "Bearer", accessToken: `${secret}\u00e9` }],
    ["an empty token", { tokenType: "Bearer", accessToken: "" }],
    ["a token over 64 KiB", { tokenType: "Bearer", accessToken: "A".repeat(65_537) }],
  ];
  for (const [name, credentials] of REFUSED) {
    it(`refuses ${name}: ConfigurationError CONFIG_INVALID, the token never quoted`, () => {
      let error: unknown;
      try {
        authorizationHeader(credentials);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: ErrorCode.CONFIG_INVALID });
      expect((error as Error).message).not.toContain(secret);
      expect((error as Error).message).not.toContain("AAAA");
    });
  }

  it("createAuthorizedFetch and fetchUserInfo send nothing for credentials they cannot send", async () => {
    const store = memoryStore();
    const credentials = { ...(await login()), tokenType: "DPoP" };
    await store.set(key, credentials);
    const api = createAuthorizedFetch({ store, key, client, server: () => resolveServer(client) });
    await expect(api(API)).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    expect(apiRequests).toHaveLength(0);
    const userinfo = idp.count("userinfo");
    await expect(
      fetchUserInfo({ client, server: await resolveServer(client), credentials }),
    ).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    expect(idp.count("userinfo")).toBe(userinfo);
  });
});
