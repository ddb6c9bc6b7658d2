import { createFakeAuthorizationServer, followLoginRedirects } from "@latchkey/testing";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  exchangeCode,
  receiveCallback,
  resolveServer,
} from "../src/index.js";

const ISSUER = "http://127.0.0.1:4000/tenant-a";
const REDIRECT = "http://127.0.0.1:53124/callback";

// Issue 12 point 14: the fake server's `fetch` is injected as is (no wrapper) as core's
// `client.fetch` and oauth4webapi's `customFetch`; the whole code flow runs in memory.
describe("the fake server's fetch as a drop-in transport", () => {
  it("S17 S21: core logs in with client.fetch = idp.fetch, no socket, no wrapper", async () => {
    const idp = await createFakeAuthorizationServer({ issuer: ISSUER });
    const client: ClientOptions = {
      issuer: ISSUER,
      clientId: "latchkey",
      scopes: ["openid"],
      fetch: idp.fetch,
    };
    const server = await resolveServer(client);
    const { state, authorizationUrl } = await beginAuthorization({
      client,
      server,
      redirectUri: REDIRECT,
    });
    // The user's browser, in memory: it stops at the redirect URI and returns it.
    const { callbackUrl } = await followLoginRedirects(authorizationUrl.href, { fetch: idp.fetch });
    expect(callbackUrl?.startsWith(`${REDIRECT}?`)).toBe(true);
    const verdict = receiveCallback(state, callbackUrl ?? "");
    if (verdict.outcome !== "accepted") throw verdict.error;
    const { credentials } = await exchangeCode(verdict.next, { client, server });
    expect(credentials.issuer).toBe(ISSUER);
    expect(credentials.idToken).toBeTruthy();
    expect(idp.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
    expect(idp.requests.some((entry) => entry.path === "/callback")).toBe(false);
  });

  it("oauth4webapi discovery with [customFetch] = idp.fetch", async () => {
    const idp = await createFakeAuthorizationServer({ issuer: ISSUER });
    const response = await oauth.discoveryRequest(new URL(ISSUER), {
      [oauth.customFetch]: idp.fetch,
      [oauth.allowInsecureRequests]: true,
    });
    const metadata = await oauth.processDiscoveryResponse(new URL(ISSUER), response);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/token`);
    expect(idp.count("discovery")).toBe(1);
  });
});
