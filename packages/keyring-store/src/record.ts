import {
  type Credentials,
  ErrorCode,
  parseStoredCredentials,
  StoreError,
  serializeCredentials,
} from "@latchkey/core/store";

/**
 * Serializes credentials and checks that the record reads back, so that a store never writes
 * something it would later report as corrupt.
 */
export function serializeForStore(credentials: Credentials): string {
  const text = serializeCredentials(credentials);
  try {
    parseStoredCredentials(text);
  } catch {
    throw new StoreError(
      ErrorCode.STORE_CORRUPT,
      "The credentials to store are incomplete (an empty token, issuer or client id?); nothing was written.",
    );
  }
  return text;
}
