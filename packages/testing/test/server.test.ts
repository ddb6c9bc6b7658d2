import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer } from "../src/index.js";
import {
  authorizeOk,
  authorizeRequest,
  exchange,
  newPkce,
  REDIRECT_URI,
  refresh,
  serverAt,
  tokenRequest,
  userinfo,
} from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999/tenant-a";

const server = serverAt(ISSUER);

function redirectParams(response: Response): URLSearchParams {
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") ?? "").searchParams;
}

describe("discovery", () => {
  it("S19: serves the same metadata at both well-known locations for an issuer with a path", async () => {
    const fake = await server();
    expect(fake.endpoints.oauthMetadata).toBe(
      "http://127.0.0.1:9999/.well-known/oauth-authorization-server/tenant-a",
    );
    expect(fake.endpoints.openidConfiguration).toBe(
      "http://127.0.0.1:9999/tenant-a/.well-known/openid-configuration",
    );
    const oauth = await (await fake.fetch(new Request(fake.endpoints.oauthMetadata))).json();
    const openid = await (await fake.fetch(new Request(fake.endpoints.openidConfiguration))).json();
    expect(oauth).toEqual(openid);
    expect(oauth).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
      userinfo_endpoint: `${ISSUER}/userinfo`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
      id_token_signing_alg_values_supported: ["ES256"],
      subject_types_supported: ["public"],
    });
    expect(oauth.grant_types_supported).toEqual([
      "authorization_code",
      "refresh_token",
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:device_code",
      "urn:ietf:params:oauth:grant-type:token-exchange",
    ]);
    expect(oauth.token_endpoint_auth_methods_supported).toContain("none");
    expect(oauth.scopes_supported).toContain("openid");
  });

  it("uses /.well-known/oauth-authorization-server for an issuer without a path", async () => {
    const fake = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:9999" });
    const response = await fake.fetch(
      new Request("http://127.0.0.1:9999/.well-known/oauth-authorization-server"),
    );
    expect((await response.json()).issuer).toBe("http://127.0.0.1:9999");
    expect(
      (await fake.fetch(new Request("http://127.0.0.1:9999/.well-known/openid-configuration")))
        .status,
    ).toBe(200);
  });

  it("rejects an issuer with a trailing slash, query or fragment", async () => {
    for (const issuer of [
      "http://127.0.0.1:1/",
      "http://127.0.0.1:1/a/",
      "http://127.0.0.1:1?x=1",
      "ftp://x",
      "nope",
    ]) {
      await expect(createFakeAuthorizationServer({ issuer })).rejects.toThrow(TypeError);
    }
    await expect(
      createFakeAuthorizationServer({ issuer: ISSUER, codeTtlSeconds: 601 }),
    ).rejects.toThrow(RangeError);
  });

  it("answers 404 JSON for unknown paths and 405 for wrong methods", async () => {
    const fake = await server();
    const missing = await fake.fetch(new Request(`${ISSUER}/nope`));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("not_found");
    const wrong = await fake.fetch(new Request(`${ISSUER}/token`));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await fake.fetch(new Request(`${ISSUER}/authorize`, { method: "POST" }))).status).toBe(
      405,
    );
  });
});

