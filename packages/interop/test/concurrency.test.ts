import type { CredentialKey } from "@latchkey/core";
import { FileTokenStore } from "@latchkey/keyring-store";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  cliArgs,
  FOLLOW_BROWSER,
  killAll,
  latchkey,
  OIDC_BROWSER,
  opArgs,
  type RunResult,
  tempDir,
} from "./support/cli.js";
import { PUBLIC_CLIENT_ID, startOidcProvider } from "./support/oidc.js";

// S40: several `latchkey token` processes at once, sharing one file store whose access token has
// expired, against an authorization server that rotates refresh tokens and revokes the whole
// family when a consumed one is reused. With the cross-process lock around read → expiry check →
// refresh → persist, exactly one process refreshes and the others read its result.
//
// The CLI passes @latchkey/keyring-store's FileCredentialLock to getAccessToken for `token` and
// `refresh` (file and keyring stores); without it these tests fail with several refreshes, a
// revoked family and processes exiting 4.

const PROCESSES = 5;

afterEach(() => killAll());

/** Moves the stored access token's expiry into the past, as if an hour had gone by. */
async function expireStoredToken(directory: string, key: CredentialKey): Promise<string> {
  const store = new FileTokenStore({ directory });
  const stored = await store.get(key);
  if (!stored?.refreshToken) throw new Error("nothing stored to expire");
  await store.set(key, { ...stored, expiresAt: Date.now() - 1000 });
  return stored.accessToken;
}

function summarize(results: RunResult[]): string {
  return results.map((r) => `exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}`).join("\n");
}

describe("S40: concurrent `latchkey token` processes with an expired token", () => {
  it(`S40: ${PROCESSES} processes against the fake server: one refresh, no revoked family, all succeed`, async () => {
    const idp = await startFakeAuthorizationServer({});
    onTestFinished(() => idp.close());
    const storeDir = tempDir();
    const args = cliArgs({ issuer: idp.issuer, storeDir });
    const login = await latchkey(["login", ...args, "--browser-command", FOLLOW_BROWSER]);
    expect(login.code, login.stderr).toBe(0);
    const old = await expireStoredToken(storeDir, {
      issuer: idp.issuer,
      clientId: "latchkey",
      profile: "default",
    });

    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () => latchkey(["token", "--no-login", ...args])),
    );
    const refreshes = idp.count("token", { grantType: "refresh_token", status: 200 });
    const rejected = idp.count("token", { grantType: "refresh_token", status: 400 });
    expect(
      results.map((r) => r.code),
      `${refreshes} refreshes, ${rejected} rejected\n${summarize(results)}`,
    ).toEqual(Array(PROCESSES).fill(0));
    expect(refreshes).toBe(1);
    expect(rejected).toBe(0);
    const tokens = new Set(results.map((r) => r.stdout));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).not.toBe(`${old}\n`);
    // The family is alive: the stored refresh token still works.
    expect((await latchkey(["refresh", ...args])).code).toBe(0);
  }, 30_000);

  it(`S40: ${PROCESSES} processes against oidc-provider with rotation: one refresh, grant not revoked, all succeed`, async () => {
    const op = await startOidcProvider();
    onTestFinished(() => op.close());
    const storeDir = tempDir();
    const args = opArgs(op.issuer, storeDir);
    const login = await latchkey(["login", ...args, "--browser-command", OIDC_BROWSER]);
    expect(login.code, login.stderr).toBe(0);
    await expireStoredToken(storeDir, {
      issuer: op.issuer,
      clientId: PUBLIC_CLIENT_ID,
      profile: "default",
    });

    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () => latchkey(["token", "--no-login", ...args])),
    );
    const refreshes = op.grants("refresh_token");
    expect(
      results.map((r) => r.code),
      `${refreshes} refreshes\n${summarize(results)}`,
    ).toEqual(Array(PROCESSES).fill(0));
    expect(refreshes).toBe(1);
    expect(op.events.filter((e) => e.name === "grant.error")).toEqual([]);
    expect(op.events.filter((e) => e.name === "grant.revoked")).toEqual([]);
    expect(new Set(results.map((r) => r.stdout)).size).toBe(1);
    expect((await latchkey(["refresh", ...args])).code).toBe(0);
  }, 30_000);
});
