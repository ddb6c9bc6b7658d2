import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";
import {
  authorizeOk,
  authorizeRequest,
  basic,
  exchange,
  newPkce,
  REDIRECT_URI,
  refresh,
  tokenRequest,
  userinfo,
} from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const CI = { clientId: "ci", clientSecret: "s3cret" };
const PUBLIC = { clientId: "latchkey" };

/** A controllable clock: tests advance it instead of sleeping. */
function clock(start = 1_700_000_000_000): {
  now: () => number;
  advance: (seconds: number) => void;
} {
  let current = start;
  return { now: () => current, advance: (seconds) => (current += seconds * 1000) };
}

function server(
  options: Partial<Parameters<typeof createFakeAuthorizationServer>[0]> = {},
): Promise<FakeAuthorizationServer> {
  return createFakeAuthorizationServer({ issuer: ISSUER, clients: [PUBLIC, CI], ...options });
}

function post(
  fake: FakeAuthorizationServer,
  url: string,
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fake.fetch(
    new Request(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(body),
    }),
  );
}

interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function startDevice(fake: FakeAuthorizationServer, scope = "openid"): Promise<DeviceStart> {
  const response = await post(fake, fake.endpoints.deviceAuthorization, {
    client_id: "latchkey",
    scope,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as DeviceStart;
}

async function poll(fake: FakeAuthorizationServer, deviceCode: string) {
  const response = await tokenRequest(fake, {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: "latchkey",
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("client_credentials", () => {
  it("issues an access token (no refresh token) to a confidential client only", async () => {
    const fake = await server();
    const response = await tokenRequest(
      fake,
      { grant_type: "client_credentials", scope: "api:read" },
      { authorization: basic("ci", "s3cret") },
    );
    const body = await response.json();
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "api:read" });
    expect(body.refresh_token).toBeUndefined();
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: "ci", client_id: "ci" });
    const publicClient = await tokenRequest(fake, {
      grant_type: "client_credentials",
      client_id: "latchkey",
    });
    expect((await publicClient.json()).error).toBe("unauthorized_client");
  });
});

describe("S48/S49: device authorization grant (RFC 8628)", () => {
  it("S50: answers device_code, user_code, verification URIs, expires_in and interval (default 5)", async () => {
    const fake = await server();
    const start = await startDevice(fake);
    expect(start.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(start.verification_uri).toBe(`${ISSUER}/device`);
    expect(start.verification_uri_complete).toBe(`${ISSUER}/device?user_code=${start.user_code}`);
    expect(start).toMatchObject({ expires_in: 600, interval: 5 });
  });

  it("S49: pending, then slow_down when polled faster than the interval (+5 s), then tokens after approval", async () => {
    const time = clock();
    const fake = await server({ now: time.now });
    const start = await startDevice(fake);
    expect((await poll(fake, start.device_code)).body.error).toBe("authorization_pending");
    time.advance(2);
    expect((await poll(fake, start.device_code)).body.error).toBe("slow_down");
    time.advance(6); // the interval is now 10 s
    expect((await poll(fake, start.device_code)).body.error).toBe("slow_down");
    time.advance(15);
    expect((await poll(fake, start.device_code)).body.error).toBe("authorization_pending");
    fake.approveDevice(start.user_code.toLowerCase());
    time.advance(15);
    const done = await poll(fake, start.device_code);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ token_type: "Bearer", scope: "openid" });
    expect(typeof done.body.id_token).toBe("string");
    time.advance(15);
    expect((await poll(fake, start.device_code)).body.error).toBe("invalid_grant");
  });

  it("S49: denyDevice gives access_denied; S48: a code past expires_in gives expired_token", async () => {
    const time = clock();
    const fake = await server({ now: time.now, deviceCodeTtlSeconds: 30 });
    const denied = await startDevice(fake);
    fake.denyDevice(denied.user_code);
    expect((await poll(fake, denied.device_code)).body.error).toBe("access_denied");
    const expired = await startDevice(fake);
    time.advance(31);
    expect((await poll(fake, expired.device_code)).body.error).toBe("expired_token");
    expect(() => fake.approveDevice(expired.user_code)).toThrow(/expired/);
    expect(() => fake.approveDevice("BBBB-BBBB")).toThrow(/unknown/);
  });

  it("S49: scripted sequences: pending ×2, slow_down, then access_denied / expired_token, in order", async () => {
    const time = clock();
    const fake = await server({
      now: time.now,
      deviceAutoApprove: true,
      faults: [
        { name: "device:authorization_pending", times: 2 },
        { name: "device:slow_down", times: 1 },
        { name: "device:access_denied", times: 1 },
        { name: "device:expired_token", times: 1 },
      ],
    });
    const start = await startDevice(fake);
    const seen: unknown[] = [];
    for (let index = 0; index < 6; index += 1) {
      time.advance(60);
      seen.push((await poll(fake, start.device_code)).body.error ?? "tokens");
    }
    expect(seen).toEqual([
      "authorization_pending",
      "authorization_pending",
      "slow_down",
      "access_denied",
      "expired_token",
      "tokens",
    ]);
  });

  it("deviceAutoApprove answers tokens on the first poll; device codes are bound to their client", async () => {
    const fake = await server({ deviceAutoApprove: true });
    const start = await startDevice(fake);
    const other = await tokenRequest(
      fake,
      { grant_type: DEVICE_GRANT, device_code: start.device_code },
      { authorization: basic("ci", "s3cret") },
    );
    expect((await other.json()).error).toBe("invalid_grant");
    expect((await poll(fake, start.device_code)).status).toBe(200);
  });

  it("S27: the verification page shows an escaped form; posting it approves or denies", async () => {
    const fake = await server({ users: { alice: {}, bob: {} } });
    const start = await startDevice(fake);
    const page = await fake.fetch(new Request(`${start.verification_uri}?user_code=%3Cb%3E`));
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain("&#60;b&#62;");
    expect(html).toContain('method="post"');
    const unknown = await post(fake, start.verification_uri, {
      user_code: "ZZZZ-ZZZZ",
      action: "approve",
    });
    expect(unknown.status).toBe(400);
    const approved = await post(fake, start.verification_uri, {
      user_code: start.user_code,
      login: "bob",
      action: "approve",
    });
    expect(approved.status).toBe(200);
    const tokens = await poll(fake, start.device_code);
    expect(decodeJwt(String(tokens.body.access_token)).sub).toBe("bob");
    const second = await startDevice(fake);
    await post(fake, second.verification_uri, { user_code: second.user_code, action: "deny" });
    expect((await poll(fake, second.device_code)).body.error).toBe("access_denied");
  });
});