describe("authorization endpoint", () => {
  it("S17: redirects with code, echoed state and iss (RFC 9207), keeping the redirect URI's query", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: ISSUER,
      clients: [{ clientId: "app", redirectUris: ["http://127.0.0.1/cb?tenant=a%20b"] }],
    });
    const { challenge } = newPkce();
    const response = await authorizeRequest(fake, {
      response_type: "code",
      client_id: "app",
      redirect_uri: "http://127.0.0.1:5000/cb?tenant=a%20b",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "xyz 123",
    });
    const location = response.headers.get("location") ?? "";
    expect(location.startsWith("http://127.0.0.1:5000/cb?tenant=a%20b&code=")).toBe(true);
    const params = redirectParams(response);
    expect(params.get("state")).toBe("xyz 123");
    expect(params.get("iss")).toBe(ISSUER);
    expect(params.get("code")).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("omits state when none was sent", async () => {
    const fake = await server();
    const { location } = await authorizeOk(fake, { state: undefined });
    expect(location.searchParams.has("state")).toBe(false);
  });

  it("issues a different code every time", async () => {
    const fake = await server();
    const a = await authorizeOk(fake);
    const b = await authorizeOk(fake);
    expect(a.code).not.toBe(b.code);
  });

  it("S2: an authorization request without code_challenge is refused with invalid_request, state and iss", async () => {
    const fake = await server();
    const params = redirectParams(
      await authorizeRequest(fake, {
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: REDIRECT_URI,
        state: "s1",
      }),
    );
    expect(params.get("error")).toBe("invalid_request");
    expect(params.get("state")).toBe("s1");
    expect(params.get("iss")).toBe(ISSUER);
    expect(params.has("code")).toBe(false);
  });

  it("S2: code_challenge_method plain, or missing, is refused", async () => {
    const fake = await server();
    const { verifier, challenge } = newPkce();
    for (const [value, method] of [
      [verifier, "plain"],
      [challenge, undefined],
      [challenge, "s256"],
    ] as const) {
      const params = redirectParams(
        await authorizeRequest(fake, {
          response_type: "code",
          client_id: "latchkey",
          redirect_uri: REDIRECT_URI,
          code_challenge: value,
          code_challenge_method: method,
        }),
      );
      expect(params.get("error"), String(method)).toBe("invalid_request");
    }
  });

  it("S6: response_type other than code is unsupported_response_type; missing is invalid_request", async () => {
    const fake = await server();
    const { challenge } = newPkce();
    const base = {
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s",
    };
    for (const responseType of ["token", "code id_token", "id_token"]) {
      const params = redirectParams(
        await authorizeRequest(fake, { ...base, response_type: responseType }),
      );
      expect(params.get("error")).toBe("unsupported_response_type");
    }
    const params = redirectParams(await authorizeRequest(fake, base));
    expect(params.get("error")).toBe("invalid_request");
  });

  it("S16: a repeated parameter is invalid_request; an empty value counts as absent", async () => {
    const fake = await server();
    const { challenge } = newPkce();
    const url = new URL(fake.endpoints.authorization);
    url.search = new URLSearchParams([
      ["response_type", "code"],
      ["client_id", "latchkey"],
      ["redirect_uri", REDIRECT_URI],
      ["code_challenge", challenge],
      ["code_challenge_method", "S256"],
      ["scope", "openid"],
      ["scope", "email"],
      ["state", "s"],
    ]).toString();
    const params = redirectParams(await fake.fetch(new Request(url)));
    expect(params.get("error")).toBe("invalid_request");
    expect(params.get("state")).toBe("s");

    const empty = redirectParams(
      await authorizeRequest(fake, {
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: REDIRECT_URI,
        code_challenge: "",
        code_challenge_method: "S256",
      }),
    );
    expect(empty.get("error")).toBe("invalid_request");
  });

  it("a repeated client_id or redirect_uri is an HTML error, not a redirect", async () => {
    const fake = await server();
    const url = new URL(fake.endpoints.authorization);
    url.search = new URLSearchParams([
      ["response_type", "code"],
      ["client_id", "latchkey"],
      ["redirect_uri", REDIRECT_URI],
      ["redirect_uri", "http://127.0.0.1:1/callback"],
    ]).toString();
    const response = await fake.fetch(new Request(url));
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("token endpoint: authorization_code", () => {
  it("exchanges a code for ES256 JWT tokens with no-store", async () => {
    const fake = await server();
    const authorized = await authorizeOk(fake, { scope: "profile" });
    const { response, body } = await exchange(fake, authorized);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "profile" });
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(body.id_token).toBeUndefined();
    const jwks = createLocalJWKSet(
      await (await fake.fetch(new Request(fake.endpoints.jwks))).json(),
    );
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, {
      issuer: ISSUER,
      audience: "latchkey",
      algorithms: ["ES256"],
    });
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ sub: "alice", client_id: "latchkey", scope: "profile" });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe("string");
  });

  it("S2: a token request without code_verifier fails", async () => {
    const fake = await server();
    const authorized = await authorizeOk(fake);
    const { response, body } = await exchange(fake, authorized, { code_verifier: undefined });
    expect(response.status).toBe(400);
    expect(body.error).toBe("invalid_grant");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("S2: a wrong code_verifier fails", async () => {
    const fake = await server();
    const authorized = await authorizeOk(fake);
    const { body } = await exchange(fake, authorized, { code_verifier: newPkce().verifier });
    expect(body.error).toBe("invalid_grant");
  });

  it("S2: a code is single-use; replay gives invalid_grant and revokes what the code issued", async () => {
    const fake = await server();
    const authorized = await authorizeOk(fake, { scope: "openid" });
    const first = await exchange(fake, authorized);
    expect(first.response.status).toBe(200);
    expect((await userinfo(fake, first.body.access_token)).status).toBe(200);
    const replay = await exchange(fake, authorized);
    expect(replay.response.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    expect((await userinfo(fake, first.body.access_token)).status).toBe(401);
    expect((await refresh(fake, first.body.refresh_token)).body.error).toBe("invalid_grant");
  });

  it("S2: an expired code gives invalid_grant (codes live codeTtlSeconds, default 60)", async () => {
    let clock = 1_700_000_000_000;
    const fake = await server({ now: () => clock });
    const fresh = await authorizeOk(fake);
    clock += 59_000;
    expect((await exchange(fake, fresh)).response.status).toBe(200);
    const stale = await authorizeOk(fake);
    clock += 60_000;
    const { body } = await exchange(fake, stale);
    expect(body.error).toBe("invalid_grant");
  });

  it("S2: codeTtlSeconds is capped at 600", async () => {
    await expect(server({ codeTtlSeconds: 601 })).rejects.toThrow(RangeError);
    let clock = 0;
    const fake = await server({ codeTtlSeconds: 600, now: () => clock });
    const authorized = await authorizeOk(fake);
    clock += 600_000;
    expect((await exchange(fake, authorized)).body.error).toBe("invalid_grant");
  });

  it("S2: a redirect_uri differing from the authorize one gives invalid_grant (S21)", async () => {
    const fake = await server();
    for (const redirectUri of [
      "http://127.0.0.1:49153/callback",
      "http://127.0.0.1/callback",
      undefined,
    ]) {
      const authorized = await authorizeOk(fake);
      const { body } = await exchange(fake, authorized, { redirect_uri: redirectUri });
      expect(body.error, String(redirectUri)).toBe("invalid_grant");
    }
  });

  it("an unknown code, or a code of another client, gives invalid_grant", async () => {
    const fake = await server({
      clients: [{ clientId: "latchkey" }, { clientId: "other" }],
    });
    const authorized = await authorizeOk(fake);
    expect((await exchange(fake, { ...authorized, code: "nope" })).body.error).toBe(
      "invalid_grant",
    );
    expect((await exchange(fake, authorized, { client_id: "other" })).body.error).toBe(
      "invalid_grant",
    );
    // the legitimate client can still redeem it
    expect((await exchange(fake, authorized)).response.status).toBe(200);
  });

  it("requires a form body, a grant_type, and rejects other grants", async () => {
    const fake = await server();
    const json = await fake.fetch(
      new Request(fake.endpoints.token, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "authorization_code" }),
      }),
    );
    expect((await json.json()).error).toBe("invalid_request");
    expect((await (await tokenRequest(fake, { client_id: "latchkey" })).json()).error).toBe(
      "invalid_request",
    );
    for (const grantType of ["password", "implicit"]) {
      const response = await tokenRequest(fake, { grant_type: grantType, client_id: "latchkey" });
      expect((await response.json()).error).toBe("unsupported_grant_type");
    }
  });

  it("S16: a repeated token parameter is invalid_request", async () => {
    const fake = await server();
    const authorized = await authorizeOk(fake);
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      code: authorized.code,
      redirect_uri: authorized.redirectUri,
      code_verifier: authorized.verifier,
      client_id: "latchkey",
    });
    body.append("code", authorized.code);
    const response = await fake.fetch(
      new Request(fake.endpoints.token, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      }),
    );
    expect((await response.json()).error).toBe("invalid_request");
  });
});
