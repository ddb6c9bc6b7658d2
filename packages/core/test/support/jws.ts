// Real JWS signing on crypto.subtle (Web APIs only: the same helper runs in Node and Chromium).

export type TestAlg =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519";

export interface TestKey {
  alg: TestAlg;
  privateKey: CryptoKey;
  /** The public JWK as exported by crypto.subtle (`kty`, `crv`, `key_ops`, `ext`, ...). */
  jwk: JsonWebKey & { kid?: string };
}

export function b64u(bytes: Uint8Array | string): string {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function params(
  alg: TestAlg,
  modulusLength = 2048,
): {
  generate: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
  sign: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
} {
  const bits = alg.slice(-3);
  const hash = `SHA-${bits}`;
  const rsa = { modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash };
  switch (alg.slice(0, 2)) {
    case "RS":
      return { generate: { name: "RSASSA-PKCS1-v1_5", ...rsa }, sign: "RSASSA-PKCS1-v1_5" };
    case "PS":
      return {
        generate: { name: "RSA-PSS", ...rsa },
        sign: { name: "RSA-PSS", saltLength: Number(bits) / 8 },
      };
    case "ES":
      return {
        generate: { name: "ECDSA", namedCurve: bits === "512" ? "P-521" : `P-${bits}` },
        sign: { name: "ECDSA", hash },
      };
    default:
      return { generate: { name: "Ed25519" }, sign: "Ed25519" };
  }
}

/** A fresh key pair for `alg`, its public JWK carrying `kid` (and `alg`, `use` when given). */
export async function createKey(
  alg: TestAlg,
  jwkExtra: Partial<JsonWebKey & { kid: string }> = {},
  modulusLength?: number,
): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey(params(alg, modulusLength).generate, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const exported = await crypto.subtle.exportKey("jwk", pair.publicKey);
  const { alg: _alg, ...jwk } = exported;
  return { alg, privateKey: pair.privateKey, jwk: { ...jwk, ...jwkExtra } };
}

/** A compact JWS over `claims` signed with `key`; the header gets `alg`, `kid` and `header`. */
export async function signJwt(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const input = `${b64u(JSON.stringify({ alg: key.alg, kid: key.jwk.kid, typ: "JWT", ...header }))}.${b64u(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(
    params(key.alg).sign,
    key.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64u(new Uint8Array(signature))}`;
}
