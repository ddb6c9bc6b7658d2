// The fake server's authorization options: PAR, CORS, users and interactive login, plain PKCE.
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  authorizeOk,
  authorizeRequest,
  clock,
  exchange,
  newPkce,
  post,
  REDIRECT_URI,
  serverAt,
  userinfo,
} from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999";
const CI = { clientId: "ci", clientSecret: "s3cret" };
const PUBLIC = { clientId: "latchkey" };

const server = serverAt(ISSUER, { clients: [PUBLIC, CI] });

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
