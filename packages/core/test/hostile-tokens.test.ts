// Issue 13, points 2, 3, 7 and 13: what a hostile token response, device authorization answer
// or ID token can do to the store. Each attack is the fake server's real response rewritten by
// a middleware, as a hostile server would send it.
import {
  createFakeAuthorizationServer,
  type FakeAuthorizationServer,
  type FakeEndpoint,
} from "@latchkey/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  beginAuthorization,
  type ClientOptions,
  type CredentialKey,
  type Credentials,
  clientCredentialsGrant,
  decodeJwtClaims,
  ErrorCode,
  exchangeCode,
  exchangeToken,
  getAccessToken,
  parseStoredCredentials,
  pollDeviceAuthorization,
  receiveCallback,
  refreshCredentials,
  resolveServer,
  type ServerMetadata,
  serializeCredentials,
  startDeviceAuthorization,
  type TokenStore,
  toCredentials,
} from "../src/index.js";
import { b64u } from "./support/jws.js";

const ISSUER = "http://127.0.0.1:4113/issue-13";
const REDIRECT = "http://127.0.0.1:53113/callback";
const key: CredentialKey = { issuer: ISSUER, clientId: "latchkey", profile: "default" };
const TEN_YEARS_MS = 315_360_000_000;

/** A store that writes only what it can read back, as the real stores do (serializeForStore). */
class RecordStore implements TokenStore {
  readonly kind = "test";
  record: string | undefined;
  async get(): Promise<Credentials | undefined> {
    return this.record === undefined ? undefined : parseStoredCredentials(this.record);
  }
  async set(_key: CredentialKey, credentials: Credentials): Promise<void> {
    const text = serializeCredentials(credentials);
    parseStoredCredentials(text);
    this.record = text;
  }
  async delete(): Promise<void> {
    this.record = undefined;
  }
}

let idp: FakeAuthorizationServer;
let now: number;
let client: ClientOptions;
let server: ServerMetadata;
let store: RecordStore;
let original: Credentials;

beforeEach(async () => {
  now = Date.now();
  idp = await createFakeAuthorizationServer({
    issuer: ISSUER,
    now: () => now,
    clients: [{ clientId: "latchkey" }, { clientId: "service", clientSecret: "service-secret" }],
  });
  client = {
    issuer: ISSUER,
    clientId: "latchkey",
    scopes: ["openid"],
    fetch: (input, init) => idp.fetch(new Request(input, init)),
    now: () => now,
  };
  server = await resolveServer(client);
  store = new RecordStore();
  original = await login();
  await store.set(key, original);
});

async function login(): Promise<Credentials> {
  const { state, authorizationUrl } = await beginAuthorization({
    client,
    server,
    redirectUri: REDIRECT,
  });
  const location = (await idp.fetch(new Request(authorizationUrl))).headers.get("location");
  const verdict = receiveCallback(state, location as string);
  if (verdict.outcome !== "accepted") throw verdict.error;
  return (await exchangeCode(verdict.next, { client, server })).credentials;
}

/**
 * Rewrites the body of every successful answer of `endpoint` (default: the token endpoint);
 * `seen` collects the bodies as the server sent them.
 */
