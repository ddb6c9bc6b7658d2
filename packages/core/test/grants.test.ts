import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  clientCredentialsGrant,
  ErrorCode,
  exchangeCode,
  exchangeToken,
  pollDeviceAuthorization,
  receiveCallback,
  resolveServer,
  revokeCredentials,
  revokeToken,
  startDeviceAuthorization,
  TransportError,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4200";
let idp: FakeAuthorizationServer;
let now: number;
let headers: Headers[];

async function setUp(
  options: Partial<Parameters<typeof createFakeAuthorizationServer>[0]> = {},
): Promise<void> {
  now = Date.now();
  headers = [];
  idp = await createFakeAuthorizationServer({
    issuer: ISSUER,
    now: () => now,
    clients: [
      { clientId: "latchkey" },
      { clientId: "client_id", clientSecret: "abc" },
      { clientId: "poster", clientSecret: "s3cret", tokenEndpointAuthMethod: "client_secret_post" },
    ],
    ...options,
  });
}
beforeEach(async () => setUp());

function client(overrides: Partial<ClientOptions> = {}): ClientOptions {
  return {
    issuer: ISSUER,
    clientId: "latchkey",
    now: () => now,
    fetch: (input, init) => {
      const request = new Request(input, init);
      headers.push(request.headers);
      return idp.fetch(request);
    },
    ...overrides,
  };
}

const sleepAdvancing = (ms: number): Promise<void> => {
  now += ms;
  return Promise.resolve();
};

describe("client authentication", () => {
  it("S9: a public client sends no Authorization header and no secret", async () => {
    const c = client();
    const credentials = await clientCredentialsGrant({
      client: { ...c, clientId: "client_id", clientSecret: "abc" },
      server: await resolveServer(c),
    }).catch(() => undefined);
    expect(credentials).toBeDefined();
    headers = [];
    const server = await resolveServer(c);
    const { authorizationUrl, state } = await beginAuthorization({
      client: c,
      server,
      redirectUri: "http://127.0.0.1:5000/callback",
    });
    const verdict = receiveCallback(
      state,
      (await idp.fetch(new Request(authorizationUrl))).headers.get("location") as string,
    );
    if (verdict.outcome !== "accepted") throw verdict.error;
    await exchangeCode(verdict.next, { client: c, server });
    expect(headers.at(-1)?.get("authorization")).toBeNull();
    expect(idp.requests.at(-1)?.params).not.toHaveProperty("client_secret");
  });

  it("client_secret_basic matches the reference's vector: client_id/abc → Basic Y2xpZW50X2lkOmFiYw==", async () => {
    const c = client({ clientId: "client_id", clientSecret: "abc" });
    await clientCredentialsGrant({ client: c, server: await resolveServer(c) });
    expect(headers.at(-1)?.get("authorization")).toBe("Basic Y2xpZW50X2lkOmFiYw==");
  });

  it("client_secret_post sends the secret in the body", async () => {
    const c = client({
      clientId: "poster",
      clientSecret: "s3cret",
      clientAuthMethod: "client_secret_post",
    });
    await clientCredentialsGrant({ client: c, server: await resolveServer(c) });
    expect(idp.requests.at(-1)?.params.client_secret).toBe("s3cret");
  });

  it("S33: a wrong secret is INVALID_CLIENT", async () => {
    const c = client({ clientId: "client_id", clientSecret: "wrong" });
    await expect(
      clientCredentialsGrant({ client: c, server: await resolveServer(c) }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_CLIENT });
  });
});

describe("client credentials and token exchange", () => {
  it("client credentials gives an access token without a refresh token", async () => {
    const c = client({ clientId: "client_id", clientSecret: "abc", scopes: ["api"] });
    const credentials = await clientCredentialsGrant({ client: c, server: await resolveServer(c) });
    expect(credentials.accessToken).toBeTruthy();
    expect(credentials.refreshToken).toBeUndefined();
    expect(idp.requests.at(-1)?.params).toMatchObject({
      grant_type: "client_credentials",
      scope: "api",
    });
  });

  it("token exchange (RFC 8693) trades an access token for another", async () => {
    const c = client({ clientId: "client_id", clientSecret: "abc" });
    const server = await resolveServer(c);
    const first = await clientCredentialsGrant({ client: c, server });
    const exchanged = await exchangeToken({ client: c, server, subjectToken: first.accessToken });
    expect(exchanged.accessToken).not.toBe(first.accessToken);
    expect(idp.requests.at(-1)?.params).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
  });
});

