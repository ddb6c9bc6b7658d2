import { describe, expect, it } from "vitest";
import { ErrorCode, LatchkeyError, ProtocolError, TransportError } from "../src/index.js";

// Every code, once: the type makes this list exhaustive (a code added to or missing from
// `ErrorCode`'s type does not compile), the test makes the runtime object match it. Codes of the
// loopback server, the browser and the CLI's token command are their packages' own.
const documented: Record<ErrorCode, true> = {
  CONFIG_INVALID: true,
  INSECURE_ENDPOINT: true,
  DISCOVERY_FAILED: true,
  DISCOVERY_ISSUER_MISMATCH: true,
  PKCE_S256_UNSUPPORTED: true,
  STATE_MISMATCH: true,
  ISS_MISMATCH: true,
  CALLBACK_INVALID: true,
  AUTHORIZATION_DENIED: true,
  INVALID_GRANT: true,
  INVALID_CLIENT: true,
  TOKEN_REQUEST_FAILED: true,
  INVALID_RESPONSE: true,
  INVALID_ID_TOKEN: true,
  NETWORK_ERROR: true,
  SERVER_ERROR: true,
  TIMEOUT: true,
  ABORTED: true,
  LOGIN_REQUIRED: true,
  STORE_CORRUPT: true,
  STORE_UNAVAILABLE: true,
};

describe("error codes", () => {
  it("ErrorCode holds exactly the documented codes, each its own name", () => {
    expect(Object.keys(ErrorCode).sort()).toEqual(Object.keys(documented).sort());
    for (const [name, value] of Object.entries(ErrorCode)) expect(value).toBe(name);
    expect(ErrorCode.STATE_MISMATCH).toBe("STATE_MISMATCH");
  });

  it("errors carry their code and class name; the cause is not enumerable (S42)", () => {
    const cause = new Error("the-secret-response");
    const error = new ProtocolError(ErrorCode.INVALID_GRANT, "The refresh was rejected.", {
      cause,
      oauth: { error: "invalid_grant" },
    });
    expect(error).toBeInstanceOf(LatchkeyError);
    expect(error).toMatchObject({ code: "INVALID_GRANT", name: "ProtocolError" });
    expect(error.cause).toBe(cause);
    expect(JSON.stringify(error)).not.toContain("the-secret-response");
    expect(new TransportError(ErrorCode.TIMEOUT, "slow").name).toBe("TransportError");
  });
});
