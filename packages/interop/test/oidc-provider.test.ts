import { readFileSync } from "node:fs";
import {
  beginAuthorization,
  type ClientOptions,
  clientCredentialsGrant,
  ErrorCode,
  exchangeCode,
  parseStoredCredentials,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  revokeToken,
} from "@latchkey/core";
import { afterEach, describe, expect, it } from "vitest";
import { browse } from "./fixtures/oidc-browser.mjs";
import {
  cleanEnv,
  credentialsFile,
  killAll,
  latchkey,
  OIDC_BROWSER,
  opArgs,
  tempDir,
} from "./support/cli.js";
import {
  PUBLIC_CLIENT_ID,
  type RunningOidcProvider,
  SERVICE_CLIENT_ID,
  SERVICE_CLIENT_SECRET,
  startOidcProvider,
} from "./support/oidc.js";

let op: RunningOidcProvider | undefined;
afterEach(async () => {
  killAll();
  await op?.close();
  op = undefined;
});

const REFRESH = "refresh_token";
const CODE = "authorization_code";
const DEVICE = "urn:ietf:params:oauth:grant-type:device_code";

/** The client the CLI is configured as: offline_access + prompt=consent for a refresh token. */
function publicClient(issuer: string): ClientOptions {
  return {
    issuer,
    clientId: PUBLIC_CLIENT_ID,
    scopes: ["openid", "offline_access"],
    authorizationParams: { prompt: "consent" },
  };
}

async function userinfoSub(issuer: string, accessToken: string): Promise<unknown> {
  const server = await resolveServer({ issuer, clientId: PUBLIC_CLIENT_ID }, { cache: false });
  const response = await fetch(server.userinfo_endpoint as string, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { sub?: unknown }).sub;
}

