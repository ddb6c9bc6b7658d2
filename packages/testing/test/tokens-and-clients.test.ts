// The fake server's ID tokens, refresh, client authentication, userinfo and request log.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";
import {
  authorizeOk,
  basic,
  exchange,
  refresh,
  serverAt,
  tokenRequest,
  userinfo,
} from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999/tenant-a";

const server = serverAt(ISSUER);

describe("ID token", () => {
  it("S43: with openid, an id_token verifies against the JWKS and carries the nonce", async () => {
    const fake = await server({ subject: "bob" });
    const authorized = await authorizeOk(fake, { scope: "openid email", nonce: "n-0S6_WzA2Mj" });
    const { body } = await exchange(fake, authorized);
    expect(body.id_token).toBeDefined();
    const jwksResponse = await fake.fetch(new Request(fake.endpoints.jwks));
    const jwks = await jwksResponse.json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0].d).toBeUndefined();
    const { payload, protectedHeader } = await jwtVerify(body.id_token!, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: "latchkey",
      algorithms: ["ES256"],
    });
    expect(protectedHeader.kid).toBe(jwks.keys[0].kid);
    expect(payload).toMatchObject({ sub: "bob", nonce: "n-0S6_WzA2Mj" });
    expect(typeof payload.auth_time).toBe("number");
    expect(typeof payload.iat).toBe("number");
  });

  it("has no nonce when the authorization request had none", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    expect(decodeJwt(body.id_token!).nonce).toBeUndefined();
    expect(decodeProtectedHeader(body.id_token!).alg).toBe("ES256");
  });

  it("S46: an id_token from a refresh keeps iss/sub/aud/auth_time and has no nonce", async () => {
    const fake = await server();
    const first = await exchange(fake, await authorizeOk(fake, { scope: "openid", nonce: "abc" }));
    const second = await refresh(fake, first.body.refresh_token);
    const a = decodeJwt(first.body.id_token!);
    const b = decodeJwt(second.body.id_token!);
    expect([b.iss, b.sub, b.aud, b.auth_time]).toEqual([a.iss, a.sub, a.aud, a.auth_time]);
    expect(b.nonce).toBeUndefined();
  });
});

