// The ID-token signature check (S43, S45) on crypto.subtle, with real keys and a JWKS served by
// an injected transport. The claims are oauth4webapi's to check; only the signature is here.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { clientTransport } from "../src/http.js";
import { verifyIdTokenSignature, withSafeIdTokenAlgorithms } from "../src/id-token.js";
import type { ClientOptions, ServerMetadata } from "../src/index.js";
import { ErrorCode } from "../src/index.js";
import { b64u, createKey, signJwt, type TestAlg, type TestKey } from "./support/jws.js";

const JWKS_URI = "https://idp.example/jwks";
const CLAIMS = { iss: "https://idp.example", sub: "alice", aud: "cli", iat: 1, exp: 2 };

interface Setup {
  client: ClientOptions;
  /** The keys the JWKS endpoint serves; replace to rotate. */
  keys: (JsonWebKey & { kid?: string })[];
  /** JWKS requests seen. */
  requests: number;
  verify(
    token: string,
    server?: { [K in keyof ServerMetadata]?: ServerMetadata[K] | undefined },
  ): Promise<void>;
}

/** A JWKS endpoint of its own (a fresh transport, so a fresh cache) serving `keys`. */
function setup(
  keys: Setup["keys"],
  algs: string[] = ["RS256"],
  extra: Partial<ClientOptions> = {},
) {
  const s: Setup = {
    keys,
    requests: 0,
    client: {
      clientId: "cli",
      fetch: async (input) => {
        s.requests++;
        expect(String(input)).toBe(JWKS_URI);
        return Response.json({ keys: s.keys });
      },
      ...extra,
    },
    verify: (token, server = {}) => {
      const metadata = {
        issuer: "https://idp.example",
        jwks_uri: JWKS_URI,
        id_token_signing_alg_values_supported: algs,
        ...server,
      } as ServerMetadata;
      return verifyIdTokenSignature(
        withSafeIdTokenAlgorithms(metadata, s.client),
        token,
        s.client,
        clientTransport(s.client),
      );
    },
  };
  return s;
}

const ALGS: TestAlg[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];
const keys = new Map<TestAlg, TestKey>();
let rsa: TestKey;
let ec: TestKey;
beforeAll(async () => {
  for (const alg of ALGS) keys.set(alg, await createKey(alg, { kid: `k-${alg}` }));
  rsa = keys.get("RS256") as TestKey;
  ec = keys.get("ES256") as TestKey;
});
afterEach(() => {
  vi.useRealTimers();
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: { code?: string; message?: string }) => error,
  );
}

