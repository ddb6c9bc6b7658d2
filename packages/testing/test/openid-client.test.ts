import * as oidc from "openid-client";
import { describe, expect, it } from "vitest";
import { startFakeAuthorizationServer } from "../src/index.js";
import { REDIRECT_URI } from "./helpers.js";
import { relyingParty } from "./rp.js";

const CLIENTS = [{ clientId: "latchkey" }, { clientId: "ci", clientSecret: "s3cret" }];

/** openid-client 6, an independent certified RP library, drives every flow over real HTTP. */
describe("openid-client against the listener", () => {
  it("S10/S17/S43: authorization code + PKCE with iss, refresh with rotation, userinfo, introspection, revocation", async () => {
    await using server = await startFakeAuthorizationServer({
      clients: CLIENTS,
      issuerPath: "/tenant",
      users: { alice: { claims: { email: "alice@example.com" } } },
    });
    const config = await relyingParty(server, { inMemory: false });
    expect(config.serverMetadata().authorization_response_iss_parameter_supported).toBe(true);
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid email",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
    });
    const redirect = await fetch(url, { redirect: "manual" });
    const callback = new URL(redirect.headers.get("location") ?? "");
    expect(callback.searchParams.get("iss")).toBe(server.issuer);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    });
    expect(tokens.claims()).toMatchObject({ sub: "alice", email: "alice@example.com" });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, "alice");
    expect(info.email).toBe("alice@example.com");

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? "");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token ?? "")).rejects.toMatchObject({
      error: "invalid_grant",
    });

    const ci = await relyingParty(server, {
      inMemory: false,
      clientId: "ci",
      clientSecret: "s3cret",
    });
    const fresh = await oidc.tokenIntrospection(ci, refreshed.access_token);
    expect(fresh.active).toBe(false); // the reuse above revoked the whole family (S3)
    expect((await oidc.tokenIntrospection(ci, "nope")).active).toBe(false);
    await oidc.tokenRevocation(config, refreshed.refresh_token ?? "", {
      token_type_hint: "refresh_token",
    });
  });

  it("client credentials, token exchange, introspection and revocation of a live token", async () => {
    await using server = await startFakeAuthorizationServer({ clients: CLIENTS });
    const ci = await relyingParty(server, {
      inMemory: false,
      clientId: "ci",
      clientSecret: "s3cret",
    });
    const machine = await oidc.clientCredentialsGrant(ci, { scope: "api" });
    expect(machine.token_type).toBe("bearer");
    const exchanged = await oidc.genericGrantRequest(
      ci,
      "urn:ietf:params:oauth:grant-type:token-exchange",
      {
        subject_token: machine.access_token,
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token",
        audience: "https://downstream.example",
      },
    );
    expect(exchanged.issued_token_type).toBe("urn:ietf:params:oauth:token-type:access_token");
    const introspected = await oidc.tokenIntrospection(ci, exchanged.access_token);
    expect(introspected).toMatchObject({
      active: true,
      aud: "https://downstream.example",
      sub: "ci",
    });
    await oidc.tokenRevocation(ci, exchanged.access_token);
    expect((await oidc.tokenIntrospection(ci, exchanged.access_token)).active).toBe(false);
  });

  it("S48: device authorization grant with polling", async () => {
    await using server = await startFakeAuthorizationServer({
      clients: CLIENTS,
      deviceIntervalSeconds: 1,
      faults: [{ name: "device:authorization_pending", times: 1 }],
    });
    const config = await relyingParty(server, { inMemory: false });
    const device = await oidc.initiateDeviceAuthorization(config, { scope: "openid" });
    expect(device.verification_uri_complete).toContain(device.user_code);
    server.approveDevice(device.user_code);
    const tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
    expect(tokens.claims()?.sub).toBe("alice");
    expect(
      server.count("token", { grantType: "urn:ietf:params:oauth:grant-type:device_code" }),
    ).toBe(2);
  });

  it("PAR: buildAuthorizationUrlWithPAR, then the code flow", async () => {
    await using server = await startFakeAuthorizationServer({
      clients: CLIENTS,
      requirePushedAuthorizationRequests: true,
    });
    const config = await relyingParty(server, { inMemory: false });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
    });
    const redirect = await fetch(url, { redirect: "manual" });
    const tokens = await oidc.authorizationCodeGrant(
      config,
      new URL(redirect.headers.get("location") ?? ""),
      { pkceCodeVerifier: verifier, idTokenExpected: true },
    );
    expect(tokens.access_token).toBeTruthy();
  });
});