describe("token endpoint: refresh_token", () => {
  it("S3: rotation issues a new refresh token each time and consumes the old one", async () => {
    const fake = await server();
    const first = await exchange(fake, await authorizeOk(fake));
    const second = await refresh(fake, first.body.refresh_token);
    expect(second.response.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    const third = await refresh(fake, second.body.refresh_token);
    expect(third.response.status).toBe(200);
  });

  it("S3: reusing a consumed refresh token revokes the whole family, newest token included", async () => {
    const fake = await server();
    const first = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    const second = await refresh(fake, first.body.refresh_token);
    const reuse = await refresh(fake, first.body.refresh_token);
    expect(reuse.response.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    const newest = await refresh(fake, second.body.refresh_token);
    expect(newest.body.error).toBe("invalid_grant");
    expect((await userinfo(fake, second.body.access_token)).status).toBe(401);
  });

  it("S3: other families are not affected by a reuse", async () => {
    const fake = await server();
    const a = await exchange(fake, await authorizeOk(fake));
    const b = await exchange(fake, await authorizeOk(fake));
    await refresh(fake, a.body.refresh_token);
    await refresh(fake, a.body.refresh_token);
    expect((await refresh(fake, b.body.refresh_token)).response.status).toBe(200);
  });

  it("S3: an unknown refresh token is rejected with invalid_grant", async () => {
    const fake = await server();
    const { response, body } = await refresh(fake, "not-a-token");
    expect(response.status).toBe(400);
    expect(body.error).toBe("invalid_grant");
    expect((await refresh(fake, "")).body.error).toBe("invalid_request");
  });

  it("S3: a refresh token is bound to its client", async () => {
    const fake = await server({ clients: [{ clientId: "latchkey" }, { clientId: "other" }] });
    const first = await exchange(fake, await authorizeOk(fake));
    expect((await refresh(fake, first.body.refresh_token, { client_id: "other" })).body.error).toBe(
      "invalid_grant",
    );
  });

  it("S3: with rotation off the same refresh token stays valid", async () => {
    const fake = await server({ refreshTokenRotation: false });
    const first = await exchange(fake, await authorizeOk(fake));
    for (let index = 0; index < 3; index += 1) {
      const next = await refresh(fake, first.body.refresh_token);
      expect(next.response.status).toBe(200);
      expect(next.body.refresh_token).toBe(first.body.refresh_token);
    }
  });

  it("allows narrowing the scope and refuses widening it", async () => {
    const fake = await server();
    const first = await exchange(fake, await authorizeOk(fake, { scope: "openid email" }));
    const narrowed = await refresh(fake, first.body.refresh_token, { scope: "email" });
    expect(narrowed.body.scope).toBe("email");
    expect(narrowed.body.id_token).toBeUndefined();
    const widened = await refresh(fake, narrowed.body.refresh_token, { scope: "email admin" });
    expect(widened.body.error).toBe("invalid_scope");
  });

  it("uses accessTokenTtlSeconds and the injected clock", async () => {
    const clock = 1_700_000_000_123;
    const fake = await server({ accessTokenTtlSeconds: 120, now: () => clock });
    const { body } = await exchange(fake, await authorizeOk(fake));
    expect(body.expires_in).toBe(120);
    expect(decodeJwt(body.access_token)).toMatchObject({ iat: 1_700_000_000, exp: 1_700_000_120 });
  });
});

describe("client authentication", () => {
  const clients = [
    { clientId: "public" },
    { clientId: "basic:client", clientSecret: "s3cret+/ &x" },
    {
      clientId: "post",
      clientSecret: "p0st",
      tokenEndpointAuthMethod: "client_secret_post" as const,
    },
  ];

  async function codeFor(fake: FakeAuthorizationServer, clientId: string) {
    return authorizeOk(fake, { client_id: clientId });
  }

  function codeBody(authorized: Awaited<ReturnType<typeof codeFor>>) {
    return {
      grant_type: "authorization_code",
      code: authorized.code,
      redirect_uri: authorized.redirectUri,
      code_verifier: authorized.verifier,
    };
  }

  it("client_secret_basic: form-urlencoded id and secret in the Authorization header (RFC 6749 §2.3.1)", async () => {
    const fake = await server({ clients });
    const authorized = await codeFor(fake, "basic:client");
    const response = await tokenRequest(fake, codeBody(authorized), {
      authorization: basic("basic:client", "s3cret+/ &x"),
    });
    expect(response.status).toBe(200);
  });

  it("client_secret_basic: a wrong secret, a missing header, or the secret in the body is invalid_client", async () => {
    const fake = await server({ clients });
    for (const attempt of [
      { headers: { authorization: basic("basic:client", "wrong") }, body: {} },
      { headers: {}, body: { client_id: "basic:client", client_secret: "s3cret+/ &x" } },
      { headers: {}, body: { client_id: "basic:client" } },
      { headers: { authorization: "Basic !!!" }, body: {} },
      { headers: { authorization: "Bearer abc" }, body: {} },
    ]) {
      const authorized = await codeFor(fake, "basic:client");
      const response = await tokenRequest(
        fake,
        { ...codeBody(authorized), ...attempt.body },
        attempt.headers,
      );
      expect(response.status, JSON.stringify(attempt)).toBe(401);
      expect((await response.json()).error).toBe("invalid_client");
      expect(response.headers.get("cache-control")).toBe("no-store");
      if ("authorization" in attempt.headers) {
        expect(response.headers.get("www-authenticate")).toMatch(/^Basic /);
      }
    }
  });

  it("client_secret_post: secret in the body works, wrong or in the header is invalid_client", async () => {
    const fake = await server({ clients });
    const ok = await tokenRequest(fake, {
      ...codeBody(await codeFor(fake, "post")),
      client_id: "post",
      client_secret: "p0st",
    });
    expect(ok.status).toBe(200);
    const wrong = await tokenRequest(fake, {
      ...codeBody(await codeFor(fake, "post")),
      client_id: "post",
      client_secret: "nope",
    });
    expect(wrong.status).toBe(401);
    const header = await tokenRequest(fake, codeBody(await codeFor(fake, "post")), {
      authorization: basic("post", "p0st"),
    });
    expect(header.status).toBe(401);
  });

  it("S9: a public client must not send a secret; an unknown client is invalid_client", async () => {
    const fake = await server({ clients });
    const withSecret = await tokenRequest(fake, {
      ...codeBody(await codeFor(fake, "public")),
      client_id: "public",
      client_secret: "x",
    });
    expect(withSecret.status).toBe(401);
    const unknown = await tokenRequest(fake, {
      ...codeBody(await codeFor(fake, "public")),
      client_id: "ghost",
    });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).error).toBe("invalid_client");
    const anonymous = await tokenRequest(fake, codeBody(await codeFor(fake, "public")));
    expect(anonymous.status).toBe(401);
  });

  it("two client authentication methods at once is invalid_request", async () => {
    const fake = await server({ clients });
    const response = await tokenRequest(
      fake,
      { ...codeBody(await codeFor(fake, "basic:client")), client_secret: "s3cret+/ &x" },
      { authorization: basic("basic:client", "s3cret+/ &x") },
    );
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe("invalid_request");
  });

  it("rejects inconsistent client definitions", async () => {
    await expect(
      server({ clients: [{ clientId: "a", tokenEndpointAuthMethod: "client_secret_basic" }] }),
    ).rejects.toThrow(TypeError);
    await expect(
      server({ clients: [{ clientId: "a", clientSecret: "s", tokenEndpointAuthMethod: "none" }] }),
    ).rejects.toThrow(TypeError);
    await expect(server({ clients: [{ clientId: "a" }, { clientId: "a" }] })).rejects.toThrow(
      TypeError,
    );
  });
});

