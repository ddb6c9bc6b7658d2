import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { FakeAuthorizationServer } from "../src/index.js";
import {
  authorizeOk,
  basic,
  clock,
  exchange,
  post,
  refresh,
  serverAt,
  tokenRequest,
  userinfo,
} from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const CI = { clientId: "ci", clientSecret: "s3cret" };
const PUBLIC = { clientId: "latchkey" };

const server = serverAt(ISSUER, { clients: [PUBLIC, CI] });

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
