import { type Credentials, ErrorCode } from "@latchkey/core/store";
import { describe, expect, it } from "vitest";
import { formatToken } from "../src/token-format.js";

const credentials: Credentials = {
  accessToken: "at-123.abc_~+/=",
  tokenType: "bearer",
  idToken: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln",
  issuer: "https://issuer.example",
  clientId: "latchkey",
  obtainedAt: 0,
};

describe("--format header: core's authorizationHeader builds the header", () => {
  it("prints Authorization: Bearer <token>, whatever the case of the stored token type", () => {
    expect(formatToken(credentials, "header", { idToken: false })).toBe(
      "Authorization: Bearer at-123.abc_~+/=",
    );
  });

  it("with --id-token, the ID token goes as the bearer token", () => {
    expect(formatToken(credentials, "header", { idToken: true })).toBe(
      `Authorization: Bearer ${credentials.idToken}`,
    );
  });

  it("refuses credentials of another token type (DPoP) instead of sending them as Bearer", () => {
    const dpop = { ...credentials, tokenType: "DPoP" };
    expect(() => formatToken(dpop, "header", { idToken: false })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
    // The raw token is still printable: only the header is refused.
    expect(formatToken(dpop, "raw", { idToken: false })).toBe(credentials.accessToken);
  });
});
