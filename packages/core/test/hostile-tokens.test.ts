// Issue 13, points 2 and 3: what a hostile token response can do to the store. Each attack is
// the fake server's real response rewritten by a middleware, as a hostile server would send it.
import { beforeEach, describe, expect, it } from "vitest";
import {
  type Credentials,
  clientCredentialsGrant,
  decodeJwtClaims,
  ErrorCode,
  exchangeToken,
  parseStoredCredentials,
  pollDeviceAuthorization,
  serializeCredentials,
  startDeviceAuthorization,
} from "../src/index.js";
import { toCredentials } from "../src/tokens.js";
import {
  client,
  idp,
  login,
  now,
  original,
  refresh,
  refreshStored,
  rewrite,
  server,
  setUp,
  startSession,
  store,
  TEN_YEARS_MS,
} from "./support/hostile.js";
import { b64u } from "./support/jws.js";

beforeEach(startSession);

describe("point 2: a hostile token response cannot poison the store", () => {
  it("expires_in 1e13: clamped to 10 years; the record reads back and formats as a date", async () => {
    rewrite((body) => ({ ...body, expires_in: 1e13 }));
    const { credentials } = await refreshStored();
    expect(credentials.expiresAt).toBe(now + TEN_YEARS_MS);
    const stored = (await store.get()) as Credentials;
    expect(stored).toEqual(credentials);
    expect(new Date(stored.expiresAt as number).toISOString()).toMatch(/^20\d\d-/);
    // A login takes the same bound.
    expect((await login()).expiresAt).toBe(now + TEN_YEARS_MS);
  });

  it("expires_in 1e306: the refresh succeeds and the rotated refresh token is stored", async () => {
    const seen: Record<string, unknown>[] = [];
    rewrite((body) => ({ ...body, expires_in: 1e306 }), "token", seen);
    const { credentials, source } = await refreshStored();
    expect(source).toBe("refresh");
    expect(credentials.expiresAt).toBe(now + TEN_YEARS_MS);
    expect((await store.get())?.refreshToken).toBe(seen[0]?.refresh_token);
    expect(seen[0]?.refresh_token).not.toBe(original.refreshToken);
  });

  it("a 2 MB access token is refused (INVALID_RESPONSE, never quoted); the rotated refresh token is kept", async () => {
    const huge = "A".repeat(2 * 1024 * 1024);
    const seen: Record<string, unknown>[] = [];
    rewrite((body) => ({ ...body, access_token: huge }), "token", seen);
    const error = await refreshStored().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    expect(String((error as Error).message)).not.toContain("AAAA");
    const kept = (await store.get()) as Credentials;
    expect(kept.accessToken).toBe(original.accessToken);
    expect(kept.refreshToken).toBe(seen[0]?.refresh_token);
    expect((store.record as string).length).toBeLessThan(64 * 1024);
    // The login refuses it too.
    await expect(login()).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });

  it("a token of exactly 64 KiB is accepted; one character more, or a 64 KiB + 1 scope, is refused", async () => {
    const limit = "B".repeat(65_536);
    const remove = rewrite((body) => ({ ...body, access_token: limit, refresh_token: limit }));
    const accepted = await refresh();
    expect(accepted.accessToken).toBe(limit);
    expect(parseStoredCredentials(serializeCredentials(accepted))).toEqual(accepted);
    remove();
    for (const change of [
      { access_token: `${limit}B` },
      { refresh_token: `${limit}B` },
      { scope: `${limit}B` },
    ]) {
      const undo = rewrite((body) => ({ ...body, ...change }));
      await expect(refresh()).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
      undo();
    }
  });

  it("a 2 MB refresh token is refused and never handed to saveRotated", async () => {
    rewrite((body) => ({ ...body, refresh_token: "R".repeat(2 * 1024 * 1024) }));
    const saved: Credentials[] = [];
    await expect(refresh(async (c) => void saved.push(c))).rejects.toMatchObject({
      code: ErrorCode.INVALID_RESPONSE,
    });
    expect(saved).toEqual([]);
  });

  it("an ID-token claim nested 20 000 deep: decoding gives undefined instead of a stack overflow", () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const jwt = `${b64u('{"alg":"ES256"}')}.${b64u(`{"sub":"alice","x":${deep}}`)}.c2ln`;
    expect(decodeJwtClaims(jwt)).toBeUndefined();
    // What a printer would do with the claims: nothing left to overflow on.
    expect(() => JSON.stringify(decodeJwtClaims(jwt))).not.toThrow();
    const shallow = `${b64u('{"alg":"ES256"}')}.${b64u('{"sub":"alice","x":[[[1]]]}')}.c2ln`;
    expect(decodeJwtClaims(shallow)).toEqual({ sub: "alice", x: [[[1]]] });
  });

  it("a signed ID token whose claims nest 100 deep is INVALID_ID_TOKEN at login; 10 deep is fine", async () => {
    const nest = (depth: number): unknown => (depth ? { a: nest(depth - 1) } : 1);
    await setUp({ users: { alice: { claims: { x: nest(10) } } } });
    expect(decodeJwtClaims((await login()).idToken)?.x).toEqual(nest(10));
    await setUp({ users: { alice: { claims: { x: nest(100) } } } });
    await expect(login()).rejects.toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
  });
});