describe("userinfo", () => {
  it("S35: returns sub for a valid token; invalid_token with WWW-Authenticate otherwise", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    const ok = await userinfo(fake, body.access_token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: "alice" });

    const other = await createFakeAuthorizationServer({ issuer: ISSUER });
    const foreign = await exchange(other, await authorizeOk(other, { scope: "openid" }));
    for (const token of ["garbage", foreign.body.access_token, body.access_token.slice(0, -2)]) {
      const response = await userinfo(fake, token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    const missing = await fake.fetch(new Request(fake.endpoints.userinfo));
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("S35: an expired access token is invalid_token", async () => {
    let clock = 1_700_000_000_000;
    const fake = await server({ accessTokenTtlSeconds: 60, now: () => clock });
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    clock += 61_000;
    expect((await userinfo(fake, body.access_token)).status).toBe(401);
  });

  it("needs the openid scope", async () => {
    const fake = await server();
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "email" }));
    expect((await userinfo(fake, body.access_token)).status).toBe(403);
  });
});

describe("request log", () => {
  it("records endpoint, method, path, params, grant type and status; count and clearRequests work", async () => {
    const fake = await server();
    await fake.fetch(new Request(fake.endpoints.openidConfiguration));
    const authorized = await authorizeOk(fake, { scope: "openid" });
    const { body } = await exchange(fake, authorized);
    await refresh(fake, body.refresh_token);
    await refresh(fake, "unknown");
    await fake.fetch(new Request(`${ISSUER}/favicon.ico`));

    expect(fake.requests.map((entry) => entry.endpoint)).toEqual([
      "discovery",
      "authorize",
      "token",
      "token",
      "token",
      "unknown",
    ]);
    const authorize = fake.requests[1]!;
    expect(authorize).toMatchObject({ method: "GET", path: "/tenant-a/authorize", status: 302 });
    expect(authorize.params.client_id).toBe("latchkey");
    expect(authorize.params.state).toBe("st-1");
    const token = fake.requests[2]!;
    expect(token).toMatchObject({ method: "POST", grantType: "authorization_code", status: 200 });
    expect(token.params.code_verifier).toBe(authorized.verifier);
    expect(token.params.redirect_uri).toBe(authorized.redirectUri);
    expect(token.headers.authorization).toBeUndefined();
    expect(fake.count("token")).toBe(3);
    expect(fake.count("token", { grantType: "refresh_token" })).toBe(2);
    expect(fake.count("token", { grantType: "refresh_token", status: 400 })).toBe(1);
    expect(fake.count("token", (entry) => entry.status === 200)).toBe(2);
    expect(fake.count("unknown", { status: 404 })).toBe(1);

    fake.clearRequests();
    expect(fake.requests).toHaveLength(0);
    expect(fake.count("token")).toBe(0);
  });
});
