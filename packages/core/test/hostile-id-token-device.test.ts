// Issue 13, points 13 and 7: an ID token latchkey cannot decode, and the waits a device
// authorization answer asks for. Each attack is the fake server's real response rewritten by a
// middleware, as a hostile server would send it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type Credentials,
  clientCredentialsGrant,
  decodeJwtClaims,
  ErrorCode,
  exchangeToken,
  pollDeviceAuthorization,
  startDeviceAuthorization,
} from "../src/index.js";
import {
  advance,
  client,
  forge,
  idp,
  login,
  now,
  original,
  refreshStored,
  rewrite,
  server,
  startSession,
  store,
} from "./support/hostile.js";

beforeEach(startSession);

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
        advance(ms);
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