describe("@latchkey/core against oidc-provider 9 (in-process)", () => {
  it("S19 S10 S17 S21: discovery with an issuer path, code + PKCE with login and consent, RFC 9207 iss, refresh rotation", async () => {
    op = await startOidcProvider({ path: "/tenant-a" });
    const client = publicClient(op.issuer);
    const server = await resolveServer(client, { cache: false });
    // S19: the document found for an issuer with a path names exactly that issuer.
    expect(server.issuer).toBe(op.issuer);
    expect(new URL(server.authorization_endpoint as string).pathname).toBe("/tenant-a/auth");
    expect(server.authorization_response_iss_parameter_supported).toBe(true);
    expect(server.code_challenge_methods_supported).toContain("S256");

    // No listener at this port: the headless browser stops before loading the callback,
    // like a browser on another machine, and hands back the address it ended on.
    const redirectUri = "http://127.0.0.1:49151/callback";
    const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri });
    expect(state.issRequired).toBe(true);
    const { finalUrl } = await browse(authorizationUrl.href, {
      stopAt: (url) => url.startsWith(redirectUri),
    });
    const callback = new URL(finalUrl);
    expect(callback.searchParams.get("iss")).toBe(op.issuer);
    expect(callback.searchParams.get("state")).toBe(state.state);

    // S17: a callback whose iss is wrong or missing is refused, before any token request.
    const wrongIss = new URL(finalUrl);
    wrongIss.searchParams.set("iss", `${op.issuer}/other`);
    expect(receiveCallback(state, wrongIss)).toMatchObject({
      outcome: "failed",
      error: { code: ErrorCode.ISS_MISMATCH },
    });
    const noIss = new URL(finalUrl);
    noIss.searchParams.delete("iss");
    expect(receiveCallback(state, noIss)).toMatchObject({
      outcome: "failed",
      error: { code: ErrorCode.ISS_MISMATCH },
    });
    expect(op.grants(CODE)).toBe(0);

    const verdict = receiveCallback(state, finalUrl);
    if (verdict.outcome !== "accepted") throw new Error(`callback ${verdict.outcome}`);
    const { credentials } = await exchangeCode(verdict.next, { client, server });
    expect(op.grants(CODE)).toBe(1);
    expect(credentials.issuer).toBe(op.issuer);
    expect(credentials.refreshToken).toBeTruthy();
    expect(credentials.idToken).toBeTruthy();
    expect(credentials.scope?.split(" ")).toEqual(
      expect.arrayContaining(["openid", "offline_access"]),
    );
    expect(await userinfoSub(op.issuer, credentials.accessToken)).toBe("alice");

    // S3 S37: oidc-provider rotates public clients' refresh tokens; latchkey keeps the new one.
    const refreshed = await refreshCredentials(credentials, { client, server });
    expect(refreshed.refreshToken).toBeTruthy();
    expect(refreshed.refreshToken).not.toBe(credentials.refreshToken);
    expect(refreshed.accessToken).not.toBe(credentials.accessToken);
    const again = await refreshCredentials(refreshed, { client, server });
    expect(op.grants(REFRESH)).toBe(2);

    // Reusing a consumed refresh token is invalid_grant, and oidc-provider revokes the grant.
    await expect(refreshCredentials(credentials, { client, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
    await expect(refreshCredentials(again, { client, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
  });

  it("S51: revocation of the refresh token ends the grant", async () => {
    op = await startOidcProvider();
    const client = publicClient(op.issuer);
    const server = await resolveServer(client, { cache: false });
    const redirectUri = "http://127.0.0.1:49152/callback";
    const { state, authorizationUrl } = await beginAuthorization({ client, server, redirectUri });
    const { finalUrl } = await browse(authorizationUrl.href, {
      stopAt: (url) => url.startsWith(redirectUri),
    });
    const verdict = receiveCallback(state, finalUrl);
    if (verdict.outcome !== "accepted") throw new Error(`callback ${verdict.outcome}`);
    const { credentials } = await exchangeCode(verdict.next, { client, server });
    expect(await revokeToken({ client, server, token: credentials.refreshToken as string })).toBe(
      "revoked",
    );
    await expect(refreshCredentials(credentials, { client, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
  });

  it("client credentials with a confidential client (client_secret_basic)", async () => {
    op = await startOidcProvider();
    const client: ClientOptions = {
      issuer: op.issuer,
      clientId: SERVICE_CLIENT_ID,
      clientSecret: SERVICE_CLIENT_SECRET,
      scopes: ["api:read"],
    };
    const server = await resolveServer(client, { cache: false });
    const credentials = await clientCredentialsGrant({ client, server });
    expect(credentials.accessToken).toBeTruthy();
    expect(credentials.refreshToken).toBeUndefined();
    expect(credentials.expiresAt).toBeGreaterThan(Date.now());
    await expect(
      clientCredentialsGrant({ client: { ...client, clientSecret: "wrong" }, server }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_CLIENT });
  });
});

describe("the latchkey process against oidc-provider 9", () => {
  it("S19 S21 S37 S51: login with headless login + consent (issuer with a path), token, refresh with rotation, logout revokes", async () => {
    op = await startOidcProvider({ path: "/realms/dev" });
    const storeDir = tempDir();
    const args = opArgs(op.issuer, storeDir);

    const login = await latchkey(["login", ...args, "--browser-command", OIDC_BROWSER]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain("Logged in to");
    expect(op.grants(CODE)).toBe(1);
    const stored = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));
    expect(stored.issuer).toBe(op.issuer);
    expect(stored.refreshToken).toBeTruthy();

    const token = await latchkey(["token", "--no-login", ...args]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toBe(`${stored.accessToken}\n`);
    expect(await userinfoSub(op.issuer, stored.accessToken)).toBe("alice");

    const refresh = await latchkey(["refresh", ...args]);
    expect(refresh.code, refresh.stderr).toBe(0);
    expect(op.grants(REFRESH)).toBe(1);
    const rotated = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));
    expect(rotated.refreshToken).toBeTruthy();
    expect(rotated.refreshToken).not.toBe(stored.refreshToken);

    // A second refresh uses the rotated token (a reuse of the old one would revoke the grant).
    expect((await latchkey(["refresh", ...args])).code).toBe(0);
    expect(op.grants(REFRESH)).toBe(2);
    expect(op.events.filter((e) => e.name === "grant.error")).toEqual([]);
    const latest = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));

    const logout = await latchkey(["logout", ...args]);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stderr).not.toContain("warning");
    expect(
      op.requests.filter((r) => r.path === "/realms/dev/token/revocation" && r.status === 200),
    ).toHaveLength(1);
    expect(op.events.filter((e) => e.name === "grant.revoked")).toHaveLength(1);
    expect(() => credentialsFile(storeDir)).toThrow();
    const client = publicClient(op.issuer);
    const server = await resolveServer(client, { cache: false });
    await expect(refreshCredentials(latest, { client, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_GRANT,
    });
    expect((await latchkey(["status", ...args])).code).toBe(4);
  });

  it("S48 S50: device flow, approved through oidc-provider's device pages headlessly", async () => {
    op = await startOidcProvider();
    const storeDir = tempDir();
    const args = opArgs(op.issuer, storeDir);
    const login = await latchkey(
      ["login", "--flow", "device", ...args, "--browser-command", OIDC_BROWSER],
      { timeoutMs: 30_000 },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/enter the code: [A-Z]{4}-[A-Z]{4}/);
    expect(op.grants(DEVICE)).toBe(1);
    const stored = parseStoredCredentials(readFileSync(credentialsFile(storeDir), "utf8"));
    expect(await userinfoSub(op.issuer, stored.accessToken)).toBe("alice");
  }, 30_000);

  it("client credentials through the CLI", async () => {
    op = await startOidcProvider();
    const result = await latchkey(
      [
        "token",
        "--flow",
        "client-credentials",
        "--issuer",
        op.issuer,
        "--client-id",
        SERVICE_CLIENT_ID,
        "--scope",
        "api:read",
        "--store",
        "memory",
      ],
      { env: cleanEnv({ LATCHKEY_CLIENT_SECRET: SERVICE_CLIENT_SECRET }) },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(20);
    expect(op.grants("client_credentials")).toBe(1);
    expect(result.stderr).not.toContain(SERVICE_CLIENT_SECRET);
  });

  it("S15: a login whose callback carries another state never reaches the token endpoint", async () => {
    op = await startOidcProvider();
    const storeDir = tempDir();
    // The browser logs in and consents, but the callback carries a forged state (login CSRF).
    const result = await latchkey([
      "login",
      ...opArgs(op.issuer, storeDir, ["--timeout", "2"]),
      "--browser-command",
      `${OIDC_BROWSER} --tamper-state`,
    ]);
    // The loopback server refuses it and keeps waiting; the login times out with exit 5.
    expect(result.code, result.stderr).toBe(5);
    expect(op.grants(CODE)).toBe(0);
    expect(op.events.filter((e) => e.name.startsWith("server_error"))).toEqual([]);
  });
});
