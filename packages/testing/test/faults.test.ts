import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, decodeProtectedHeader } from "jose";
import * as oidc from "openid-client";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeFaultName,
  fakeFaultCatalogue,
  isDroppedConnection,
  isFakeFaultName,
  startFakeAuthorizationServer,
} from "../src/index.js";
import {
  authorizeOk,
  authorizeRequest,
  exchange,
  newPkce,
  REDIRECT_URI,
  refresh,
  userinfo,
} from "./helpers.js";
import { relyingParty, rpLogin } from "./rp.js";

const ISSUER = "http://127.0.0.1:9999/t";

function server(
  options: Partial<Parameters<typeof createFakeAuthorizationServer>[0]> = {},
): Promise<FakeAuthorizationServer> {
  return createFakeAuthorizationServer({ issuer: ISSUER, ...options });
}

async function idTokenWith(fault: FakeFaultName, signingAlg: "ES256" | "RS256" = "ES256") {
  const fake = await server({ signingAlg, faults: [{ name: fault, times: 1 }] });
  const authorized = await authorizeOk(fake, { scope: "openid", nonce: "n-1" });
  const { body } = await exchange(fake, authorized);
  const idToken = body.id_token ?? "";
  return { fake, idToken, header: decodeProtectedHeader(idToken), claims: decodeJwt(idToken) };
}

describe("fault catalogue", () => {
  it("S4: names are unique, well-formed, and every RP conformance case has one", () => {
    const names = fakeFaultCatalogue.map((fault) => fault.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of [
      "id_token:bad-signature",
      "id_token:alg-none",
      "id_token:hs256-client-id",
      "id_token:wrong-iss",
      "id_token:wrong-aud",
      "id_token:missing-aud",
      "id_token:extra-aud",
      "id_token:missing-iat",
      "id_token:future-iat",
      "id_token:expired",
      "id_token:missing-sub",
      "id_token:wrong-nonce",
      "id_token:missing-nonce",
      "id_token:kid-absent",
      "id_token:kid-absent-several-keys",
      "discovery:issuer-mismatch",
      "token:no-expires-in",
      "token:token-type-uppercase",
      "authorize:iss-wrong",
      "authorize:iss-missing",
      "authorize:state-missing",
      "authorize:state-wrong",
      "refresh:id_token-other-iss",
      "refresh:id_token-other-sub",
      "userinfo:sub-mismatch",
      "device:authorization_pending",
      "device:slow_down",
      "device:access_denied",
      "device:expired_token",
      "token:5xx",
      "token:delay",
      "token:drop",
      "revocation:5xx",
    ]) {
      expect(isFakeFaultName(name), name).toBe(true);
    }
    expect(isFakeFaultName("token:teapot")).toBe(false);
    for (const fault of fakeFaultCatalogue) {
      expect(fault.description.length).toBeGreaterThan(10);
      expect(fault.checks).toContain("S4");
    }
  });

  it("S4: setFault validates names and scopes; times counts down; clearFaults and reset switch off", async () => {
    const fake = await server();
    expect(() => fake.setFault("nope" as FakeFaultName)).toThrow(TypeError);
    expect(() => fake.setFault("token:5xx", { times: 0 })).toThrow(TypeError);
    expect(() => fake.setFault({ name: "token:5xx", status: 404 })).toThrow(TypeError);
    fake.setFault("token:5xx", { times: 2 });
    fake.setFault("jwks:5xx");
    expect(fake.activeFaults()).toEqual([{ name: "token:5xx", times: 2 }, { name: "jwks:5xx" }]);
    fake.clearFaults("jwks:5xx");
    expect(fake.activeFaults()).toEqual([{ name: "token:5xx", times: 2 }]);
    fake.reset();
    expect(fake.activeFaults()).toEqual([]);
  });
});

