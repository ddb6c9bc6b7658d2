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
  const part = jwt?.split(".")[1];
  if (!part) return undefined;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
