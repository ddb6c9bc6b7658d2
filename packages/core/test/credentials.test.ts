import { describe, expect, it } from "vitest";
import {
  type Credentials,
  ErrorCode,
  isExpiring,
  ProtocolError,
  parseStoredCredentials,
  StoreError,
  serializeCredentials,
} from "../src/index.js";
import { toCredentials } from "../src/tokens.js";

const base = { issuer: "https://as.example", clientId: "cli", receivedAt: 1_000_000 };

describe("toCredentials", () => {
  it("S32 S36: ignores unknown fields, accepts any case of Bearer, expiry = receipt + expires_in", () => {
    const c = toCredentials(
      { access_token: "at", token_type: "BEARER", expires_in: 300, extra: { x: 1 }, scope: "a b" },
      base,
    );
    expect(c).toEqual({
      accessToken: "at",
      tokenType: "Bearer",
      expiresAt: 1_300_000,
      issuer: "https://as.example",
      clientId: "cli",
      obtainedAt: 1_000_000,
      scope: "a b",
    });
  });

  it("S32: expires_in is optional; access_token and token_type are required", () => {
    expect(
      toCredentials({ access_token: "at", token_type: "bearer" }, base).expiresAt,
    ).toBeUndefined();
    for (const body of [
      { token_type: "bearer" },
      { access_token: "", token_type: "bearer" },
      { access_token: "at" },
      { access_token: "at", token_type: "bearer", expires_in: -1 },
      null,
      "x",
    ]) {
      expect(() => toCredentials(body, base)).toThrow(ProtocolError);
    }
    expect(() => toCredentials({ access_token: "at", token_type: "mac" }, base)).toThrow(
      /only Bearer/,
    );
  });

  it("S37: keeps the old refresh token and ID token when the response has none (defect 8)", () => {
    const previous: Credentials = {
      accessToken: "old",
      tokenType: "Bearer",
      refreshToken: "rt1",
      idToken: "id1",
      scope: "s",
      issuer: "i",
      clientId: "c",
      obtainedAt: 0,
    };
    const c = toCredentials(
      { access_token: "new", token_type: "Bearer", expires_in: 10 },
      { ...base, previous },
    );
    expect(c.refreshToken).toBe("rt1");
    expect(c.idToken).toBe("id1");
    expect(c.scope).toBe("s");
    const rotated = toCredentials(
      { access_token: "new", token_type: "Bearer", refresh_token: "rt2" },
      { ...base, previous },
    );
    expect(rotated.refreshToken).toBe("rt2");
  });

  it("S42: a validation error does not echo the token", () => {
    try {
      toCredentials({ access_token: "SENTINEL-abc", token_type: 5 }, base);
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain("SENTINEL");
      expect((error as ProtocolError).code).toBe(ErrorCode.INVALID_RESPONSE);
    }
  });
});

describe("stored records", () => {
  const creds: Credentials = {
    accessToken: "at",
    tokenType: "Bearer",
    expiresAt: 5,
    refreshToken: "rt",
    issuer: "i",
    clientId: "c",
    obtainedAt: 1,
  };

  it("round-trips through the versioned record", () => {
    expect(parseStoredCredentials(serializeCredentials(creds))).toEqual(creds);
    expect(JSON.parse(serializeCredentials(creds)).v).toBe(1);
  });

  it("a corrupt or foreign record is STORE_CORRUPT, never half-read", () => {
    for (const text of [
      "",
      "{",
      "[]",
      JSON.stringify({ ...creds, v: 2 }),
      JSON.stringify({ v: 1, accessToken: "at" }),
    ]) {
      expect(() => parseStoredCredentials(text)).toThrow(StoreError);
    }
  });

  it("S36: isExpiring honours the minimum validity; unknown expiry counts as valid", () => {
    expect(isExpiring({ ...creds, expiresAt: 100_000 }, { now: 0, minValiditySeconds: 60 })).toBe(
      false,
    );
    expect(isExpiring({ ...creds, expiresAt: 60_000 }, { now: 0, minValiditySeconds: 60 })).toBe(
      true,
    );
    const { expiresAt: _e, ...noExpiry } = creds;
    expect(isExpiring(noExpiry, { now: 10 ** 15 })).toBe(false);
  });
});
