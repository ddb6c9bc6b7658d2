// What goes on the wire and how each answer maps to a coded error, for the requests latchkey
// builds itself: discovery, the code exchange and UserInfo. Each answer is a hand-made Response.
import { describe, expect, it } from "vitest";
import {
  type CodeReceivedState,
  ConfigurationError,
  ErrorCode,
  exchangeCode,
  type FetchLike,
  fetchUserInfo,
  ProtocolError,
  resolveServer,
  type ServerMetadata,
  startDeviceAuthorization,
  TransportError,
} from "../src/index.js";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
  redirect: RequestRedirect | undefined;
}

/** A transport answering each request with the next of `answers`, recording what it saw. */
function transport(...answers: (() => Response)[]): {
  seen: Seen[];
  fetch: FetchLike;
} {
  const seen: Seen[] = [];
  return {
    seen,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      seen.push({
        url: request.url,
        method: request.method,
        headers: request.headers,
        body: await request.text(),
        redirect: init?.redirect,
      });
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected request to ${request.url}`);
      return answer();
    },
  };
}

const notFound = (): Response => Response.json({ error: "not_found" }, { status: 404 });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe("discovery (S19)", () => {
  it.each([
    [
      "https://as.example",
      "https://as.example/.well-known/oauth-authorization-server",
      "https://as.example/.well-known/openid-configuration",
    ],
    [
      "https://as.example/",
      "https://as.example/.well-known/oauth-authorization-server",
      "https://as.example/.well-known/openid-configuration",
    ],
    [
      "https://as.example/realms/a",
      "https://as.example/.well-known/oauth-authorization-server/realms/a",
      "https://as.example/realms/a/.well-known/openid-configuration",
    ],
    [
      "https://as.example/realms/a/",
      "https://as.example/.well-known/oauth-authorization-server/realms/a",
      "https://as.example/realms/a/.well-known/openid-configuration",
    ],
  ])(
    "S19: %s: RFC 8414 first, then OpenID discovery, GET, JSON, no redirect followed",
    async (issuer, rfc8414, oidc) => {
      const t = transport(notFound, () =>
        Response.json({ issuer, token_endpoint: "https://as.example/token" }),
      );
      const server = await resolveServer(
        { issuer, clientId: "cli", fetch: t.fetch },
        { cache: false },
      );
      expect(server.issuer).toBe(issuer);
      expect(t.seen.map((s) => s.url)).toEqual([rfc8414, oidc]);
      for (const s of t.seen) {
        expect(s.method).toBe("GET");
        expect(s.redirect).toBe("manual");
        expect(s.headers.get("accept")).toBe("application/json");
        expect(s.headers.has("authorization")).toBe(false);
      }
    },
  );

  it("S19: the document's issuer is compared as a URL (a trailing slash on a bare origin is the same issuer)", async () => {
    const t = transport(() =>
      Response.json({ issuer: "https://as.example", token_endpoint: "https://as.example/token" }),
    );
    const server = await resolveServer(
      { issuer: "https://as.example/", clientId: "cli", fetch: t.fetch },
      { cache: false },
    );
    expect(server.issuer).toBe("https://as.example");
  });

  it.each([
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "device_authorization_endpoint",
    "jwks_uri",
    "userinfo_endpoint",
    "pushed_authorization_request_endpoint",
  ])("S20: a plain-HTTP %s that is not loopback in the document is refused", async (name) => {
    const t = transport(() =>
      Response.json({
        issuer: "https://as.example",
        token_endpoint: "https://as.example/token",
        [name]: "http://as.example/endpoint",
      }),
    );
    const error = await failure(
      resolveServer(
        { issuer: "https://as.example", clientId: "cli", fetch: t.fetch },
        { cache: false },
      ),
    );
    expect(error).toMatchObject({ code: ErrorCode.INSECURE_ENDPOINT });
  });

  it("S19: another issuer in the document is DISCOVERY_ISSUER_MISMATCH", async () => {
    const t = transport(() =>
      Response.json({ issuer: "https://evil.example", token_endpoint: "https://as.example/token" }),
    );
    const error = await failure(
      resolveServer(
        { issuer: "https://as.example", clientId: "cli", fetch: t.fetch },
        { cache: false },
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.DISCOVERY_ISSUER_MISMATCH });
  });

  it.each([
    [
      "no issuer",
      () => Response.json({ token_endpoint: "https://as.example/token" }),
      TransportError,
      "DISCOVERY_FAILED",
    ],
    [
      "a JSON 403",
      () => Response.json({ error: "forbidden" }, { status: 403 }),
      TransportError,
      "DISCOVERY_FAILED",
    ],
    ["an array", () => Response.json([]), TransportError, "DISCOVERY_FAILED"],
    [
      "a body that is not JSON",
      () => new Response("<html>", { headers: { "content-type": "text/html" } }),
      TransportError,
      "SERVER_ERROR",
    ],
    ["a 503", () => new Response("down", { status: 503 }), TransportError, "SERVER_ERROR"],
  ] as const)(
    "S33: a discovery answer with %s is a coded error",
    async (_label, answer, type, code) => {
      const t = transport(answer);
      const error = await failure(
        resolveServer(
          { issuer: "https://as.example", clientId: "cli", fetch: t.fetch },
          { cache: false },
        ),
      );
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject({ code });
      expect(t.seen).toHaveLength(1);
    },
  );

  it("no metadata at either address is a ConfigurationError (check the issuer)", async () => {
    const t = transport(notFound, notFound);
    const error = await failure(
      resolveServer(
        { issuer: "https://as.example", clientId: "cli", fetch: t.fetch },
        { cache: false },
      ),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: ErrorCode.DISCOVERY_FAILED });
  });
});

describe("the code exchange (S21)", () => {
  const server: ServerMetadata = {
    issuer: "https://as.example",
    token_endpoint: "https://as.example/token",
  };
  function received(overrides: Partial<CodeReceivedState> = {}): CodeReceivedState {
    return {
      status: "code-received",
      expectedIssuer: "https://as.example",
      issRequired: false,
      clientId: "cli",
      redirectUri: "http://127.0.0.1:5000/cb",
      state: "the-state",
      codeVerifier: "v".repeat(43),
      startedAt: 0,
      callbackQuery: "?code=the-code&state=the-state",
      ...overrides,
    };
  }
  const tokens = (): Response =>
    Response.json({ access_token: "at", token_type: "Bearer", expires_in: 60 });

  it("S21: one POST with the code, the byte-identical redirect_uri, client_id, the verifier and the token parameters", async () => {
    const t = transport(tokens);
    const done = await exchangeCode(received(), {
      client: { clientId: "cli", fetch: t.fetch, tokenParams: { resource_hint: "x" } },
      server,
    });
    expect(done.credentials.accessToken).toBe("at");
    expect(t.seen).toHaveLength(1);
    const [request] = t.seen as [Seen];
    expect(request.url).toBe("https://as.example/token");
    expect(request.method).toBe("POST");
    expect(request.redirect).toBe("manual");
    expect(request.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request.headers.get("accept")).toBe("application/json");
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      resource_hint: "x",
      redirect_uri: "http://127.0.0.1:5000/cb",
      code: "the-code",
      code_verifier: "v".repeat(43),
      grant_type: "authorization_code",
      client_id: "cli",
    });
  });

  it("S15 S17: a received state whose query does not match it never reaches the token endpoint", async () => {
    for (const callbackQuery of [
      "?code=c&state=other",
      "?code=c",
      "?state=the-state",
      "?code=c&state=the-state&iss=https%3A%2F%2Fevil.example",
      "?code=c&code=d&state=the-state",
      "?error=access_denied&state=the-state",
      "?code=c&state=the-state&id_token=x",
      "?code=c&state=the-state&token=x",
      "?response=jarm&state=the-state",
    ]) {
      const t = transport(tokens);
      const error = await failure(
        exchangeCode(received({ callbackQuery }), {
          client: { clientId: "cli", fetch: t.fetch },
          server,
        }),
      );
      expect(error, callbackQuery).toBeInstanceOf(ProtocolError);
      expect(t.seen, callbackQuery).toHaveLength(0);
    }
  });

  it("S17: iss is required when the login expected it", async () => {
    const t = transport(tokens);
    const error = await failure(
      exchangeCode(received({ issRequired: true }), {
        client: { clientId: "cli", fetch: t.fetch },
        server,
      }),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(t.seen).toHaveLength(0);
  });

  it("S43: an openid login whose token response has no id_token is refused", async () => {
    const t = transport(tokens);
    const error = await failure(
      exchangeCode(received({ nonce: "n" }), {
        client: { clientId: "cli", fetch: t.fetch },
        server,
      }),
    );
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });
});

describe("UserInfo (S34)", () => {
  const server: ServerMetadata = {
    issuer: "https://as.example",
    token_endpoint: "https://as.example/token",
    userinfo_endpoint: "https://as.example/me",
  };
  const credentials = {
    accessToken: "the-access-token",
    tokenType: "Bearer",
    issuer: "https://as.example",
    clientId: "cli",
    obtainedAt: 0,
  };

  it("S34: GET with the token in Authorization only, JSON (or a JWT) accepted", async () => {
    const t = transport(() => Response.json({ sub: "alice", email: "a@example" }));
    const claims = await fetchUserInfo({
      client: { clientId: "cli", fetch: t.fetch },
      server,
      credentials,
    });
    expect(claims).toEqual({ sub: "alice", email: "a@example" });
    const [request] = t.seen as [Seen];
    expect(request.url).toBe("https://as.example/me");
    expect(request.method).toBe("GET");
    expect(request.redirect).toBe("manual");
    expect(request.headers.get("authorization")).toBe("Bearer the-access-token");
    expect(request.headers.get("accept")).toMatch(/^application\/json\b/);
  });

  it("a server without a userinfo_endpoint is INVALID_RESPONSE, and nothing is sent", async () => {
    const t = transport();
    const { userinfo_endpoint: _u, ...without } = server;
    const error = await failure(
      fetchUserInfo({ client: { clientId: "cli", fetch: t.fetch }, server: without, credentials }),
    );
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
    expect(JSON.stringify(error)).not.toContain("the-access-token");
    expect((error as Error).message).not.toContain("the-access-token");
  });

  it.each([
    ["no sub", () => Response.json({ email: "a@example" }), "INVALID_RESPONSE"],
    [
      "a JSON 403",
      () => Response.json({ error: "insufficient_scope" }, { status: 403 }),
      "INVALID_RESPONSE",
    ],
    ["a body that is not JSON", () => new Response("<html>"), "SERVER_ERROR"],
  ])("S33: a UserInfo answer with %s is a coded error", async (_label, answer, code) => {
    const t = transport(answer);
    const error = await failure(
      fetchUserInfo({ client: { clientId: "cli", fetch: t.fetch }, server, credentials }),
    );
    expect(error).toMatchObject({ code });
  });
});

describe("device authorization (S48, S50)", () => {
  const server: ServerMetadata = {
    issuer: "https://as.example",
    token_endpoint: "https://as.example/token",
    device_authorization_endpoint: "https://as.example/device",
  };
  const answer = (extra: Record<string, unknown>) => (): Response =>
    Response.json({
      device_code: "dc",
      user_code: "ABCD-EFGH",
      verification_uri: "https://as.example/activate",
      expires_in: 600,
      ...extra,
    });

  it("S48: the interval defaults to 5 s; S50: verification_uri_complete is kept when sent", async () => {
    const plain = await startDeviceAuthorization({
      client: { clientId: "cli", fetch: transport(answer({})).fetch, now: () => 1000 },
      server,
    });
    expect(plain).toEqual({
      deviceCode: "dc",
      userCode: "ABCD-EFGH",
      verificationUri: "https://as.example/activate",
      expiresAt: 601_000,
      interval: 5,
    });
    const complete = await startDeviceAuthorization({
      client: {
        clientId: "cli",
        fetch: transport(
          answer({ interval: 7, verification_uri_complete: "https://as.example/a?c=1" }),
        ).fetch,
      },
      server,
    });
    expect(complete).toMatchObject({
      interval: 7,
      verificationUriComplete: "https://as.example/a?c=1",
    });
  });

  it.each([
    ["interval 0", { interval: 0 }],
    ["a negative interval", { interval: -5 }],
    ["a string interval", { interval: "5" }],
    ["a verification_uri_complete that is not a string", { verification_uri_complete: 1 }],
    ["no user_code", { user_code: undefined }],
  ])("S33: a device authorization answer with %s is INVALID_RESPONSE", async (_label, extra) => {
    const error = await failure(
      startDeviceAuthorization({
        client: { clientId: "cli", fetch: transport(answer(extra)).fetch },
        server,
      }),
    );
    expect(error).toMatchObject({ code: ErrorCode.INVALID_RESPONSE });
  });
});
