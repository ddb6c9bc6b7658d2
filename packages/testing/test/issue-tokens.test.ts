import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";
import { authorizeOk, basic, exchange, tokenRequest, userinfo } from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999/t";
const CLIENTS = [{ clientId: "latchkey" }, { clientId: "ci", clientSecret: "s3cret" }];
const USERS = {
  alice: {},
  bob: { claims: { email: "bob@example.com", groups: ["ops"], iss: "forged", scope: "admin" } },
};

async function keys(server: FakeAuthorizationServer) {
  return createLocalJWKSet(
    (await (await server.fetch(server.endpoints.jwks)).json()) as JSONWebKeySet,
  );
}

async function introspect(
  server: FakeAuthorizationServer,
  token: string,
): Promise<Record<string, unknown>> {
  const response = await server.fetch(server.endpoints.introspection, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: basic("ci", "s3cret"),
    },
    body: new URLSearchParams({ token }),
  });
  return (await response.json()) as Record<string, unknown>;
}

// Issue 12 point 17: a documented way to mint tokens in a test, accepted by the server after.
describe("server.issueTokens", () => {
  it("mints tokens the server accepts: UserInfo, introspection, refresh; none is logged", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      clients: CLIENTS,
      users: USERS,
    });
    const tokens = await server.issueTokens({
      subject: "bob",
      scope: "openid email",
      clientId: "ci",
    });
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "openid email" });
    expect(Object.keys(tokens).sort()).toEqual([
      "access_token",
      "expires_in",
      "id_token",
      "refresh_token",
      "scope",
      "token_type",
    ]);
    expect(server.requests).toHaveLength(0);

    const info = await userinfo(server, tokens.access_token);
    expect(await info.json()).toMatchObject({ sub: "bob", email: "bob@example.com" });
    expect(await introspect(server, tokens.access_token)).toMatchObject({
      active: true,
      sub: "bob",
      client_id: "ci",
      scope: "openid email",
    });
    expect(await introspect(server, tokens.refresh_token ?? "")).toMatchObject({
      active: true,
      token_type: "refresh_token",
    });
    const { payload } = await jwtVerify(tokens.id_token ?? "", await keys(server), {
      issuer: ISSUER,
      audience: "ci",
    });
    expect(payload).toMatchObject({ sub: "bob", email: "bob@example.com" });

    const rotated = await tokenRequest(
      server,
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      { authorization: basic("ci", "s3cret") },
    );
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as { refresh_token: string; access_token: string };
    expect(body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await introspect(server, tokens.refresh_token ?? "")).active).toBe(false);
  });

  it("defaults: the server's subject, the first client, no scope; refreshToken: false leaves it out", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER, clients: CLIENTS });
    const plain = await server.issueTokens();
    expect(plain.id_token).toBeUndefined();
    expect(plain.scope).toBeUndefined();
    expect(plain.refresh_token).toBeTruthy();
    const { payload } = await jwtVerify(plain.access_token, await keys(server), {
      issuer: ISSUER,
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ sub: "alice", aud: "latchkey", client_id: "latchkey" });
    const machine = await server.issueTokens({
      clientId: "ci",
      subject: "ci",
      refreshToken: false,
    });
    expect(machine.refresh_token).toBeUndefined();
    // Without openid, UserInfo refuses it (403), like any token without the scope.
    expect((await userinfo(server, machine.access_token)).status).toBe(403);
  });

  it("no fault fires on minted tokens, and the faults stay on for real requests", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      faults: [{ name: "id_token:wrong-aud", times: 1 }, "token:no-expires-in"],
    });
    const tokens = await server.issueTokens({ scope: "openid", nonce: "n-1" });
    expect(tokens.expires_in).toBe(3600);
    const { payload } = await jwtVerify(tokens.id_token ?? "", await keys(server), {
      audience: "latchkey",
    });
    expect(payload.nonce).toBe("n-1");
    expect(server.activeFaults().map((fault) => fault.name)).toEqual([
      "id_token:wrong-aud",
      "token:no-expires-in",
    ]);
  });

  it("refuses an unknown client or subject and a malformed scope, with a TypeError", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    await expect(server.issueTokens({ clientId: "nobody" })).rejects.toThrow(
      /unknown client "nobody"/,
    );
    await expect(server.issueTokens({ subject: "mallory" })).rejects.toThrow(
      /unknown subject "mallory"/,
    );
    await expect(server.issueTokens({ scope: 'a "b' })).rejects.toBeInstanceOf(TypeError);
  });
});

// Issue 12 point 17: the users' claims in access tokens too, when asked (RFC 9068 at+jwt).
describe("accessTokenUserClaims", () => {
  it("adds the user's claims to at+jwt access tokens, verifiable against the JWKS", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      users: USERS,
      accessTokenUserClaims: true,
    });
    const authorized = await authorizeOk(server, { scope: "openid email", login_hint: "bob" });
    const { body } = await exchange(server, authorized);
    const { payload, protectedHeader } = await jwtVerify(body.access_token, await keys(server), {
      issuer: ISSUER,
      audience: "latchkey",
      typ: "at+jwt",
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"],
    });
    expect(protectedHeader).toMatchObject({ typ: "at+jwt" });
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: "bob",
      client_id: "latchkey",
      scope: "openid email",
      email: "bob@example.com",
      groups: ["ops"],
    });
    // A user's claim never overrides a registered one.
    expect(payload.iss).toBe(ISSUER);
    // The token still works at UserInfo (its own checks are unchanged).
    expect((await userinfo(server, body.access_token)).status).toBe(200);
    // Minted tokens carry the claims as well.
    const minted = await server.issueTokens({ subject: "bob" });
    expect(decodeProtectedHeader(minted.access_token).typ).toBe("at+jwt");
    const mintedClaims = (await jwtVerify(minted.access_token, await keys(server))).payload;
    expect(mintedClaims).toMatchObject({ email: "bob@example.com" });
    expect(mintedClaims.scope).toBeUndefined();
  });

  it("is off by default: access tokens carry only the RFC 9068 claims", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER, users: USERS });
    const tokens = await server.issueTokens({ subject: "bob", scope: "openid" });
    const { payload } = await jwtVerify(tokens.access_token, await keys(server));
    expect(Object.keys(payload).sort()).toEqual([
      "aud",
      "client_id",
      "exp",
      "iat",
      "iss",
      "jti",
      "scope",
      "sub",
    ]);
  });
});