describe("device authorization grant (RFC 8628)", () => {
  it("S48 S49: waits the interval, keeps polling on authorization_pending, succeeds once approved", async () => {
    const c = client({ scopes: ["openid"] });
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    expect(authorization.userCode).toBeTruthy();
    expect(authorization.verificationUriComplete).toContain(
      encodeURIComponent(authorization.userCode).slice(0, 2),
    );
    const waits: number[] = [];
    let polls = 0;
    const credentials = await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: (ms) => {
        waits.push(ms);
        return sleepAdvancing(ms);
      },
      onPoll: () => {
        polls++;
        if (polls === 3) idp.approveDevice(authorization.userCode);
      },
    });
    expect(credentials.accessToken).toBeTruthy();
    expect(waits).toEqual([5000, 5000, 5000]);
    expect(idp.count("token", { grantType: "urn:ietf:params:oauth:grant-type:device_code" })).toBe(
      3,
    );
  });

  it("S43: the device flow's ID token is checked like the code flow's: a bad signature is INVALID_ID_TOKEN, nothing is returned", async () => {
    const c = client({ scopes: ["openid"] });
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    idp.approveDevice(authorization.userCode);
    idp.setFault("id_token:bad-signature", { times: 1 });
    const error = await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: sleepAdvancing,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
    // With a good signature the same flow completes, and the ID token is kept.
    const again = await startDeviceAuthorization({ client: c, server });
    idp.approveDevice(again.userCode);
    const credentials = await pollDeviceAuthorization(again, {
      client: c,
      server,
      sleep: sleepAdvancing,
    });
    expect(credentials.idToken).toBeTruthy();
  });

  it("S49: slow_down adds 5 s to this and every later poll", async () => {
    const c = client();
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    idp.setFault("device:slow_down", { times: 1 });
    const waits: number[] = [];
    let polls = 0;
    await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: (ms) => {
        waits.push(ms);
        return sleepAdvancing(ms);
      },
      onPoll: () => {
        polls++;
        if (polls === 3) idp.approveDevice(authorization.userCode);
      },
    });
    expect(waits).toEqual([5000, 10000, 10000]);
  });

  for (const [fault, label] of [
    ["device:access_denied", "denied"],
    ["device:expired_token", "expired"],
  ] as const) {
    it(`S49: ${fault} stops polling with AUTHORIZATION_DENIED`, async () => {
      const c = client();
      const server = await resolveServer(c);
      const authorization = await startDeviceAuthorization({ client: c, server });
      idp.setFault(fault);
      const error = await pollDeviceAuthorization(authorization, {
        client: c,
        server,
        sleep: sleepAdvancing,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.AUTHORIZATION_DENIED });
      expect((error as Error).message).toContain(label);
      expect(idp.count("token")).toBe(1);
    });
  }

  it("S48: stops at expires_in without polling forever", async () => {
    await setUp({ deviceCodeTtlSeconds: 20 });
    const c = client();
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    const error = await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: sleepAdvancing,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.AUTHORIZATION_DENIED,
      oauth: { error: "expired_token" },
    });
    expect(idp.count("token")).toBeLessThanOrEqual(4);
  });

  it("S48: interval 0 cannot spin (at least 1 s between polls)", async () => {
    const c = client();
    const server = await resolveServer(c);
    const authorization = {
      ...(await startDeviceAuthorization({ client: c, server })),
      interval: 0,
    };
    const waits: number[] = [];
    let polls = 0;
    await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: (ms) => {
        waits.push(ms);
        return sleepAdvancing(Math.max(ms, 5000));
      },
      onPoll: () => {
        if (++polls === 2) idp.approveDevice(authorization.userCode);
      },
    });
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1000);
  });

  it("S49: network failures back off and polling goes on", async () => {
    const c = client();
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    idp.setFault("token:5xx", { times: 2 });
    const waits: number[] = [];
    let polls = 0;
    await pollDeviceAuthorization(authorization, {
      client: c,
      server,
      sleep: (ms) => {
        waits.push(ms);
        return sleepAdvancing(ms);
      },
      onPoll: () => {
        if (++polls === 3) idp.approveDevice(authorization.userCode);
      },
    });
    expect(waits).toEqual([5000, 5000, 10000]);
  });

  it("an AbortSignal cancels the polling", async () => {
    const c = client();
    const server = await resolveServer(c);
    const authorization = await startDeviceAuthorization({ client: c, server });
    const controller = new AbortController();
    controller.abort();
    await expect(
      pollDeviceAuthorization(authorization, { client: c, server, signal: controller.signal }),
    ).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});

