// The OpenID RP conformance cases of docs/threat-model.md that a fake OP can reproduce offline: each makes
// the client fail with a specific error code, and the fake OP sees no further request.
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeFaultName,
} from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  type Credentials,
  ErrorCode,
  exchangeCode,
  receiveCallback,
  refreshCredentials,
  resolveServer,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4100";
const REDIRECT = "http://127.0.0.1:53124/callback";
let idp: FakeAuthorizationServer;
let client: ClientOptions;

async function setUp(
  options: Partial<Parameters<typeof createFakeAuthorizationServer>[0]> = {},
): Promise<void> {
  idp = await createFakeAuthorizationServer({ issuer: ISSUER, ...options });
  const fetchImpl = (input: string | URL | Request, init?: RequestInit) =>
    idp.fetch(new Request(input, init));
  client = { issuer: ISSUER, clientId: "latchkey", scopes: ["openid"], fetch: fetchImpl };
}
beforeEach(async () => setUp());

async function login(): Promise<Credentials> {
  const server = await resolveServer(client);
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: REDIRECT,
  });
  const location = (await idp.fetch(new Request(authorizationUrl))).headers.get(
    "location",
  ) as string;
  const verdict = receiveCallback(state, location);
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

async function failsWith(fault: FakeFaultName, code: string): Promise<void> {
  idp.setFault(fault);
  const error = await login().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, fault).toMatchObject({ code });
  const last = idp.requests.at(-1);
  expect(last?.endpoint, `${fault}: nothing after the failing step`).not.toBe("userinfo");
}

describe("ID token (S43, S44)", () => {
  const cases: [FakeFaultName, string][] = [
    ["id_token:bad-signature", "bad signature"],
    ["id_token:alg-none", "alg none"],
    ["id_token:hs256-client-id", "HS256 signed with the client id"],
    ["id_token:wrong-iss", "wrong iss"],
    ["id_token:wrong-aud", "wrong aud"],
    ["id_token:missing-aud", "missing aud"],
    ["id_token:extra-aud", "extra untrusted aud"],
    ["id_token:missing-iat", "missing iat"],
    ["id_token:future-iat", "iat far in the future"],
    ["id_token:expired", "expired exp"],
    ["id_token:missing-sub", "missing sub"],
    ["id_token:wrong-nonce", "wrong nonce"],
    ["id_token:missing-nonce", "missing nonce"],
    ["id_token:kid-absent-several-keys", "kid absent with several keys"],
  ];
  for (const [fault, label] of cases) {
    it(`S43: refuses an ID token with ${label}`, async () => {
      await failsWith(fault, ErrorCode.INVALID_ID_TOKEN);
    });
  }

  it("S43: refuses a bad RS256 signature too", async () => {
    await setUp({ signingAlg: "RS256" });
    await failsWith("id_token:bad-signature", ErrorCode.INVALID_ID_TOKEN);
  });

  it("S43: accepts an ID token without kid when the key set has one key", async () => {
    idp.setFault("id_token:kid-absent");
    await expect(login()).resolves.toMatchObject({ tokenType: "Bearer" });
  });

  it("S45: follows a signing-key rotation (unknown kid → one JWKS refetch)", async () => {
    await login();
    await idp.rotateKeys();
    const jwksBefore = idp.count("jwks");
    await expect(login()).resolves.toMatchObject({ tokenType: "Bearer" });
    expect(idp.count("jwks")).toBe(jwksBefore + 1);
  });
});

describe("S44: no token before the nonce check", () => {
  it("S44: with a wrong nonce, getAccessToken stores nothing and no token reaches a resource", async () => {
    const { getAccessToken, parseStoredCredentials, serializeCredentials } = await import(
      "../src/index.js"
    );
    const records = new Map<string, string>();
    const store = {
      kind: "test",
      get: async (k: object) => {
        const text = records.get(JSON.stringify(k));
        return text === undefined ? undefined : parseStoredCredentials(text);
      },
      set: async (k: object, c: Credentials) =>
        void records.set(JSON.stringify(k), serializeCredentials(c)),
      delete: async (k: object) => void records.delete(JSON.stringify(k)),
    };
    idp.setFault("id_token:wrong-nonce");
    const key = { issuer: ISSUER, clientId: "latchkey", profile: "default" };
    await expect(
      getAccessToken({ store, key, client, server: () => resolveServer(client), login }),
    ).rejects.toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    expect(records.size).toBe(0);
    expect(idp.count("userinfo")).toBe(0);
  });
});

