import { isRecord } from "./credentials.js";

/** @internal base64url (padding optional) to bytes; throws on characters outside the alphabet. */
export function fromBase64Url(text: string): Uint8Array {
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

/** @internal The JSON object in one base64url part of a JWT, or `undefined`. */
export function decodeJwtPart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(part ?? "")));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a JWT, decoded WITHOUT verifying anything: for display and for comparisons with
 * a token that was verified when it was received. `undefined` when it is not a JWT.
 *
 * @example
 * ```ts
 * decodeJwtClaims(credentials.idToken)?.sub; // "alice"
 * ```
 */
export function decodeJwtClaims(jwt: string | undefined): Record<string, unknown> | undefined {
  return decodeJwtPart(jwt?.split(".")[1]);
}