describe("S43: the signature, on crypto.subtle", () => {
  it.each(ALGS)("S43: accepts a valid %s signature", async (alg) => {
    const key = keys.get(alg) as TestKey;
    const s = setup([...new Set([rsa.jwk, ec.jwk, key.jwk])], [alg]);
    await expect(s.verify(await signJwt(key, CLAIMS))).resolves.toBeUndefined();
    expect(s.requests).toBe(1);
  });

  it("S43: refuses a tampered payload", async () => {
    const s = setup([rsa.jwk]);
    const [head, , signature] = (await signJwt(rsa, CLAIMS)).split(".");
    const forged = `${head}.${b64u(JSON.stringify({ ...CLAIMS, sub: "mallory" }))}.${signature}`;
    expect(await rejection(s.verify(forged))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/signature does not verify/),
    });
  });

  it.each(["RS256", "PS256", "ES256", "EdDSA"] as const)(
    "S43: refuses a tampered %s signature",
    async (alg) => {
      const key = keys.get(alg) as TestKey;
      const s = setup([key.jwk], [alg]);
      const token = await signJwt(key, CLAIMS);
      const last = token.at(-2) === "A" ? "B" : "A";
      const tampered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
      expect(await rejection(s.verify(tampered))).toMatchObject({
        code: ErrorCode.INVALID_ID_TOKEN,
      });
      expect(await rejection(s.verify(`${token.split(".").slice(0, 2).join(".")}.`))).toMatchObject(
        { code: ErrorCode.INVALID_ID_TOKEN },
      );
      expect(await rejection(s.verify(`${token.slice(0, -4)}!*~$`))).toMatchObject({
        code: ErrorCode.INVALID_ID_TOKEN,
      });
    },
  );

  it("S43: refuses a token signed by another key under the published kid", async () => {
    const impostor = await createKey("ES256", { kid: ec.jwk.kid as string });
    const s = setup([ec.jwk], ["ES256"]);
    expect(await rejection(s.verify(await signJwt(impostor, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/signature does not verify/),
    });
  });

  it("S43: refuses an alg whose key type does not match the key (ES256 header, RSA key of that kid)", async () => {
    const s = setup([{ ...rsa.jwk, kid: "shared" }], ["ES256", "RS256"]);
    const token = await signJwt(ec, CLAIMS, { kid: "shared" });
    expect(await rejection(s.verify(token))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/does not have/),
    });
  });

  it("S43: refuses an EC key on another curve than the alg's (ES384 header, P-256 key)", async () => {
    const s = setup([{ ...ec.jwk, kid: "k" }], ["ES384"]);
    const forged = await signJwt(ec, CLAIMS, { alg: "ES384", kid: "k" });
    expect(await rejection(s.verify(forged))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/does not have/),
    });
  });

  it("S43: RS256 and PS256 are not interchangeable on one RSA key", async () => {
    const s = setup([rsa.jwk], ["PS256", "RS256"]);
    const forged = await signJwt(rsa, CLAIMS, { alg: "PS256" });
    expect(await rejection(s.verify(forged))).toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
  });

  it("S43: refuses a JWK whose alg is not the header's", async () => {
    const s = setup([{ ...rsa.jwk, alg: "RS384" }], ["RS256", "RS384"]);
    expect(await rejection(s.verify(await signJwt(rsa, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    s.keys = [{ ...rsa.jwk, alg: "RS256" }];
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 301_000);
    await expect(s.verify(await signJwt(rsa, CLAIMS))).resolves.toBeUndefined();
  });

  it("S43: refuses a JWK meant for encryption (use=enc) or without verify in key_ops", async () => {
    for (const jwk of [
      { ...rsa.jwk, use: "enc" },
      { ...rsa.jwk, key_ops: ["encrypt"] },
      { ...rsa.jwk, key_ops: "verify" as unknown as string[] },
    ]) {
      const s = setup([jwk]);
      expect(await rejection(s.verify(await signJwt(rsa, CLAIMS)))).toMatchObject({
        code: ErrorCode.INVALID_ID_TOKEN,
      });
    }
    const s = setup([{ ...rsa.jwk, use: "sig", key_ops: ["verify"] }]);
    await expect(s.verify(await signJwt(rsa, CLAIMS))).resolves.toBeUndefined();
  });

  it('S43: refuses alg "none", even when the server lists it', async () => {
    const s = setup([rsa.jwk], ["none", "RS256"]);
    const unsigned = `${b64u(JSON.stringify({ alg: "none" }))}.${b64u(JSON.stringify(CLAIMS))}.`;
    expect(await rejection(s.verify(unsigned))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    expect(s.requests).toBe(0);
  });

  it("S43: refuses HS256 for a public client, and does not verify HMAC for a confidential one", async () => {
    const hs = `${b64u(JSON.stringify({ alg: "HS256" }))}.${b64u(JSON.stringify(CLAIMS))}.${b64u("mac")}`;
    const publicClient = setup([{ kty: "oct", k: b64u("cli") }], ["HS256"]);
    expect(await rejection(publicClient.verify(hs))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    const confidential = setup([{ kty: "oct", k: b64u("s3cret") }], ["HS256"], {
      clientSecret: "s3cret",
    });
    expect(await rejection(confidential.verify(hs))).toMatchObject({
      code: ErrorCode.INVALID_RESPONSE,
    });
    expect(publicClient.requests + confidential.requests).toBe(0);
  });

  it("S43: the alg comes from the server's allow-list, never from the header alone", async () => {
    const s = setup([rsa.jwk, ec.jwk], ["ES256"]);
    expect(await rejection(s.verify(await signJwt(rsa, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    // No list: RS256 only (OIDC Discovery's default).
    const d = setup([rsa.jwk, ec.jwk]);
    await expect(
      d.verify(await signJwt(rsa, CLAIMS), { id_token_signing_alg_values_supported: undefined }),
    ).resolves.toBeUndefined();
    expect(
      await rejection(
        d.verify(await signJwt(ec, CLAIMS), { id_token_signing_alg_values_supported: undefined }),
      ),
    ).toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
  });

  it("S43: refuses an RSA key shorter than 2048 bits", async () => {
    const weak = await createKey("RS256", { kid: "weak" }, 1024);
    const s = setup([weak.jwk]);
    expect(await rejection(s.verify(await signJwt(weak, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/2048/),
    });
  });

  it("S43: refuses a JWK whose key material is not a key", async () => {
    const s = setup([{ ...rsa.jwk, n: "AAAA" }]);
    expect(await rejection(s.verify(await signJwt(rsa, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
  });

  it("S43: kid absent: accepted with one key of the alg's type, refused with several", async () => {
    const second = await createKey("ES256", { kid: "second" });
    const one = setup([rsa.jwk, ec.jwk], ["ES256"]);
    await expect(
      one.verify(await signJwt(ec, CLAIMS, { kid: undefined })),
    ).resolves.toBeUndefined();
    const several = setup([ec.jwk, second.jwk], ["ES256"]);
    expect(
      await rejection(several.verify(await signJwt(ec, CLAIMS, { kid: undefined }))),
    ).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/several/),
    });
    // Ambiguity is not a rotation: no refetch.
    expect(several.requests).toBe(1);
  });
});

describe("S45: key rotation and the key-set cache", () => {
  it("S45: an unknown kid refetches the key set once; at most one forced refetch every 30 s", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const s = setup([ec.jwk], ["ES256"]);
    await s.verify(await signJwt(ec, CLAIMS));
    await s.verify(await signJwt(ec, CLAIMS));
    expect(s.requests).toBe(1); // cached

    const rotated = await createKey("ES256", { kid: "rotated" });
    s.keys = [rotated.jwk];
    await expect(s.verify(await signJwt(rotated, CLAIMS))).resolves.toBeUndefined();
    expect(s.requests).toBe(2);

    // A kid nobody published: the last forced refetch was just now, so none.
    const stranger = await createKey("ES256", { kid: "stranger" });
    expect(await rejection(s.verify(await signJwt(stranger, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
      message: expect.stringMatching(/does not have/),
    });
    expect(s.requests).toBe(2);

    vi.setSystemTime(Date.now() + 31_000);
    expect(await rejection(s.verify(await signJwt(stranger, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    expect(s.requests).toBe(3);
    expect(await rejection(s.verify(await signJwt(stranger, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
    expect(s.requests).toBe(3);
    // The old key is gone from the refetched set.
    expect(await rejection(s.verify(await signJwt(ec, CLAIMS)))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
  });

  it("S45: the key set is cached per transport and refetched after 5 minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const a = setup([ec.jwk], ["ES256"]);
    const b = setup([ec.jwk], ["ES256"]);
    const token = await signJwt(ec, CLAIMS);
    await a.verify(token);
    await b.verify(token);
    expect([a.requests, b.requests]).toEqual([1, 1]);
    vi.setSystemTime(Date.now() + 299_000);
    await a.verify(token);
    expect(a.requests).toBe(1);
    vi.setSystemTime(Date.now() + 2_000);
    await a.verify(token);
    expect(a.requests).toBe(2);
  });
});

describe("S20 S33: fetching the key set", () => {
  const token = (): Promise<string> => signJwt(rsa, CLAIMS);

  it("S43: a server without jwks_uri cannot have its ID tokens verified", async () => {
    const s = setup([rsa.jwk]);
    expect(await rejection(s.verify(await token(), { jwks_uri: undefined }))).toMatchObject({
      code: ErrorCode.INVALID_ID_TOKEN,
    });
  });

  it("S20: a plain-HTTP jwks_uri that is not loopback is refused before any request", async () => {
    const s = setup([rsa.jwk]);
    expect(
      await rejection(s.verify(await token(), { jwks_uri: "http://idp.example/jwks" })),
    ).toMatchObject({ code: ErrorCode.INSECURE_ENDPOINT });
    expect(s.requests).toBe(0);
  });

  it.each([
    ["a body that is not JSON", () => new Response("<html>", { status: 200 }), "SERVER_ERROR"],
    ["a 503", () => new Response("down", { status: 503 }), "SERVER_ERROR"],
    ["a JSON 404", () => Response.json({ error: "nope" }, { status: 404 }), "INVALID_RESPONSE"],
    ["a redirect", () => Response.redirect("https://elsewhere.example/", 302), "INVALID_RESPONSE"],
    ["no keys array", () => Response.json({ keys: {} }), "INVALID_RESPONSE"],
    ["a key that is not an object", () => Response.json({ keys: ["x"] }), "INVALID_RESPONSE"],
    ["an array", () => Response.json([]), "INVALID_RESPONSE"],
  ])("S33: a key set response with %s is a coded error", async (_label, answer, code) => {
    const client: ClientOptions = { clientId: "cli", fetch: async () => answer() };
    const error = await rejection(
      verifyIdTokenSignature(
        { issuer: "https://idp.example", jwks_uri: JWKS_URI },
        await token(),
        client,
        clientTransport(client),
      ),
    );
    expect(error.code).toBe(code);
  });

  it("S22 S42: the key set is fetched with GET, no redirect followed, and the timeout", async () => {
    let seen: RequestInit | undefined;
    const client: ClientOptions = {
      clientId: "cli",
      fetch: async (_input, init) => {
        seen = init;
        return Response.json({ keys: [rsa.jwk] });
      },
    };
    const controller = new AbortController();
    await verifyIdTokenSignature(
      { issuer: "https://idp.example", jwks_uri: JWKS_URI },
      await token(),
      client,
      clientTransport(client, controller.signal),
    );
    expect(seen?.redirect).toBe("manual");
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(new Headers(seen?.headers).get("accept")).toMatch(/application\/json/);
  });
});