function rewrite(
  change: (
    body: Record<string, unknown>,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>,
  endpoint: FakeEndpoint = "token",
  seen: Record<string, unknown>[] = [],
): () => void {
  return idp.use(async (_request, next, info) => {
    const response = await next();
    if (info.endpoint !== endpoint || response.status !== 200) return response;
    const body = (await response.json()) as Record<string, unknown>;
    seen.push(body);
    return Response.json(await change({ ...body }), { headers: { "cache-control": "no-store" } });
  });
}

/** Credentials of a new session (minted, no request): refresh tokens rotate, each is used once. */
async function fresh(): Promise<Credentials> {
  const minted = await idp.issueTokens({ clientId: "latchkey", scope: "openid" });
  return {
    ...original,
    refreshToken: minted.refresh_token as string,
    idToken: minted.id_token as string,
  };
}

const refresh = async (saveRotated?: (c: Credentials) => Promise<void>) =>
  refreshCredentials(
    await fresh(),
    saveRotated ? { client, server, saveRotated } : { client, server },
  );

const refreshStored = () =>
  getAccessToken({ store, key, client, server: async () => server, forceRefresh: true });

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
    idp = await createFakeAuthorizationServer({
      issuer: ISSUER,
      now: () => now,
      users: { alice: { claims: { x: nest(10) } } },
    });
    // A new fetch function each time: the key sets are cached per fetch function.
    client = { ...client, fetch: (input, init) => idp.fetch(new Request(input, init)) };
    server = await resolveServer(client);
    expect(decodeJwtClaims((await login()).idToken)?.x).toEqual(nest(10));
    idp = await createFakeAuthorizationServer({
      issuer: ISSUER,
      now: () => now,
      users: { alice: { claims: { x: nest(100) } } },
    });
    client = { ...client, fetch: (input, init) => idp.fetch(new Request(input, init)) };
    server = await resolveServer(client);
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

/** A copy of `idToken` whose `sub` is `mallory` and whose payload holds a U+00A0. */
function forge(idToken: string): string {
  const [head, , signature] = idToken.split(".");
  const payload = b64u(JSON.stringify({ ...decodeJwtClaims(idToken), sub: "mallory" }));
  return `${head}.${payload.slice(0, 8)}\u00a0${payload.slice(8)}.${signature}`;
}

describe("point 13: an ID token latchkey cannot decode is invalid, on every grant", () => {
  it("refresh: a forged sub behind a U+00A0 is INVALID_ID_TOKEN; the old ID token and the rotated refresh token stay", async () => {
    const seen: Record<string, unknown>[] = [];
    rewrite((body) => ({ ...body, id_token: forge(body.id_token as string) }), "token", seen);
    const error = await refreshStored().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
    const kept = (await store.get()) as Credentials;
    expect(decodeJwtClaims(kept.idToken)?.sub).toBe("alice");
    expect(kept.idToken).toBe(original.idToken);
    expect(kept.refreshToken).toBe(seen[0]?.refresh_token);
  });

  it("code exchange: INVALID_ID_TOKEN (not a missing ID token)", async () => {
    rewrite((body) => ({ ...body, id_token: forge(body.id_token as string) }));
    await expect(login()).rejects.toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
  });

  it("device, token exchange and client credentials: INVALID_ID_TOKEN", async () => {
    const minted = await idp.issueTokens({ clientId: "latchkey", scope: "openid" });
    const forged = forge(minted.id_token as string);
    rewrite((body) => ({ ...body, id_token: forged }));
    const authorization = await startDeviceAuthorization({ client, server });
    idp.approveDevice(authorization.userCode);
    await expect(
      pollDeviceAuthorization(authorization, { client, server, sleep: async () => {} }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
    await expect(
      exchangeToken({ client, server, subjectToken: original.accessToken }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });

    const service = { ...client, clientId: "service", clientSecret: "service-secret", scopes: [] };
    const forService = await idp.issueTokens({ clientId: "service", scope: "openid" });
    rewrite((body) => ({ ...body, id_token: forge(forService.id_token as string) }));
    await expect(clientCredentialsGrant({ client: service, server })).rejects.toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
  });

  it("the unforged token decodes, and only a compact JWS does", async () => {
    const minted = await idp.issueTokens({ clientId: "latchkey", scope: "openid" });
    const jwt = minted.id_token as string;
    expect(decodeJwtClaims(jwt)?.sub).toBe("alice");
    for (const bad of [forge(jwt), `${jwt}\n`, ` ${jwt}`, jwt.replace(".", ". "), `${jwt}.x.y`]) {
      expect(decodeJwtClaims(bad)).toBeUndefined();
    }
  });
});

describe("point 7: server-given waits of the device grant are bounded", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A device authorization answer with `interval` 3 000 000 s and `expires_in` 10^9 s. */
  const hostileDevice = () =>
    rewrite((body) => ({ ...body, interval: 3_000_000, expires_in: 1e9 }), "device_authorization");

  it("interval 3 000 000 s and repeated slow_down: no wait over 60 s, device code kept at most 1 h", async () => {
    hostileDevice();
    const startedAt = now;
    const authorization = await startDeviceAuthorization({ client, server });
    expect(authorization.expiresAt).toBe(startedAt + 3_600_000);
    idp.approveDevice(authorization.userCode);
    idp.setFault("device:slow_down", { times: 3 });
    const waits: number[] = [];
    const credentials = await pollDeviceAuthorization(authorization, {
      client,
      server,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    expect(credentials.accessToken).toBeTruthy();
    expect(waits).toEqual([60_000, 60_000, 60_000, 60_000]);
  });

  it("with real timer semantics (fake clock): no flood of polls while the first wait runs", async () => {
    hostileDevice();
    const authorization = await startDeviceAuthorization({ client, server });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const controller = new AbortController();
    const polling = pollDeviceAuthorization(authorization, {
      client,
      server,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    idp.clearRequests();
    const polls = () => idp.count("token");
    await vi.advanceTimersByTimeAsync(2_000);
    expect(polls()).toBe(0);
    await vi.advanceTimersByTimeAsync(58_000);
    expect(polls()).toBe(1);
    controller.abort();
    await expect(polling).resolves.toMatchObject({ code: ErrorCode.ABORTED });
  });
});
