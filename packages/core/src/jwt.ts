import { isRecord, TOKEN } from "./credentials.js";

/** @internal base64url (padding optional) to bytes; throws on characters outside the alphabet. */
export function fromBase64Url(text: string): Uint8Array {
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

// Whether a JSON value nests objects or arrays deeper than `depth` levels.
const deep = (value: unknown, depth: number): boolean =>
  depth < 0 || (value instanceof Object && Object.values(value).some((v) => deep(v, depth - 1)));

/**
 * @internal The JSON object in one base64url part of a JWT, or `undefined`; also when it nests
 * deeper than 32 levels (what would then print it could overflow the stack).
 */
export function decodeJwtPart(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(part ?? "")));
    return isRecord(value) && !deep(value, 32) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The claims of a JWT, decoded WITHOUT verifying anything: for display and for comparisons with
 * a token that was verified when it was received. `undefined` when it is not a JWS in compact
 * form (base64url parts and two dots only, at most 64 KiB) whose payload is a JSON object
 * nested at most 32 levels deep. The one decoder of ID tokens: what it cannot decode is invalid.
 *
 * @example
 * ```ts
 * decodeJwtClaims(credentials.idToken)?.sub; // "alice"
 * ```
 */
export function decodeJwtClaims(jwt: string | undefined): Record<string, unknown> | undefined {
  return TOKEN.idToken.test(jwt as string) ? decodeJwtPart(jwt?.split(".")[1]) : undefined;
}
