// Issue 14 point 4: oauth4webapi's errors are classified by its exported codes (and whether the
// response carried an ID token), never by their message text. Each row is a real response of
// the fake server, rewritten as a broken or hostile server would send it, through the real
// functions (refreshCredentials, startDeviceAuthorization, fetchUserInfo).
import * as oauth from "oauth4webapi";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type Credentials,
  decodeJwtClaims,
  ErrorCode,
  fetchUserInfo,
  ProtocolError,
  type ServerMetadata,
  startDeviceAuthorization,
  TransportError,
} from "../src/index.js";
import {
  client,
  idp,
  original,
  refresh,
  rewrite,
  server,
  startSession,
} from "./support/hostile.js";
import { b64u } from "./support/jws.js";

beforeEach(startSession);

type Body = Record<string, unknown>;

/** The ID token of `body` with its header and claims changed (the signature left as it was). */
function reshape(
  body: Body,
  claims: (c: Body) => Body,
  header: (h: Body) => Body = (h) => h,
): Body {
  const [head, , signature] = String(body.id_token).split(".");
  const decodedHead = JSON.parse(Buffer.from(String(head), "base64url").toString()) as Body;
  const payload = claims({ ...decodeJwtClaims(String(body.id_token)) });
  return {
    ...body,
    id_token: `${b64u(JSON.stringify(header(decodedHead)))}.${b64u(JSON.stringify(payload))}.${signature}`,
  };
}

/** What the refresh of a new session throws once the token endpoint's answer is rewritten. */
async function refusal(change: (body: Body) => Body): Promise<unknown> {
  rewrite(change);
  return refresh().then(
    () => expect.unreachable("the refresh succeeded"),
    (error: unknown) => error,
  );
}

const { INVALID_ID_TOKEN, INVALID_RESPONSE } = ErrorCode;

// [what the server does, the change, oauth4webapi's code, latchkey's code]
const TOKEN_ROWS: [string, (body: Body) => Body, string, ErrorCode][] = [
  [
    "an ID token for another audience",
    (b) => reshape(b, (c) => ({ ...c, aud: "https://untrusted.example" })),
    oauth.JWT_CLAIM_COMPARISON,
    INVALID_ID_TOKEN,
  ],
  [
    "an ID token of another issuer",
    (b) => reshape(b, (c) => ({ ...c, iss: "https://evil.example" })),
    oauth.JWT_CLAIM_COMPARISON,
    INVALID_ID_TOKEN,
  ],
  [
    "an expired ID token",
    (b) => reshape(b, (c) => ({ ...c, exp: 1000, iat: 500 })),
    oauth.JWT_TIMESTAMP_CHECK,
    INVALID_ID_TOKEN,
  ],
  [
    "an ID token without sub",
    (b) => reshape(b, ({ sub: _sub, ...c }) => c),
    oauth.INVALID_RESPONSE,
    INVALID_ID_TOKEN,
  ],
  [
    "an ID token of two parts",
    (b) => ({ ...b, id_token: "e30.e30" }),
    oauth.INVALID_RESPONSE,
    INVALID_ID_TOKEN,
  ],
  [
    "an ID token whose header is not JSON",
    (b) => ({ ...b, id_token: `${b64u("not json")}.e30.sig` }),
    oauth.PARSE_ERROR,
    INVALID_ID_TOKEN,
  ],
  [
    // oauth4webapi's message, "JWE decryption is not configured", names neither JWT nor ID token.
    "an encrypted ID token (JWE, five parts)",
    (b) => ({ ...b, id_token: "e30.a.b.c.d" }),
    oauth.UNSUPPORTED_OPERATION,
    INVALID_ID_TOKEN,
  ],
  [
    "an ID token with a crit header",
    (b) =>
      reshape(
        b,
        (c) => c,
        (h) => ({ ...h, crit: ["exp"] }),
      ),
    oauth.UNSUPPORTED_OPERATION,
    INVALID_ID_TOKEN,
  ],
  [
    "a numeric access_token, beside a valid ID token",
    (b) => ({ ...b, access_token: 42 }),
    oauth.INVALID_RESPONSE,
    INVALID_RESPONSE,
  ],
  [
    "an expires_in that is no number",
    (b) => ({ ...b, expires_in: "soon" }),
    oauth.INVALID_RESPONSE,
    INVALID_RESPONSE,
  ],
  ["a numeric id_token", (b) => ({ ...b, id_token: 42 }), oauth.INVALID_RESPONSE, INVALID_RESPONSE],
  [
    // An unsupported operation about the body, not the ID token, although one is there.
    "token_type mac, beside a valid ID token",
    (b) => ({ ...b, token_type: "mac" }),
    oauth.UNSUPPORTED_OPERATION,
    INVALID_RESPONSE,
  ],
];

