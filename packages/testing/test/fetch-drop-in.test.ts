import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as oidc from "openid-client";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  createFakeAuthorizationServer,
  followLoginRedirects,
  startFakeAuthorizationServer,
} from "../src/index.js";
import { newPkce, REDIRECT_URI } from "./helpers.js";

const ISSUER = "http://127.0.0.1:9999/t";

// Issue 12 point 14: `server.fetch` is a drop-in `fetch`, and the headless browser stops at the
// app's redirect URI instead of asking the fake server for the app's callback.
describe("server.fetch is a drop-in fetch", () => {
  it("takes a string, a URL or a Request, with an init, as fetch does", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const metadata = await (await server.fetch(server.endpoints.openidConfiguration)).json();
    expect(metadata.issuer).toBe(ISSUER);
    expect((await server.fetch(new URL(server.endpoints.jwks))).status).toBe(200);
    const token = await server.fetch(server.endpoints.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: "latchkey" }),
    });
    expect(token.status).toBe(400);
    expect(server.requests.map((entry) => `${entry.method} ${entry.endpoint}`)).toEqual([
      "GET discovery",
      "GET jwks",
      "POST token",
    ]);
    expect(server.requests.at(-1)?.params).toMatchObject({ grant_type: "client_credentials" });
  });

  it("a relative URL is refused like fetch refuses it: a rejected promise, not a throw", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const pending = server.fetch("/t/jwks");
    await expect(pending).rejects.toBeInstanceOf(TypeError);
    expect(server.requests).toHaveLength(0);
  });

  it("S10/S17: openid-client with customFetch = server.fetch completes a code flow in memory", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      users: { alice: { claims: { email: "alice@example.com" } } },
    });
    const config = await oidc.discovery(new URL(ISSUER), "latchkey", undefined, oidc.None(), {
      [oidc.customFetch]: server.fetch,
      execute: [oidc.allowInsecureRequests],
    });
    oidc.enableNonRepudiationChecks(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid email",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const result = await followLoginRedirects(authorizationUrl.href, { fetch: server.fetch });
    expect(result).toMatchObject({ status: 302, body: "", hops: 1 });
    expect(result.finalUrl).toBe(result.callbackUrl);
    const callback = new URL(result.callbackUrl ?? "");
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe(state);
    expect(callback.searchParams.get("iss")).toBe(ISSUER);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.email).toBe("alice@example.com");
    const info = await oidc.fetchUserInfo(config, tokens.access_token, "alice");
    expect(info.email).toBe("alice@example.com");
    // The app's callback was never asked of the fake server (it used to get a 404 for it).
    expect(server.requests.some((entry) => entry.path === "/callback")).toBe(false);
    expect(server.requests.map((entry) => entry.endpoint)).toEqual([
      "discovery",
      "authorize",
      "token",
      "jwks",
      "userinfo",
    ]);
  });
});

describe("followLoginRedirects stops at the redirect URI", () => {
  it("with deliver: false over sockets, returns the callback URL and the app sees no request", async () => {
    await using server = await startFakeAuthorizationServer();
    let appRequests = 0;
    const app = createServer((_request, response) => {
      appRequests += 1;
      response.end("app");
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => app.close(() => resolve())));
    const redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
    const { challenge } = newPkce();
    const url = new URL(server.endpoints.authorization);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s-1",
    }).toString();
    const result = await followLoginRedirects(url.href, { deliver: false });
    const callback = new URL(result.callbackUrl ?? "");
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get("code")).toMatch(/^[\w-]{43}$/);
    expect(callback.searchParams.get("state")).toBe("s-1");
    expect(result).toMatchObject({ finalUrl: callback.href, status: 302, body: "", hops: 1 });
    expect(appRequests).toBe(0);
    expect(server.count("authorize", { status: 302 })).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it("with the global fetch (default), still delivers to the app's listener, as a browser", async () => {
    await using server = await startFakeAuthorizationServer();
    const seen: string[] = [];
    const app = createServer((request, response) => {
      seen.push(request.url ?? "");
      response.end("app");
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => app.close(() => resolve())));
    const redirectUri = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
    const url = new URL(server.endpoints.authorization);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: redirectUri,
      code_challenge: newPkce().challenge,
      code_challenge_method: "S256",
    }).toString();
    const result = await followLoginRedirects(url.href, { fetch: globalThis.fetch });
    expect(result).toMatchObject({ status: 200, body: "app", hops: 1 });
    expect(result.callbackUrl).toBe(result.finalUrl);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.startsWith("/callback?code=")).toBe(true);
  });

  it("an error response (access_denied) is returned as the callback URL too", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      faults: [{ name: "authorize:access-denied", times: 1 }],
    });
    const { challenge } = newPkce();
    const url = new URL(server.endpoints.authorization);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s-2",
    }).toString();
    const { callbackUrl } = await followLoginRedirects(url.href, { fetch: server.fetch });
    expect(new URL(callbackUrl ?? "").searchParams.get("error")).toBe("access_denied");
    expect(server.requests).toHaveLength(1);
  });

  it("after PAR (no redirect_uri in the URL): stops at the first redirect leaving the server", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const { challenge } = newPkce();
    const pushed = await server.fetch(server.endpoints.pushedAuthorizationRequest, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s-3",
      }),
    });
    const { request_uri } = (await pushed.json()) as { request_uri: string };
    const url = new URL(server.endpoints.authorization);
    url.search = new URLSearchParams({ client_id: "latchkey", request_uri }).toString();
    const { callbackUrl, hops } = await followLoginRedirects(url.href, { fetch: server.fetch });
    expect(callbackUrl?.startsWith(`${REDIRECT_URI}?code=`)).toBe(true);
    expect(hops).toBe(1);
    expect(server.requests.map((entry) => entry.endpoint)).toEqual(["par", "authorize"]);
  });
});