describe("point 3: access and refresh tokens outside RFC 6749 VSCHAR / RFC 6750 are refused", () => {
  const HOSTILE_ACCESS = [
    "at\u001b]0;pwned\u0007",
    "at\u001b[2J",
    "at\r\n X-Injected: 1",
    "two words",
    "caf\u00e9",
    "tab\there",
  ];

  for (const token of HOSTILE_ACCESS) {
    it(`access token ${JSON.stringify(token)}: INVALID_RESPONSE on login and refresh, never quoted`, async () => {
      const seen: Record<string, unknown>[] = [];
      rewrite((body) => ({ ...body, access_token: token }), "token", seen);
      const error = await login().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
      expect(JSON.stringify(error)).not.toContain(token.slice(2));
      expect((error as Error).message).not.toContain(token.slice(2));

      const refused = await refreshStored().catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
      const kept = (await store.get()) as Credentials;
      expect(kept.accessToken).toBe(original.accessToken);
      expect(kept.refreshToken).toBe(seen.at(-1)?.refresh_token);
    });
  }

  it("refresh tokens with a control character are refused; VSCHAR with a space is accepted", async () => {
    for (const token of ["rt\nX-Injected: 1", "rt\u001b[2J", "rt\u0085", "rt\u00a0"]) {
      const undo = rewrite((body) => ({ ...body, refresh_token: token }));
      await expect(refresh()).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
      undo();
    }
    rewrite((body) => ({ ...body, refresh_token: "a b~+/=!" }));
    expect((await refresh()).refreshToken).toBe("a b~+/=!");
  });

  it("b64token and VSCHAR access tokens pass: ~+/= and other printable characters", async () => {
    for (const token of ["abc.DEF-_~+/==", '!"#$%&()*,:;<>?@[\\]^`{|}']) {
      const undo = rewrite((body) => ({ ...body, access_token: token }));
      expect((await refresh()).accessToken).toBe(token);
      undo();
    }
  });

  it("every grant: client credentials, token exchange and the device grant refuse them too", async () => {
    rewrite((body) => ({ ...body, access_token: "at\u001b[2J" }));
    const service = { ...client, clientId: "service", clientSecret: "service-secret", scopes: [] };
    await expect(clientCredentialsGrant({ client: service, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_RESPONSE,
    });
    await expect(
      exchangeToken({ client, server, subjectToken: original.accessToken }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    const authorization = await startDeviceAuthorization({ client, server });
    idp.approveDevice(authorization.userCode);
    await expect(
      pollDeviceAuthorization(authorization, { client, server, sleep: async () => {} }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });

  it("toCredentials and the stored-record reader apply the same sets", () => {
    const base = { issuer: "i", clientId: "c", receivedAt: 0 };
    expect(() => toCredentials({ access_token: "a\u001b[2J", token_type: "Bearer" }, base)).toThrow(
      /invalid \(access_token\)/,
    );
    const record = { v: 1, tokenType: "Bearer", issuer: "i", clientId: "c", obtainedAt: 0 };
    for (const bad of [
      { accessToken: "a\r\nX: 1" },
      { accessToken: "a b" },
      { accessToken: "A".repeat(65_537) },
      { accessToken: "a", refreshToken: "r\u001b" },
      { accessToken: "a", idToken: "not a jwt" },
    ]) {
      expect(() => parseStoredCredentials(JSON.stringify({ ...record, ...bad }))).toThrow(
        /unknown shape/,
      );
    }
  });
});
