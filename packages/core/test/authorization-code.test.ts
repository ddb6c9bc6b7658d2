import { describe, expect, it } from "vitest";
import {
  type AwaitingCallbackState,
  beginAuthorization,
  type ClientOptions,
  ConfigurationError,
  ErrorCode,
  isFlowFinished,
  ProtocolError,
  receiveCallback,
  type ServerMetadata,
} from "../src/index.js";

const server: ServerMetadata = {
  issuer: "https://as.example/tenant",
  authorization_endpoint: "https://as.example/tenant/authorize?tenant=a",
  token_endpoint: "https://as.example/tenant/token",
  code_challenge_methods_supported: ["S256"],
  authorization_response_iss_parameter_supported: true,
};
const client: ClientOptions = {
  issuer: server.issuer,
  clientId: "cli",
  scopes: ["openid", "offline_access"],
};
const redirectUri = "http://127.0.0.1:53124/callback";

async function begin(overrides: Partial<ClientOptions> = {}, meta: ServerMetadata = server) {
  return beginAuthorization({ client: { ...client, ...overrides }, server: meta, redirectUri });
}

function callback(state: AwaitingCallbackState, params: string): string {
  return `${redirectUri}?${params.replace("STATE", state.state)}`;
}

describe("beginAuthorization", () => {
  it("S10 S12: builds the authorization URL with S256 and the reference's parameters", async () => {
    const { state, authorizationUrl } = await begin({
      audience: "api://x",
      authorizationParams: { prompt: "login" },
    });
    const p = authorizationUrl.searchParams;
    expect(p.get("client_id")).toBe("cli");
    expect(p.get("response_type")).toBe("code");
    expect(p.get("scope")).toBe("openid offline_access");
    expect(p.get("redirect_uri")).toBe(redirectUri);
    expect(p.get("state")).toBe(state.state);
    expect(p.get("code_challenge_method")).toBe("S256");
    expect(p.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.get("nonce")).toBe(state.nonce);
    expect(p.get("audience")).toBe("api://x");
    expect(p.get("prompt")).toBe("login");
    expect(authorizationUrl.href).not.toContain(state.codeVerifier);
  });

  it("keeps a query string the authorization endpoint already has (defect 6)", async () => {
    const { authorizationUrl } = await begin();
    expect(authorizationUrl.searchParams.get("tenant")).toBe("a");
    expect(authorizationUrl.pathname).toBe("/tenant/authorize");
  });

  it("S14: every login gets a fresh verifier, state and nonce (flytekit reused state)", async () => {
    const a = await begin();
    const b = await begin();
    expect(a.state.state).not.toBe(b.state.state);
    expect(a.state.codeVerifier).not.toBe(b.state.codeVerifier);
    expect(a.state.nonce).not.toBe(b.state.nonce);
  });

  it("S13: refuses a server that lists code challenge methods without S256, before any browser", async () => {
    await expect(
      begin({}, { ...server, code_challenge_methods_supported: ["plain"] }),
    ).rejects.toMatchObject({
      code: ErrorCode.PKCE_S256_UNSUPPORTED,
    });
  });

  it("refuses extra parameters that would override state, PKCE or the redirect URI", async () => {
    for (const name of ["state", "code_challenge", "redirect_uri", "nonce", "client_id"]) {
      await expect(begin({ authorizationParams: { [name]: "x" } })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    }
  });

  it("the waiting state is plain JSON that survives a round trip (sessionStorage)", async () => {
    const { state } = await begin();
    const restored = JSON.parse(JSON.stringify(state)) as AwaitingCallbackState;
    expect(restored).toEqual(state);
    const verdict = receiveCallback(
      restored,
      callback(restored, `code=c&state=STATE&iss=${encodeURIComponent(server.issuer)}`),
    );
    expect(verdict.outcome).toBe("accepted");
  });
});

describe("receiveCallback", () => {
  const iss = `iss=${encodeURIComponent(server.issuer)}`;

  it("accepts the matching callback and moves to code-received", async () => {
    const { state } = await begin();
    const verdict = receiveCallback(state, callback(state, `code=abc&state=STATE&${iss}`));
    expect(verdict.outcome).toBe("accepted");
    if (verdict.outcome !== "accepted") return;
    expect(verdict.next.status).toBe("code-received");
    expect(isFlowFinished(verdict.next)).toBe(false);
    expect(new URLSearchParams(verdict.next.callbackQuery).get("code")).toBe("abc");
  });

  it("S15: a missing, empty or wrong state is ignored, on success and error responses alike", async () => {
    const { state } = await begin();
    for (const query of [
      `code=abc&${iss}`,
      `code=abc&state=&${iss}`,
      `code=abc&state=nope&${iss}`,
      `error=access_denied&state=nope`,
      "error=access_denied",
    ]) {
      const verdict = receiveCallback(state, callback(state, query));
      expect(verdict.outcome, query).toBe("ignored");
      if (verdict.outcome === "ignored") expect(verdict.error.code).toBe(ErrorCode.STATE_MISMATCH);
    }
  });

  it("S16: duplicate parameters are invalid, and an empty code counts as absent", async () => {
    const { state } = await begin();
    const dup = receiveCallback(state, callback(state, `code=a&code=b&state=STATE&${iss}`));
    expect(dup.outcome).toBe("ignored");
    if (dup.outcome === "ignored") expect(dup.error.code).toBe(ErrorCode.CALLBACK_INVALID);
    const empty = receiveCallback(state, callback(state, `code=&state=STATE&${iss}`));
    expect(empty.outcome).toBe("failed");
    if (empty.outcome === "failed") expect(empty.error.code).toBe(ErrorCode.CALLBACK_INVALID);
  });

  it("S17: iss is compared byte for byte and required when the metadata promises it", async () => {
    const { state } = await begin();
    for (const query of [
      "code=a&state=STATE",
      `code=a&state=STATE&iss=${encodeURIComponent(`${server.issuer}/`)}`,
      "code=a&state=STATE&iss=https%3A%2F%2Fevil.example",
    ]) {
      const verdict = receiveCallback(state, callback(state, query));
      expect(verdict.outcome, query).toBe("failed");
      if (verdict.outcome === "failed") {
        expect(verdict.error.code).toBe(ErrorCode.ISS_MISMATCH);
        expect(verdict.next.status).toBe("failed");
        expect(isFlowFinished(verdict.next)).toBe(true);
      }
    }
  });

  it("S17: iss is optional when the server does not advertise it", async () => {
    const { state } = await begin(
      {},
      { ...server, authorization_response_iss_parameter_supported: false },
    );
    expect(receiveCallback(state, callback(state, "code=a&state=STATE")).outcome).toBe("accepted");
    expect(
      receiveCallback(state, callback(state, "code=a&state=STATE&iss=https%3A%2F%2Fevil.example"))
        .outcome,
    ).toBe("failed");
  });

  it("an error response with the right state fails the login with its details (defect 2)", async () => {
    const { state } = await begin();
    const verdict = receiveCallback(
      state,
      callback(
        state,
        `error=access_denied&error_description=${encodeURIComponent("User said no\u001b[31m")}&error_uri=https%3A%2F%2Fas.example%2Fe&state=STATE&${iss}`,
      ),
    );
    expect(verdict.outcome).toBe("failed");
    if (verdict.outcome !== "failed") return;
    expect(verdict.error).toBeInstanceOf(ProtocolError);
    expect(verdict.error.code).toBe(ErrorCode.AUTHORIZATION_DENIED);
    expect(verdict.error.oauth).toEqual({
      error: "access_denied",
      errorDescription: "User said no\u001b[31m",
      errorUri: "https://as.example/e",
    });
    expect(verdict.error.message).not.toContain("\u001b");
  });

  it("S42: error messages never contain the state or code", async () => {
    const { state } = await begin();
    const verdicts = [
      receiveCallback(state, callback(state, "code=SECRETCODE&state=wrongSECRET")),
      receiveCallback(
        state,
        callback(state, "code=SECRETCODE&state=STATE&iss=https%3A%2F%2Fevil.example"),
      ),
    ];
    for (const v of verdicts) {
      if (v.outcome === "accepted") throw new Error("unexpected");
      expect(v.error.message).not.toContain("SECRET");
      expect(v.error.message).not.toContain(state.state);
    }
  });
});