describe("S43: ID-token defects (OpenID RP conformance cases)", () => {
  it("S43: bad signature, ES256 and RS256", async () => {
    for (const alg of ["ES256", "RS256"] as const) {
      const { header, idToken, fake } = await idTokenWith("id_token:bad-signature", alg);
      expect(header.alg).toBe(alg);
      const jwks = await (await fake.fetch(new Request(fake.endpoints.jwks))).json();
      expect(jwks.keys[0].kty).toBe(alg === "ES256" ? "EC" : "RSA");
      const { createLocalJWKSet, jwtVerify } = await import("jose");
      await expect(jwtVerify(idToken, createLocalJWKSet(jwks))).rejects.toThrow(/signature/);
    }
  });

  it("S43: alg none and HS256 with the client id as secret", async () => {
    const none = await idTokenWith("id_token:alg-none");
    expect(none.header.alg).toBe("none");
    expect(none.idToken.endsWith(".")).toBe(true);
    const hs = await idTokenWith("id_token:hs256-client-id");
    expect(hs.header).toEqual({ alg: "HS256", typ: "JWT" });
    const { jwtVerify } = await import("jose");
    await expect(
      jwtVerify(hs.idToken, new TextEncoder().encode("latchkey")),
    ).resolves.toBeDefined();
  });

  it("S43: claim defects change exactly one claim", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await idTokenWith("id_token:wrong-iss")).claims.iss).toBe(`${ISSUER}/wrong`);
    expect((await idTokenWith("id_token:wrong-aud")).claims.aud).toBe("https://untrusted.example");
    expect((await idTokenWith("id_token:missing-aud")).claims.aud).toBeUndefined();
    expect((await idTokenWith("id_token:extra-aud")).claims.aud).toEqual([
      "latchkey",
      "https://untrusted.example",
    ]);
    expect((await idTokenWith("id_token:missing-iat")).claims.iat).toBeUndefined();
    expect((await idTokenWith("id_token:future-iat")).claims.iat).toBeGreaterThan(now + 3000);
    expect((await idTokenWith("id_token:expired")).claims.exp).toBeLessThan(now - 3000);
    expect((await idTokenWith("id_token:missing-sub")).claims.sub).toBeUndefined();
    expect((await idTokenWith("id_token:wrong-nonce")).claims.nonce).toBe("n-1-wrong");
    expect((await idTokenWith("id_token:missing-nonce")).claims.nonce).toBeUndefined();
    const good = await idTokenWith("id_token:kid-absent");
    expect(good.header.kid).toBeUndefined();
    expect(good.claims).toMatchObject({ iss: ISSUER, aud: "latchkey", sub: "alice", nonce: "n-1" });
  });

  it("S45: kid absent with several keys: the JWKS publishes a decoy key of the same type", async () => {
    const { fake, header } = await idTokenWith("id_token:kid-absent-several-keys");
    expect(header.kid).toBeUndefined();
    const jwks = await (await fake.fetch(new Request(fake.endpoints.jwks))).json();
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0].kty).toBe(jwks.keys[1].kty);
  });

  it("S4: an ID-token fault with times: 1 fires once, and the log records it", async () => {
    const { fake } = await idTokenWith("id_token:wrong-iss");
    const entry = fake.requests.find((request) => request.endpoint === "token");
    expect(entry?.faults).toEqual(["id_token:wrong-iss"]);
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    expect(decodeJwt(body.id_token ?? "").iss).toBe(ISSUER);
  });

  // The independent client must refuse each defect, and accept the control cases.
  const verdicts: [FakeFaultName, "accept" | "reject"][] = [
    ["id_token:bad-signature", "reject"],
    ["id_token:alg-none", "reject"],
    ["id_token:hs256-client-id", "reject"],
    ["id_token:wrong-iss", "reject"],
    ["id_token:wrong-aud", "reject"],
    ["id_token:missing-aud", "reject"],
    ["id_token:extra-aud", "reject"],
    ["id_token:missing-iat", "reject"],
    ["id_token:expired", "reject"],
    ["id_token:missing-sub", "reject"],
    ["id_token:wrong-nonce", "reject"],
    ["id_token:missing-nonce", "reject"],
    ["id_token:kid-absent", "accept"],
    ["id_token:kid-absent-several-keys", "reject"],
    ["authorize:iss-wrong", "reject"],
    ["authorize:iss-missing", "reject"],
    ["authorize:state-missing", "reject"],
    ["authorize:state-wrong", "reject"],
    ["authorize:access-denied", "reject"],
    ["token:no-expires-in", "accept"],
    ["token:token-type-uppercase", "accept"],
  ];
  for (const [fault, verdict] of verdicts) {
    it(`S43: openid-client ${verdict}s ${fault}`, async () => {
      const fake = await server();
      const config = await relyingParty(fake);
      fake.setFault(fault, { times: 1 });
      const login = rpLogin(fake, config);
      if (verdict === "accept") {
        await expect(login).resolves.toHaveProperty("access_token");
      } else {
        await expect(login).rejects.toThrow();
      }
      expect(fake.activeFaults()).toEqual([]);
    });
  }

  it("S43: an ID token issued an hour in the future (openid-client 6 does not check iat against the clock: the fake shows it)", async () => {
    const fake = await server();
    const config = await relyingParty(fake);
    fake.setFault("id_token:future-iat", { times: 1 });
    const tokens = await rpLogin(fake, config);
    expect(tokens.claims()?.iat).toBeGreaterThan(Date.now() / 1000 + 3000);
  });
});