describe("token exchange (RFC 8693)", () => {
  it("exchanges one of its access tokens for another with the requested audience", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid profile" }));
    const response = await tokenRequest(
      fake,
      {
        grant_type: EXCHANGE_GRANT,
        subject_token: body.access_token,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: "https://api.example",
        scope: "profile",
      },
      { authorization: basic("ci", "s3cret") },
    );
    const exchanged = await response.json();
    expect(response.status).toBe(200);
    expect(exchanged).toMatchObject({
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: "Bearer",
      scope: "profile",
    });
    expect(decodeJwt(exchanged.access_token)).toMatchObject({
      sub: "alice",
      aud: "https://api.example",
      client_id: "ci",
    });
    const bad = async (extra: Record<string, string>): Promise<string> =>
      (
        await (
          await tokenRequest(
            fake,
            { grant_type: EXCHANGE_GRANT, subject_token_type: ACCESS_TOKEN_TYPE, ...extra },
            { authorization: basic("ci", "s3cret") },
          )
        ).json()
      ).error;
    expect(await bad({ subject_token: "made-up" })).toBe("invalid_grant");
    expect(await bad({ subject_token: body.refresh_token })).toBe("invalid_grant");
    expect(await bad({ subject_token: body.access_token, scope: "email" })).toBe("invalid_scope");
  });
});

