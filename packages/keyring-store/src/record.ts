import {
  type CredentialKey,
  type Credentials,
  ErrorCode,
  parseStoredCredentials,
  StoreError,
  serializeCredentials,
} from "@latchkey/core/store";

/** The largest record a store writes, and reads: 1 MiB of UTF-8 (the file store's limit). */
export const MAX_RECORD_BYTES: number = 1024 * 1024;

/**
 * Serializes credentials and checks that the record reads back, so that a store never writes
 * something it would later report as corrupt: what `parseStoredCredentials` accepts (core's
 * limits on tokens: printable ASCII, at most 64 KiB each) and at most {@link MAX_RECORD_BYTES}.
 * With `key`, the record also carries the key it is stored under (`"key": {issuer, clientId,
 * profile}`), so that a store whose entry names are hashes can list what it holds; readers
 * ignore the field (core reads only its own fields), so older versions read such records as
 * before.
 */
export function serializeForStore(credentials: Credentials, key?: CredentialKey): string {
  let text = serializeCredentials(credentials);
  if (key !== undefined) {
    const { issuer, clientId, profile } = key;
    text = JSON.stringify({ ...(JSON.parse(text) as object), key: { issuer, clientId, profile } });
  }
  try {
    parseStoredCredentials(text);
  } catch {
    throw new StoreError(
      ErrorCode.STORE_CORRUPT,
      "The credentials to store are incomplete or malformed (an empty token, issuer or client id, or a token with other than printable ASCII?); nothing was written.",
    );
  }
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES) {
    throw new StoreError(
      ErrorCode.STORE_CORRUPT,
      "The credentials to store are over 1 MiB, more than a store reads back; nothing was written.",
    );
  }
  return text;
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
