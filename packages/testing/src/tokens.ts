import {
  base64url,
  decodeProtectedHeader,
  exportJWK,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";

/** A JWS algorithm the fake server can sign with. */
export type FakeSigningAlg = "ES256" | "RS256";

/** A signing key of a fake server. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: FakeSigningAlg;
  readonly privateKey: GenerateKeyPairResult["privateKey"];
  readonly publicKey: GenerateKeyPairResult["publicKey"];
  readonly publicJwk: JWK;
}

/** Random bytes, base64url-encoded: 32 bytes give 256 bits and 43 characters. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** `BASE64URL(SHA256(ASCII(input)))`, the S256 transformation of RFC 7636 §4.2. */
export async function s256(input: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return base64url.encode(new Uint8Array(digest));
}

/** Compares two strings without an early exit on the first difference. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let difference = left.length ^ right.length;
  for (let index = 0; index < left.length; index += 1) {
    difference |= (left[index] ?? 0) ^ (right[index % Math.max(right.length, 1)] ?? 0);
  }
  return difference === 0;
}

export async function createSigningKey(alg: FakeSigningAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = randomToken(12);
  return { kid, alg, privateKey, publicKey, publicJwk: { ...exported, kid, alg, use: "sig" } };
}

export function jwks(keys: readonly SigningKey[]): JSONWebKeySet {
  return { keys: keys.map((key) => key.publicJwk) };
}

/** Signs a JWT; `kid: false` leaves the `kid` out of the header. */
export function signJwt(
  key: SigningKey,
  typ: string,
  payload: JWTPayload,
  options: { kid?: boolean } = {},
): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader(
      options.kid === false ? { alg: key.alg, typ } : { alg: key.alg, kid: key.kid, typ },
    )
    .sign(key.privateKey);
}

/** Flips bits in the signature of a compact JWS, keeping its length and encoding valid. */
export function corruptSignature(jws: string): string {
  const dot = jws.lastIndexOf(".");
  const signature = base64url.decode(jws.slice(dot + 1));
  signature[0] = (signature[0] ?? 0) ^ 0xff;
  signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0xff;
  return `${jws.slice(0, dot + 1)}${base64url.encode(signature)}`;
}

/** An unsecured JWT (`alg: "none"`, empty signature). */
export function unsecuredJwt(payload: JWTPayload): string {
  const encode = (value: unknown): string =>
    base64url.encode(new TextEncoder().encode(JSON.stringify(value)));
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
}

/** An HS256 JWT signed with `secret` (e.g. the client id). */
export function hs256Jwt(payload: JWTPayload, secret: string): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

/** Verifies an access token issued with {@link signJwt} by one of `keys`; `undefined` when it is not one. */
export async function verifyAccessToken(
  keys: ReadonlyMap<string, SigningKey>,
  token: string,
  options: { issuer: string; nowMs: number },
): Promise<JWTPayload | undefined> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = kid === undefined ? undefined : keys.get(kid);
    if (key === undefined) {
      return undefined;
    }
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer: options.issuer,
      typ: "at+jwt",
      currentDate: new Date(options.nowMs),
      clockTolerance: 0,
      requiredClaims: ["sub", "exp", "jti", "client_id"],
    });
    return payload;
  } catch {
    return undefined;
  }
}