describe("S51: revocation (RFC 7009) and introspection (RFC 7662)", () => {
  it("S51: revoking a refresh token revokes its family; unknown tokens get 200; 503 on a fault", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    const revoke = (token: string): Promise<Response> =>
      post(fake, fake.endpoints.revocation, {
        token,
        token_type_hint: "refresh_token",
        client_id: "latchkey",
      });
    expect((await revoke("unknown-token")).status).toBe(200);
    fake.setFault("revocation:5xx", { times: 1 });
    expect((await revoke(body.refresh_token)).status).toBe(503);
    expect((await userinfo(fake, body.access_token)).status).toBe(200);
    expect((await revoke(body.refresh_token)).status).toBe(200);
    expect((await refresh(fake, body.refresh_token)).body.error).toBe("invalid_grant");
    expect((await userinfo(fake, body.access_token)).status).toBe(401);
  });

  it("revoking an access token kills only that token; another client's token is refused", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    const foreign = await post(
      fake,
      fake.endpoints.revocation,
      { token: body.access_token },
      {
        authorization: basic("ci", "s3cret"),
      },
    );
    expect(foreign.status).toBe(400);
    await post(fake, fake.endpoints.revocation, {
      token: body.access_token,
      client_id: "latchkey",
    });
    expect((await userinfo(fake, body.access_token)).status).toBe(401);
    expect((await refresh(fake, body.refresh_token)).response.status).toBe(200);
  });

  it("introspection reports active tokens with their claims and inactive ones as { active: false }", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    const introspect = async (token: string): Promise<Record<string, unknown>> =>
      (
        await post(
          fake,
          fake.endpoints.introspection,
          { token },
          { authorization: basic("ci", "s3cret") },
        )
      ).json();
    expect(await introspect(body.access_token)).toMatchObject({
      active: true,
      token_type: "Bearer",
      client_id: "latchkey",
      sub: "alice",
      scope: "openid",
      iss: ISSUER,
    });
    expect(await introspect(body.refresh_token)).toMatchObject({
      active: true,
      token_type: "refresh_token",
    });
    expect(await introspect("nope")).toEqual({ active: false });
    await refresh(fake, body.refresh_token);
    expect(await introspect(body.refresh_token)).toEqual({ active: false });
    const anonymous = await post(fake, fake.endpoints.introspection, { token: body.access_token });
    expect(anonymous.status).toBe(401);
  });
});