describe("S45: signing-key rotation", () => {
  it("S45: rotateKeys signs with a new kid; old keys stay published unless retired", async () => {
    const fake = await server();
    const first = decodeProtectedHeader(
      (await exchange(fake, await authorizeOk(fake, { scope: "openid" }))).body.id_token ?? "",
    ).kid;
    const kid = await fake.rotateKeys();
    expect(kid).not.toBe(first);
    const { body } = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    expect(decodeProtectedHeader(body.id_token ?? "").kid).toBe(kid);
    let jwks = await (await fake.fetch(new Request(fake.endpoints.jwks))).json();
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual([kid, first]);
    await fake.rotateKeys({ keepPrevious: false });
    jwks = await (await fake.fetch(new Request(fake.endpoints.jwks))).json();
    expect(jwks.keys).toHaveLength(1);
    // Access tokens signed by retired keys still work at the server.
    expect((await userinfo(fake, body.access_token)).status).toBe(200);
  });

  it("S45: openid-client picks up a rotated key by refetching the JWKS", async () => {
    const fake = await server();
    const config = await relyingParty(fake);
    await rpLogin(fake, config);
    await fake.rotateKeys({ keepPrevious: false });
    fake.clearRequests();
    // openid-client refetches for an unknown kid only when its cached JWKS is 60 s old or more.
    await expect(rpLogin(fake, config)).rejects.toThrow(/no applicable keys/);
    vi.useFakeTimers({ toFake: ["Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(rpLogin(fake, config)).resolves.toHaveProperty("access_token");
    expect(fake.count("jwks")).toBe(1);
  });
});

describe("S4: discovery, token response, authorization response, refresh and userinfo faults", () => {
  it("S19: discovery:issuer-mismatch publishes another issuer, and openid-client refuses it", async () => {
    const fake = await server({ faults: ["discovery:issuer-mismatch"] });
    const metadata = await (await fake.fetch(new Request(fake.endpoints.oauthMetadata))).json();
    expect(metadata.issuer).toBe(`${ISSUER}/wrong`);
    await expect(relyingParty(fake)).rejects.toThrow();
  });

  it("S32: token:no-expires-in and token:token-type-uppercase", async () => {
    const fake = await server({ faults: ["token:no-expires-in", "token:token-type-uppercase"] });
    const { body } = await exchange(fake, await authorizeOk(fake));
    expect(body.expires_in).toBeUndefined();
    expect(body.token_type).toBe("BEARER");
  });

  it("S15/S17: authorization response faults: iss wrong/missing, state missing/wrong, access_denied", async () => {
    const fake = await server();
    const params = async (): Promise<URLSearchParams> => {
      const { challenge } = newPkce();
      const response = await authorizeRequest(fake, {
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s1",
      });
      return new URL(response.headers.get("location") ?? "").searchParams;
    };
    fake.setFault("authorize:iss-wrong", { times: 1 });
    expect((await params()).get("iss")).toBe(`${ISSUER}/wrong`);
    fake.setFault("authorize:iss-missing", { times: 1 });
    expect((await params()).has("iss")).toBe(false);
    fake.setFault("authorize:state-missing", { times: 1 });
    expect((await params()).has("state")).toBe(false);
    fake.setFault("authorize:state-wrong", { times: 1 });
    expect((await params()).get("state")).toBe("s1-wrong");
    fake.setFault("authorize:access-denied", { times: 1 });
    const denied = await params();
    expect(Object.fromEntries(denied)).toMatchObject({
      error: "access_denied",
      state: "s1",
      iss: ISSUER,
    });
    expect(denied.has("code")).toBe(false);
    expect((await params()).get("code")).not.toBeNull();
  });

  it("S46: refresh:id_token-other-iss / -other-sub change only ID tokens from a refresh; openid-client refuses them", async () => {
    const fake = await server({ faults: ["refresh:id_token-other-iss"] });
    const first = await exchange(fake, await authorizeOk(fake, { scope: "openid" }));
    expect(decodeJwt(first.body.id_token ?? "").iss).toBe(ISSUER);
    const refreshed = await refresh(fake, first.body.refresh_token);
    expect(decodeJwt(refreshed.body.id_token ?? "").iss).toBe(`${ISSUER}/wrong`);

    const other = await server();
    const config = await relyingParty(other);
    const tokens = await rpLogin(other, config);
    other.setFault("refresh:id_token-other-iss", { times: 1 });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toThrow();
    // openid-client 6 does not compare sub across a refresh (S46 asks latchkey to): the fake sends it.
    const again = await rpLogin(other, config);
    other.setFault("refresh:id_token-other-sub", { times: 1 });
    const otherSub = await oidc.refreshTokenGrant(config, again.refresh_token ?? "");
    expect(otherSub.claims()?.sub).toBe("alice-other");
  });

  it("S47: userinfo:sub-mismatch, and openid-client discards the response", async () => {
    const fake = await server();
    const config = await relyingParty(fake);
    const tokens = await rpLogin(fake, config);
    fake.setFault("userinfo:sub-mismatch", { times: 1 });
    const raw = await userinfo(fake, tokens.access_token);
    expect((await raw.json()).sub).toBe("alice-other");
    fake.setFault("userinfo:sub-mismatch", { times: 1 });
    await expect(oidc.fetchUserInfo(config, tokens.access_token, "alice")).rejects.toThrow();
  });
});

describe("S4: HTTP faults, hooks and overrides", () => {
  it("S33: ENDPOINT:5xx answers the chosen status with Retry-After, then recovers", async () => {
    const fake = await server({ faults: [{ name: "token:5xx", times: 1, status: 502 }] });
    const authorized = await authorizeOk(fake);
    const failed = await exchange(fake, authorized);
    expect(failed.response.status).toBe(502);
    expect(failed.response.headers.get("retry-after")).toBe("1");
    expect(failed.body.error).toBe("server_error");
    // The code was not consumed by the faulted request.
    expect((await exchange(fake, authorized)).response.status).toBe(200);
  });

  it("S4: malformed-json and html-error bodies", async () => {
    const fake = await server({ faults: [{ name: "discovery:malformed-json", times: 1 }] });
    const bad = await fake.fetch(new Request(fake.endpoints.openidConfiguration));
    expect(bad.headers.get("content-type")).toBe("application/json");
    await expect(bad.json()).rejects.toThrow(SyntaxError);
    fake.setFault("jwks:html-error", { times: 1 });
    const html = await fake.fetch(new Request(fake.endpoints.jwks));
    expect(html.status).toBe(502);
    expect(html.headers.get("content-type")).toContain("text/html");
  });

  it("S30: ENDPOINT:delay waits delayMs of real time, and honours the request's abort signal", async () => {
    const fake = await server({ faults: [{ name: "jwks:delay", delayMs: 40, times: 1 }] });
    const started = performance.now();
    expect((await fake.fetch(new Request(fake.endpoints.jwks))).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    fake.setFault("jwks:delay", { delayMs: 60_000, times: 1 });
    const controller = new AbortController();
    const pending = fake.fetch(new Request(fake.endpoints.jwks, { signal: controller.signal }));
    controller.abort();
    await expect(pending).resolves.toHaveProperty("status", 500);
  });

  it("S33: ENDPOINT:drop rejects the in-memory fetch like a network failure and logs status 0", async () => {
    const fake = await server({ faults: [{ name: "token:drop", times: 1 }] });
    const authorized = await authorizeOk(fake);
    const error = await exchange(fake, authorized).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(isDroppedConnection(error)).toBe(true);
    expect(fake.requests.at(-1)).toMatchObject({
      endpoint: "token",
      status: 0,
      faults: ["token:drop"],
    });
  });

  it("S33: ENDPOINT:drop over a socket: the listener destroys the connection", async () => {
    await using running = await startFakeAuthorizationServer({
      faults: [{ name: "jwks:drop", times: 1 }],
    });
    await expect(fetch(running.endpoints.jwks)).rejects.toThrow(/fetch failed/);
    expect((await fetch(running.endpoints.jwks)).status).toBe(200);
  });

  it("S4: once() answers the next request to an endpoint, then normal service resumes", async () => {
    const fake = await server();
    fake.once("discovery", new Response("nope", { status: 418 }));
    fake.once("discovery", (request) => Response.json({ path: new URL(request.url).pathname }));
    expect((await fake.fetch(new Request(fake.endpoints.oauthMetadata))).status).toBe(418);
    expect(await (await fake.fetch(new Request(fake.endpoints.oauthMetadata))).json()).toEqual({
      path: "/.well-known/oauth-authorization-server/t",
    });
    expect((await fake.fetch(new Request(fake.endpoints.oauthMetadata))).status).toBe(200);
  });

  it("S4: use() hooks see every request and may replace responses; removing one stops it", async () => {
    const fake = await server();
    const seen: string[] = [];
    const remove = fake.use(async (request, next, info) => {
      seen.push(`${request.method} ${info.endpoint}`);
      const response = await next();
      return info.endpoint === "jwks" ? new Response(null, { status: 500 }) : response;
    });
    expect((await fake.fetch(new Request(fake.endpoints.jwks))).status).toBe(500);
    expect((await fake.fetch(new Request(fake.endpoints.openidConfiguration))).status).toBe(200);
    expect(seen).toEqual(["GET jwks", "GET discovery"]);
    expect(fake.count("jwks", { status: 500 })).toBe(1);
    remove();
    expect((await fake.fetch(new Request(fake.endpoints.jwks))).status).toBe(200);
    expect(seen).toHaveLength(2);
  });

  it("S4: a raw socket server sees nothing of the fake (sanity of the helper)", async () => {
    const plain = createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    const { port } = plain.address() as AddressInfo;
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("ok");
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });
});
