import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, redirectUriMatches } from "../src/index.js";
import { authorizeRequest, newPkce } from "./helpers.js";

const cases: ReadonlyArray<[registered: string, requested: string, expected: boolean]> = [
  // exact match
  ["http://127.0.0.1/callback", "http://127.0.0.1/callback", true],
  ["https://app.example/cb", "https://app.example/cb", true],
  // loopback port relaxed: 127.0.0.1, [::1], localhost
  ["http://127.0.0.1/callback", "http://127.0.0.1:49152/callback", true],
  ["http://[::1]/callback", "http://[::1]:1/callback", true],
  ["http://localhost/callback", "http://localhost:65535/callback", true],
  ["http://127.0.0.1:8080/callback", "http://127.0.0.1:9090/callback", true],
  ["http://127.0.0.1/callback?x=1", "http://127.0.0.1:5000/callback?x=1", true],
  // invalid ports
  ["http://127.0.0.1/callback", "http://127.0.0.1:0/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:65536/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:/callback", false],
  // a port with a leading zero is not canonical (issue 13 point 16)
  ["http://127.0.0.1:8080/callback", "http://127.0.0.1:08080/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:0443/callback", false],
  ["http://localhost:8080/callback", "http://localhost:008080/callback", false],
  // host not relaxed
  ["http://127.0.0.1/callback", "http://[::1]:5000/callback", false],
  ["http://127.0.0.1/callback", "http://localhost:5000/callback", false],
  ["http://localhost/callback", "http://LOCALHOST:5000/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.2:5000/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1.evil.example:5000/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1@evil.example/callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000@evil.example/callback", false],
  // path not relaxed
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/callback/", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/Callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/callback/../callback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/%63allback", false],
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000", false],
  // query not relaxed
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/callback?x=1", false],
  ["http://127.0.0.1/callback?x=1", "http://127.0.0.1:5000/callback?x=2", false],
  ["http://127.0.0.1/callback?x=1", "http://127.0.0.1:5000/callback", false],
  // fragment never
  ["http://127.0.0.1/callback", "http://127.0.0.1:5000/callback#x", false],
  // scheme not relaxed
  ["http://127.0.0.1/callback", "https://127.0.0.1:5000/callback", false],
  ["http://127.0.0.1/callback", "HTTP://127.0.0.1:5000/callback", false],
  // https non-loopback: exact, no port relaxation, no normalisation
  ["https://app.example/cb", "https://app.example:8443/cb", false],
  ["https://app.example/cb", "https://app.example:443/cb", false],
  ["https://app.example/cb", "https://APP.example/cb", false],
  ["https://app.example/cb", "https://app.example/cb/", false],
  ["https://app.example/cb", "https://app.example/cb?x=1", false],
  ["https://app.example/cb", "http://app.example/cb", false],
  ["http://app.example/cb", "http://app.example:8080/cb", false],
];

describe("redirectUriMatches", () => {
  it.each(cases)("S1: registered %s, requested %s → %s", (registered, requested, expected) => {
    expect(redirectUriMatches(registered, requested)).toBe(expected);
  });
});

describe("authorize endpoint redirect_uri checks", () => {
  it("S1: a mismatching redirect_uri gets a 400 HTML page and never a redirect", async () => {
    const server = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
    const { challenge } = newPkce();
    for (const redirectUri of [
      "http://127.0.0.1:5000/callback/",
      "http://127.0.0.2:5000/callback",
      "https://127.0.0.1:5000/callback",
      "http://127.0.0.1:5000/callback?next=x",
      "http://evil.example/callback",
      undefined,
    ]) {
      const response = await authorizeRequest(server, {
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
        state: "s",
      });
      expect(response.status, String(redirectUri)).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    }
  });

  it("S1: the three default loopback forms are accepted with any port", async () => {
    const server = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
    const { challenge } = newPkce();
    for (const redirectUri of [
      "http://127.0.0.1:40000/callback",
      "http://[::1]:40001/callback",
      "http://localhost:40002/callback",
    ]) {
      const response = await authorizeRequest(server, {
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: redirectUri,
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")?.startsWith(`${redirectUri}?code=`)).toBe(true);
    }
  });

  it("S1: a leading-zero port (:08080) does not match a registered :8080 redirect URI", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:1",
      clients: [{ clientId: "app", redirectUris: ["http://127.0.0.1:8080/callback"] }],
    });
    const ask = (redirectUri: string): Promise<Response> =>
      authorizeRequest(server, {
        response_type: "code",
        client_id: "app",
        redirect_uri: redirectUri,
        code_challenge: newPkce().challenge,
        code_challenge_method: "S256",
      });
    const refused = await ask("http://127.0.0.1:08080/callback");
    expect(refused.status).toBe(400);
    expect(refused.headers.get("location")).toBeNull();
    expect((await ask("http://127.0.0.1:8080/callback")).status).toBe(302);
  });

  it("an unknown client_id gets a 400 HTML page and no redirect", async () => {
    const server = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
    const response = await authorizeRequest(server, {
      response_type: "code",
      client_id: "nobody",
      redirect_uri: "http://127.0.0.1:5000/callback",
      code_challenge: newPkce().challenge,
      code_challenge_method: "S256",
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});