describe("PAR (RFC 9126)", () => {
  it("pushes a request, then authorizes with request_uri once; require_pushed_authorization_requests", async () => {
    const fake = await server({ requirePushedAuthorizationRequests: true });
    const { challenge } = newPkce();
    const request = {
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "par-1",
    };
    const direct = await authorizeRequest(fake, request);
    expect(new URL(direct.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "invalid_request",
    );
    const pushed = await post(fake, fake.endpoints.pushedAuthorizationRequest, request);
    expect(pushed.status).toBe(201);
    const { request_uri, expires_in } = await pushed.json();
    expect(request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(expires_in).toBe(60);
    const response = await authorizeRequest(fake, { client_id: "latchkey", request_uri });
    const params = new URL(response.headers.get("location") ?? "").searchParams;
    expect(params.get("code")).not.toBeNull();
    expect(params.get("state")).toBe("par-1");
    expect((await authorizeRequest(fake, { client_id: "latchkey", request_uri })).status).toBe(400);
    const metadata = await (await fake.fetch(new Request(fake.endpoints.oauthMetadata))).json();
    expect(metadata.require_pushed_authorization_requests).toBe(true);
    const unregistered = await post(fake, fake.endpoints.pushedAuthorizationRequest, {
      ...request,
      redirect_uri: "https://evil.example/cb",
    });
    expect(unregistered.status).toBe(400);
  });
});

describe("CORS", () => {
  it("answers preflights and adds CORS headers on browser endpoints, not on authorize", async () => {
    const fake = await server();
    const preflight = await fake.fetch(
      new Request(fake.endpoints.token, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:5173", "access-control-request-method": "POST" },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const metadata = await fake.fetch(
      new Request(fake.endpoints.openidConfiguration, {
        headers: { origin: "http://localhost:5173" },
      }),
    );
    expect(metadata.headers.get("access-control-allow-origin")).toBe("*");
    const authorize = await fake.fetch(
      new Request(fake.endpoints.authorization, {
        method: "OPTIONS",
        headers: { origin: "http://x" },
      }),
    );
    expect(authorize.status).toBe(405);
    expect(authorize.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("users, login_hint, interactive login", () => {
  it("users carry claims into the ID token and UserInfo; login_hint picks the user", async () => {
    const fake = await server({
      users: {
        alice: { claims: { email: "alice@example.com" } },
        bob: { claims: { name: "Bob" } },
      },
    });
    const { body } = await exchange(
      fake,
      await authorizeOk(fake, { scope: "openid", login_hint: "bob" }),
    );
    expect(decodeJwt(body.id_token ?? "")).toMatchObject({ sub: "bob", name: "Bob" });
    expect(await (await userinfo(fake, body.access_token)).json()).toEqual({
      sub: "bob",
      name: "Bob",
    });
    const unknown = await authorizeRequest(fake, {
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: newPkce().challenge,
      code_challenge_method: "S256",
      login_hint: "mallory",
    });
    expect(new URL(unknown.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "access_denied",
    );
  });

  it("interactive: a login page, then a session; prompt=none without a session is login_required; max_age", async () => {
    const time = clock();
    const fake = await server({ interactive: true, now: time.now, users: { alice: {}, bob: {} } });
    const { challenge } = newPkce();
    const base = {
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "i-1",
      scope: "openid",
    };
    const none = await authorizeRequest(fake, { ...base, prompt: "none" });
    expect(new URL(none.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "login_required",
    );
    const page = await authorizeRequest(fake, { ...base, login_hint: "bob" });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('value="bob"');
    const interaction = /name="interaction" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const login = await post(fake, `${ISSUER}/login`, {
      interaction,
      login: "bob",
      action: "approve",
    });
    expect(login.status).toBe(303);
    expect(new URL(login.headers.get("location") ?? "").searchParams.get("code")).not.toBeNull();
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^latchkey_fake_idp_session=/);
    expect(login.headers.get("set-cookie")).toContain("HttpOnly");
    // The session approves at once, also with prompt=none, until max_age is exceeded.
    const withSession = (params: Record<string, string>): Promise<Response> => {
      const url = new URL(fake.endpoints.authorization);
      for (const [name, value] of Object.entries({ ...base, ...params }))
        url.searchParams.set(name, value);
      return fake.fetch(new Request(url, { headers: { cookie } }));
    };
    expect((await withSession({ prompt: "none" })).status).toBe(302);
    time.advance(120);
    const stale = await withSession({ prompt: "none", max_age: "60" });
    expect(new URL(stale.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "login_required",
    );
    expect((await withSession({ max_age: "60" })).status).toBe(200);
    expect((await withSession({ prompt: "login" })).status).toBe(200);
    // A used interaction cannot be replayed; deny redirects with access_denied.
    expect((await post(fake, `${ISSUER}/login`, { interaction, login: "bob" })).status).toBe(400);
    const again =
      /name="interaction" value="([^"]+)"/.exec(
        await (await withSession({ prompt: "login" })).text(),
      )?.[1] ?? "";
    const deny = await post(fake, `${ISSUER}/login`, { interaction: again, action: "deny" });
    expect(new URL(deny.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "access_denied",
    );
  });

  it("auth_time in the ID token is the session's login time", async () => {
    const time = clock();
    const fake = await server({ now: time.now });
    const { body } = await exchange(
      fake,
      await authorizeOk(fake, { scope: "openid", max_age: "0" }),
    );
    expect(decodeJwt(body.id_token ?? "").auth_time).toBe(Math.floor(time.now() / 1000));
  });
});

describe("S12: PKCE plain only when switched on", () => {
  it("S12: plain is refused by default and accepted with allowPlainPkce", async () => {
    const verifier = newPkce().verifier;
    const request = {
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: verifier,
      code_challenge_method: "plain",
    };
    const strict = await server();
    expect(
      new URL(
        (await authorizeRequest(strict, request)).headers.get("location") ?? "",
      ).searchParams.get("error"),
    ).toBe("invalid_request");
    const lax = await server({ allowPlainPkce: true });
    const code =
      new URL(
        (await authorizeRequest(lax, request)).headers.get("location") ?? "",
      ).searchParams.get("code") ?? "";
    const { response } = await exchange(lax, {
      code,
      verifier,
      redirectUri: REDIRECT_URI,
      location: new URL(REDIRECT_URI),
    });
    expect(response.status).toBe(200);
  });
});
