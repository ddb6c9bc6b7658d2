// The same protocol over real loopback sockets (global fetch, no injected transport).
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  ErrorCode,
  exchangeCode,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  revokeToken,
} from "../src/index.js";

let idp: RunningFakeAuthorizationServer;
beforeAll(async () => {
  idp = await startFakeAuthorizationServer({ issuerPath: "/realms/test" });
});
afterAll(async () => {
  await idp.close();
});

describe("over HTTP on loopback", () => {
  it("S19 S20: discovery of an issuer with a path, plain HTTP allowed only because it is loopback", async () => {
    const client: ClientOptions = { issuer: idp.issuer, clientId: "latchkey" };
    const server = await resolveServer(client, { cache: false });
    expect(server.issuer).toBe(idp.issuer);
    expect(new URL(idp.issuer).pathname).toBe("/realms/test");
  });

  it("S10 S21 S37 S51: login, refresh with rotation and revocation over real sockets", async () => {
    const client: ClientOptions = { issuer: idp.issuer, clientId: "latchkey", scopes: ["openid"] };
    const server = await resolveServer(client);
    const { state, authorizationUrl } = await beginAuthorization({
      client,
      server,
      redirectUri: "http://127.0.0.1:5555/callback",
    });
    const location = (await fetch(authorizationUrl, { redirect: "manual" })).headers.get(
      "location",
    ) as string;
    const verdict = receiveCallback(state, location);
    if (verdict.outcome !== "accepted") throw verdict.error;
    const { credentials } = await exchangeCode(verdict.next, { client, server });
    const refreshed = await refreshCredentials(credentials, { client, server });
    expect(refreshed.refreshToken).not.toBe(credentials.refreshToken);
    expect(await revokeToken({ client, server, token: refreshed.refreshToken as string })).toBe(
      "revoked",
    );
    await expect(refreshCredentials(refreshed, { client, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
  });

  it("S20: a non-loopback plain-HTTP issuer is refused before any request", async () => {
    await expect(
      resolveServer({ issuer: "http://as.example.com", clientId: "x" }),
    ).rejects.toMatchObject({ code: ErrorCode.INSECURE_ENDPOINT });
  });

  it("a closed port is a NETWORK_ERROR", async () => {
    await expect(
      resolveServer({ issuer: "http://127.0.0.1:9", clientId: "x" }, { cache: false }),
    ).rejects.toMatchObject({ code: ErrorCode.NETWORK_ERROR });
  });
});
