import {
  base64url,
  exportJWK,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from "jose";

/** The one signing key of a fake server. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: GenerateKeyPairResult["privateKey"];
  readonly publicKey: GenerateKeyPairResult["publicKey"];
  readonly publicJwk: JWK;
}

const ALGORITHM = "ES256";

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

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = randomToken(12);
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...exported, kid, alg: ALGORITHM, use: "sig" },
  };
}

export function jwks(key: SigningKey): JSONWebKeySet {
  return { keys: [key.publicJwk] };
}

export function signJwt(key: SigningKey, typ: string, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ })
    .sign(key.privateKey);
}

/** Verifies an access token issued with {@link signJwt}; returns `undefined` when it is not one. */
export async function verifyAccessToken(
  key: SigningKey,
  token: string,
  options: { issuer: string; nowMs: number },
): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [ALGORITHM],
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
