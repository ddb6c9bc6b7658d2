// `latchkey token --id-token` (LATCHKEY_ID_TOKEN): the ID token instead of the access token, in
// every format, refreshed when it expires within --min-validity; exit 4 when the provider issued
// none. Kubernetes' OIDC authenticator checks ID tokens, which is why kubelogin sends them.
import { rmSync } from "node:fs";
import { decodeJwtClaims } from "@latchkey/core";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it } from "vitest";
import { checkIdToken } from "../src/id-token.js";
import { BROWSER, cleanEnv, cliArgs, latchkey, tempDir } from "./helpers.js";

let idp: RunningFakeAuthorizationServer | undefined;
let storeDir: string;
afterEach(async () => {
  await idp?.close();
  idp = undefined;
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

async function start(
  options: Parameters<typeof startFakeAuthorizationServer>[0] = {},
): Promise<RunningFakeAuthorizationServer> {
  idp = await startFakeAuthorizationServer(options);
  storeDir = tempDir();
  return idp;
}

function common(server: RunningFakeAuthorizationServer, extra: string[] = []): string[] {
  return cliArgs({ issuer: server.issuer, storeDir }, extra);
}

async function token(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await latchkey(["token", ...args], env ? { env } : {});
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function expOf(jwt: string): number {
  const exp = decodeJwtClaims(jwt)?.exp;
  expect(typeof exp).toBe("number");
  return exp as number;
}

describe("latchkey token --id-token", () => {
  it("prints the ID token in every format, and from LATCHKEY_ID_TOKEN", async () => {
    const server = await start();
    const login = await latchkey([
      "login",
      ...common(server, ["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(login.code, login.stderr).toBe(0);
    const stored = JSON.parse(await token(["--format", "json", ...common(server)])) as {
      access_token: string;
      id_token: string;
    };
    const idToken = stored.id_token;
    expect(decodeJwtClaims(idToken)).toMatchObject({ iss: server.issuer, aud: "latchkey" });
    expect(idToken).not.toBe(stored.access_token);
    const exp = expOf(idToken);

    expect(await token(["--id-token", ...common(server)])).toBe(idToken);
    expect(await token(["--id-token", "--format", "header", ...common(server)])).toBe(
      `Authorization: Bearer ${idToken}`,
    );
    const json = JSON.parse(
      await token(["--id-token", "--format", "json", ...common(server)]),
    ) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(["expires_at", "expires_in", "id_token"]);
    expect(json.id_token).toBe(idToken);
    expect(json.expires_at).toBe(rfc3339(exp));
    const exec = JSON.parse(
      await token(["--id-token", "--format", "exec-credential", ...common(server)]),
    ) as { status: Record<string, string> };
    expect(exec.status).toEqual({ token: idToken, expirationTimestamp: rfc3339(exp) });

    expect(await token(common(server), cleanEnv({ LATCHKEY_ID_TOKEN: "1" }))).toBe(idToken);
    expect(await token(common(server), cleanEnv({ LATCHKEY_ID_TOKEN: "0" }))).toBe(
      stored.access_token,
    );
    // The stored token sufficed every time: no refresh, no second login.
    expect(server.count("token")).toBe(1);
  });

  it("refreshes when the ID token expires within --min-validity, though the access token does not", async () => {
    const server = await start({ accessTokenTtlSeconds: 3600, idTokenTtlSeconds: 120 });
    const login = await latchkey([
      "login",
      ...common(server, ["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(login.code, login.stderr).toBe(0);
    // The access token is good for an hour: no refresh without --id-token.
    await token(["--min-validity", "300", ...common(server)]);
    expect(server.count("token", { grantType: "refresh_token" })).toBe(0);

    const idToken = await token(["--id-token", "--min-validity", "300", ...common(server)]);
    expect(server.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    expect(decodeJwtClaims(idToken)).toMatchObject({ iss: server.issuer, sub: "alice" });
    const stored = JSON.parse(await token(["--format", "json", ...common(server)])) as {
      id_token: string;
    };
    expect(stored.id_token).toBe(idToken);
    // Within --min-validity of a fresh ID token, no further refresh.
    await token(["--id-token", "--min-validity", "60", ...common(server)]);
    expect(server.count("token", { grantType: "refresh_token" })).toBe(1);
  });

  it("a server error on that refresh while the ID token is still valid: the stored one, a warning, exit 0", async () => {
    const server = await start({ accessTokenTtlSeconds: 3600, idTokenTtlSeconds: 120 });
    const login = await latchkey([
      "login",
      ...common(server, ["--scope", "openid", "--browser-command", BROWSER]),
    ]);
    expect(login.code, login.stderr).toBe(0);
    const stored = await token(["--id-token", ...common(server)]);
    server.setFault({ name: "token:5xx", times: 1 });
    const result = await latchkey([
      "token",
      "--id-token",
      "--min-validity",
      "300",
      ...common(server),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${stored}\n`);
    expect(result.stderr).toContain("warning: Could not refresh the ID token");
    // In RFC 3339 whole seconds, as the access token's warning writes it (src/time.ts).
    expect(result.stderr).toMatch(
      /the stored one is valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\n/,
    );
    expect(result.stderr).not.toContain(stored);
    expect(server.count("token")).toBe(2); // the login's, and the failed refresh
  });

  it("no openid scope: one refresh is tried, then exit 4 saying why; the session stays usable", async () => {
    const server = await start();
    const login = await latchkey([
      "login",
      ...common(server, ["--scope", "profile", "--browser-command", BROWSER]),
    ]);
    expect(login.code, login.stderr).toBe(0);
    const result = await latchkey(["token", "--id-token", ...common(server)]);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("The provider issued no ID token");
    expect(result.stderr).toContain("--scope openid");
    expect(server.count("token", { grantType: "refresh_token", status: 200 })).toBe(1);
    expect(server.count("authorize")).toBe(1);
    // The access token is still there for those who want it.
    expect(await token(common(server))).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("an expired ID token that no refresh replaced is an error (exit 4), never printed", () => {
    const part = (value: object): string =>
      Buffer.from(JSON.stringify(value)).toString("base64url");
    const expired = `${part({ alg: "none" })}.${part({ exp: Math.floor(Date.now() / 1000) - 10 })}.`;
    const credentials = {
      accessToken: "a",
      tokenType: "Bearer",
      issuer: "https://idp.example",
      clientId: "cli",
      obtainedAt: 0,
      idToken: expired,
    };
    expect(() => checkIdToken(credentials, true)).toThrow(
      expect.objectContaining({
        code: "LOGIN_REQUIRED",
        message: expect.stringMatching(/expired/),
      }),
    );
    expect(checkIdToken(credentials, false)).toBe(credentials);
  });
});
