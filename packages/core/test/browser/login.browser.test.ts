import { afterAll, describe, expect, it } from "vitest";
import { commands } from "vitest/browser";
import {
  type AwaitingCallbackState,
  beginAuthorization,
  type ClientOptions,
  exchangeCode,
  pollDeviceAuthorization,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  startDeviceAuthorization,
} from "../../src/index.js";

declare module "vitest/browser" {
  interface BrowserCommands {
    startIdp(): Promise<string>;
    stopIdp(): Promise<void>;
    authorize(url: string): Promise<string | null>;
    approveDevice(userCode: string): Promise<void>;
    countRequests(endpoint: string, grantType?: string): Promise<number>;
  }
}

describe("@latchkey/core in real Chromium against the fake server", () => {
  afterAll(async () => {
    await commands.stopIdp();
  });

  it("runs in a browser: no Node globals", () => {
    expect(typeof window).toBe("object");
    expect(typeof (globalThis as { Buffer?: unknown }).Buffer).toBe("undefined");
    expect(typeof (globalThis as { require?: unknown }).require).toBe("undefined");
    expect(navigator.userAgent).toMatch(/Chrome/);
  });

  it("S10 S15 S17: a full login, its state kept in sessionStorage across the redirect, then a refresh", async () => {
    const issuer = await commands.startIdp();
    const client: ClientOptions = {
      issuer,
      clientId: "latchkey",
      scopes: ["openid", "offline_access"],
    };
    const server = await resolveServer(client);
    const redirectUri = "http://127.0.0.1:5173/callback";
    const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri });
    sessionStorage.setItem("latchkey:login", JSON.stringify(state));

    // ...the page navigates away to the authorization server and comes back:
    const callbackUrl = await commands.authorize(authorizationUrl.href);
    expect(callbackUrl).toMatch(/^http:\/\/127\.0\.0\.1:5173\/callback\?/);
    const restored = JSON.parse(
      sessionStorage.getItem("latchkey:login") as string,
    ) as AwaitingCallbackState;
    sessionStorage.removeItem("latchkey:login");

    const forged = receiveCallback(
      restored,
      (callbackUrl as string).replace(/state=[^&]+/, "state=forged"),
    );
    expect(forged.outcome).toBe("ignored");
    const verdict = receiveCallback(restored, callbackUrl as string);
    if (verdict.outcome !== "accepted") throw verdict.error;
    const { credentials } = await exchangeCode(verdict.next, { client, server });
    expect(credentials.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(credentials.idToken).toBeTruthy();
    expect(credentials.expiresAt).toBeGreaterThan(Date.now());

    const refreshed = await refreshCredentials(credentials, { client, server });
    expect(refreshed.refreshToken).not.toBe(credentials.refreshToken);
    expect(await commands.countRequests("token", "refresh_token")).toBe(1);
  });

  it("S48 S49: a device flow, polled from the browser", async () => {
    const issuer = await commands.startIdp();
    const client: ClientOptions = { issuer, clientId: "latchkey", scopes: ["openid"] };
    const server = await resolveServer(client);
    const authorization = await startDeviceAuthorization({ client, server });
    let polls = 0;
    const credentials = await pollDeviceAuthorization(authorization, {
      client,
      server,
      onPoll: () => {
        polls++;
        if (polls === 1) void commands.approveDevice(authorization.userCode);
      },
    });
    expect(credentials.accessToken).toBeTruthy();
    expect(polls).toBeGreaterThanOrEqual(1);
  });
});