describe("revocation (RFC 7009, S51)", () => {
  it("revokes a refresh token with token_type_hint=refresh_token; the family stops working", async () => {
    const c = client({ scopes: ["openid"] });
    const server = await resolveServer(c);
    const { authorizationUrl, state } = await beginAuthorization({
      client: c,
      server,
      redirectUri: "http://127.0.0.1:5000/callback",
    });
    const verdict = receiveCallback(
      state,
      (await idp.fetch(new Request(authorizationUrl))).headers.get("location") as string,
    );
    if (verdict.outcome !== "accepted") throw verdict.error;
    const { credentials } = await exchangeCode(verdict.next, { client: c, server });
    expect(
      await revokeToken({ client: c, server, token: credentials.refreshToken as string }),
    ).toBe("revoked");
    expect(idp.requests.at(-1)?.params).toMatchObject({ token_type_hint: "refresh_token" });
    const { refreshCredentials } = await import("../src/index.js");
    await expect(refreshCredentials(credentials, { client: c, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
  });

  it("S51: revokeCredentials revokes the refresh token, else the access token", async () => {
    const c = client({ clientId: "client_id", clientSecret: "abc" });
    const server = await resolveServer(c);
    const credentials = await clientCredentialsGrant({ client: c, server });
    expect(await revokeCredentials({ client: c, server, credentials })).toBe("revoked");
    expect(idp.requests.at(-1)?.params).toMatchObject({
      token: credentials.accessToken,
      token_type_hint: "access_token",
    });
    await revokeCredentials({
      client: c,
      server,
      credentials: { ...credentials, refreshToken: "rt-1" },
    });
    expect(idp.requests.at(-1)?.params).toMatchObject({
      token: "rt-1",
      token_type_hint: "refresh_token",
    });
  });

  it("S51: 503 is a retryable TransportError", async () => {
    const c = client();
    const server = await resolveServer(c);
    idp.setFault("revocation:5xx");
    const error = await revokeToken({ client: c, server, token: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCode.SERVER_ERROR });
  });

  it("a server without a revocation endpoint is reported, not an error", async () => {
    const c = client();
    const server = await resolveServer(c);
    const { revocation_endpoint: _r, ...without } = server;
    expect(await revokeToken({ client: c, server: without, token: "x" })).toBe(
      "no-revocation-endpoint",
    );
  });
});

describe("pushed authorization requests (RFC 9126)", () => {
  it("pushes the request when the server requires it; the browser URL carries only client_id and request_uri", async () => {
    await setUp({ requirePushedAuthorizationRequests: true });
    const c = client({ scopes: ["openid"] });
    const server = await resolveServer(c);
    const { authorizationUrl, state } = await beginAuthorization({
      client: c,
      server,
      redirectUri: "http://127.0.0.1:5000/callback",
    });
    expect([...authorizationUrl.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);
    expect(idp.count("par")).toBe(1);
    const verdict = receiveCallback(
      state,
      (await idp.fetch(new Request(authorizationUrl))).headers.get("location") as string,
    );
    if (verdict.outcome !== "accepted") throw verdict.error;
    await expect(exchangeCode(verdict.next, { client: c, server })).resolves.toMatchObject({
      status: "completed",
    });
  });
});