describe("S22: POSTs never follow redirects", () => {
  it("S22: a token endpoint answering 307 is an error; the code is not re-sent elsewhere", async () => {
    const server = await resolveServer(client);
    const { state, authorizationUrl } = await beginAuthorization({
      client,
      server,
      redirectUri: REDIRECT,
    });
    const verdict = receiveCallback(
      state,
      (await idp.fetch(new Request(authorizationUrl))).headers.get("location") as string,
    );
    if (verdict.outcome !== "accepted") throw verdict.error;
    idp.once(
      "token",
      new Response(null, { status: 307, headers: { location: "http://127.0.0.1:4100/elsewhere" } }),
    );
    const requests: string[] = [];
    const watching = {
      ...client,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        requests.push(new Request(input, init).url);
        return (client.fetch as NonNullable<ClientOptions["fetch"]>)(input, init);
      },
    };
    await expect(exchangeCode(verdict.next, { client: watching, server })).rejects.toBeDefined();
    expect(requests).toEqual([`${ISSUER}/token`]);
    expect(idp.requests.some((r) => r.path === "/elsewhere")).toBe(false);
  });
});

describe("authorization response and metadata", () => {
  it("S19: refuses discovery whose issuer does not match", async () => {
    idp.setFault("discovery:issuer-mismatch");
    await expect(resolveServer(client, { cache: false })).rejects.toMatchObject({
      code: ErrorCode.DISCOVERY_ISSUER_MISMATCH,
    });
  });

  for (const [fault, code] of [
    ["authorize:iss-wrong", ErrorCode.ISS_MISMATCH],
    ["authorize:iss-missing", ErrorCode.ISS_MISMATCH],
    ["authorize:state-missing", ErrorCode.STATE_MISMATCH],
    ["authorize:state-wrong", ErrorCode.STATE_MISMATCH],
    ["authorize:access-denied", ErrorCode.AUTHORIZATION_DENIED],
  ] as const) {
    it(`S15 S17: ${fault} fails with ${code} and no token request`, async () => {
      await failsWith(fault, code);
      expect(idp.count("token")).toBe(0);
    });
  }
});

describe("token responses (S32)", () => {
  it("a response without expires_in is accepted with an unknown expiry", async () => {
    idp.setFault("token:no-expires-in");
    const credentials = await login();
    expect(credentials.expiresAt).toBeUndefined();
  });

  it('token_type "BEARER" is accepted', async () => {
    idp.setFault("token:token-type-uppercase");
    expect((await login()).tokenType).toBe("Bearer");
  });

  for (const kind of ["5xx", "html-error", "malformed-json", "drop"] as const) {
    it(`S33: token:${kind} is a coded error, never a crash`, async () => {
      idp.setFault(`token:${kind}` as FakeFaultName);
      const error = await login().catch((e: unknown) => e);
      expect(["SERVER_ERROR", "NETWORK_ERROR", "INVALID_RESPONSE"]).toContain(
        (error as { code?: string }).code,
      );
    });
  }
});

describe("refresh (S46)", () => {
  for (const fault of ["refresh:id_token-other-iss", "refresh:id_token-other-sub"] as const) {
    it(`S46: refuses ${fault}`, async () => {
      const credentials = await login();
      idp.setFault(fault);
      const server = await resolveServer(client);
      await expect(refreshCredentials(credentials, { client, server })).rejects.toMatchObject({
        code: ErrorCode.INVALID_ID_TOKEN,
      });
    });
  }

  it("S46: accepts a refreshed ID token with the same iss, sub and aud, without a nonce", async () => {
    const credentials = await login();
    const server = await resolveServer(client);
    const refreshed = await refreshCredentials(credentials, { client, server });
    expect(refreshed.idToken).toBeTruthy();
    expect(refreshed.idToken).not.toBe(credentials.idToken);
  });
});
