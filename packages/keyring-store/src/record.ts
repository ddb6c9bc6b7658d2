import {
  type CredentialKey,
  type Credentials,
  ErrorCode,
  parseStoredCredentials,
  StoreError,
  serializeCredentials,
} from "@latchkey/core/store";

/**
 * Serializes credentials and checks that the record reads back, so that a store never writes
 * something it would later report as corrupt. With `key`, the record also carries the key it is
 * stored under (`"key": {issuer, clientId, profile}`), so that a store whose entry names are
 * hashes can list what it holds; readers ignore the field (core reads only its own fields), so
 * older versions read such records as before.
 */
export function serializeForStore(credentials: Credentials, key?: CredentialKey): string {
  const text = serializeCredentials(credentials);
  try {
    parseStoredCredentials(text);
  } catch {
    throw new StoreError(
      ErrorCode.STORE_CORRUPT,
      "The credentials to store are incomplete (an empty token, issuer or client id?); nothing was written.",
    );
  }
  if (key === undefined) return text;
  const { issuer, clientId, profile } = key;
  return JSON.stringify({ ...(JSON.parse(text) as object), key: { issuer, clientId, profile } });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The key a record written by {@link serializeForStore} carries, if any and well formed. */
export function recordKey(text: string): CredentialKey | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const key = isRecord(raw) ? raw.key : undefined;
  if (!isRecord(key)) return undefined;
  const { issuer, clientId, profile } = key;
  if (typeof issuer !== "string" || typeof clientId !== "string" || typeof profile !== "string")
    return undefined;
  return { issuer, clientId, profile };
}

/** The key of a `credentialKeyId` (core), or `undefined` when `id` is not one. */
export function keyFromId(id: string): CredentialKey | undefined {
  const parts = id.split("|");
  if (parts.length !== 3) return undefined;
  try {
    const [issuer, clientId, profile] = parts.map(decodeURIComponent) as [string, string, string];
    return issuer && clientId && profile ? { issuer, clientId, profile } : undefined;
  } catch {
    return undefined;
  }
}
