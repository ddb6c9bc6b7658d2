function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Random bytes, base64url-encoded without padding. */
export function randomToken(byteLength: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/**
 * A fresh PKCE code verifier: 64 random bytes (512 bits) as 86 base64url characters, like the
 * reference (S11: 43–128 characters of the unreserved set, ≥ 256 bits).
 */
export function generateCodeVerifier(): string {
  return randomToken(64);
}

/**
 * The S256 challenge of a verifier (RFC 7636 §4.2). `plain` is never offered (S12).
 *
 * @example
 * ```ts
 * await calculateCodeChallenge("test_code_verifier"); // "Qq1fGD0HhxwbmeMrqaebgn1qhvKeguQPXqLdpmixaM4"
 * ```
 */
export async function calculateCodeChallenge(verifier: string): Promise<string> {
  if (!verifier) throw new TypeError("The PKCE code verifier must not be empty.");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A fresh `state` value: 32 random bytes (S14). */
export function generateState(): string {
  return randomToken(32);
}

/** A fresh `nonce` value: 32 random bytes (S14). */
export function generateNonce(): string {
  return randomToken(32);
}