describe("oauth4webapi's error codes map to latchkey's (token endpoint)", () => {
  for (const [name, change, oauthCode, code] of TOKEN_ROWS) {
    it(`${name}: ${oauthCode} → ${code}`, async () => {
      const error = await refusal(change);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code });
      // The row does exercise that oauth4webapi code.
      expect(((error as Error).cause as { code?: string }).code).toBe(oauthCode);
      const message = (error as Error).message;
      expect(message.startsWith("The ID token in the refresh request is invalid: ")).toBe(
        code === INVALID_ID_TOKEN,
      );
    });
  }

  it(`a status other than 200: ${oauth.RESPONSE_IS_NOT_CONFORM} → INVALID_RESPONSE, even with an ID token`, async () => {
    idp.use(async (_request, next, info) => {
      const response = await next();
      if (info.endpoint !== "token") return response;
      return new Response(await response.text(), { status: 201, headers: response.headers });
    });
    const error = await refresh().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: INVALID_RESPONSE });
    expect(((error as Error).cause as { code?: string }).code).toBe(oauth.RESPONSE_IS_NOT_CONFORM);
  });

  for (const [oauthCode, body, type] of [
    [oauth.RESPONSE_IS_NOT_JSON, "<html>Welcome</html>", "text/html"],
    [oauth.PARSE_ERROR, '{"id_token":', "application/json"],
  ] as const) {
    it(`a body that is not JSON (${oauthCode}) → SERVER_ERROR, retryable`, async () => {
      idp.use(async (_request, next, info) => {
        const response = await next();
        if (info.endpoint !== "token") return response;
        return new Response(body, { headers: { "content-type": type } });
      });
      const error = await refresh().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: ErrorCode.SERVER_ERROR });
    });
  }
});

describe("oauth4webapi's error classes map to latchkey's (other endpoints)", () => {
  it("RESPONSE_BODY_ERROR of the device authorization endpoint → the token endpoint's rule (INVALID_CLIENT)", async () => {
    idp.use(async (_request, next, info) =>
      info.endpoint === "device_authorization"
        ? Response.json({ error: "invalid_client" }, { status: 400 })
        : next(),
    );
    const error = await startDeviceAuthorization({ client, server }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ErrorCode.INVALID_CLIENT,
      // The status comes from the ResponseBodyError, which oauth4webapi threw for this body.
      oauth: { error: "invalid_client", status: 400 },
    });
  });

  it("WWW_AUTHENTICATE_CHALLENGE of the UserInfo endpoint → INVALID_CLIENT", async () => {
    idp.use(async (_request, next, info) =>
      info.endpoint === "userinfo"
        ? new Response(null, {
            status: 401,
            headers: { "www-authenticate": 'Bearer error="invalid_token"' },
          })
        : next(),
    );
    const credentials: Credentials = original;
    const error = await fetchUserInfo({ client, server, credentials }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.INVALID_CLIENT });
    expect(((error as Error).cause as { code?: string }).code).toBe(
      oauth.WWW_AUTHENTICATE_CHALLENGE,
    );
  });

  /** fetchUserInfo once the UserInfo endpoint answers with a JWT of these claims. */
  async function userInfoJwt(
    claims: Body,
    metadata: Partial<ServerMetadata> = {},
  ): Promise<unknown> {
    idp.use(async (_request, next, info) =>
      info.endpoint === "userinfo"
        ? new Response(`${b64u('{"alg":"ES256"}')}.${b64u(JSON.stringify(claims))}.sig`, {
            headers: { "content-type": "application/jwt" },
          })
        : next(),
    );
    return fetchUserInfo({
      client,
      server: { ...server, ...metadata },
      credentials: original,
    }).catch((e: unknown) => e);
  }

  it("a UserInfo JWT's claim mismatch is about the response, not an ID token → INVALID_RESPONSE", async () => {
    const sub = decodeJwtClaims(original.idToken)?.sub;
    const error = await userInfoJwt(
      { sub, iss: "https://evil.example" },
      { userinfo_signing_alg_values_supported: ["ES256"] },
    );
    expect(error).toMatchObject({ code: INVALID_RESPONSE });
    expect(((error as Error).cause as { code?: string }).code).toBe(oauth.JWT_CLAIM_COMPARISON);
  });

  it("an error whose message says JWT but that is no ID token's → INVALID_RESPONSE (the message is not read)", async () => {
    // No userinfo_signing_alg_values_supported: "missing client or server configuration to
    // verify used JWT "alg" header parameter", without a code. Matching the message called it
    // an invalid ID token.
    const error = await userInfoJwt({ sub: decodeJwtClaims(original.idToken)?.sub });
    expect((error as Error).message).toContain("JWT");
    expect(error).toMatchObject({ code: INVALID_RESPONSE });
    expect((error as Error).cause).toBeInstanceOf(oauth.OperationProcessingError);
  });
});
