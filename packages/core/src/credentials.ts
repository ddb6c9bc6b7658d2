import { ConfigurationError, ErrorCode, StoreError } from "./errors.js";

/**
 * A token set as latchkey keeps it: camelCase, with an absolute expiry.
 *
 * @example
 * ```ts
 * if (!isExpiring(credentials, { minValiditySeconds: 60, now: Date.now() })) use(credentials.accessToken);
 * ```
 */
export interface Credentials {
  /** The access token. Secret. */
  accessToken: string;
  /** The token type as the server sent it, compared case-insensitively (`Bearer`). */
  tokenType: string;
  /** Absolute expiry in milliseconds since the epoch; absent when the server sent no `expires_in`. */
  expiresAt?: number;
  /** The refresh token, if the server issued one. Secret. */
  refreshToken?: string;
  /** The ID token, if the server issued one. */
  idToken?: string;
  /** The granted scope, space-separated, when the server said (or the requested one). */
  scope?: string;
  /** The issuer these credentials came from. */
  issuer: string;
  /** The client id they were issued to. */
  clientId: string;
  /** When they were received, in milliseconds since the epoch. */
  obtainedAt: number;
}

/** What credentials are stored under: several issuers, clients and profiles live side by side (S18). */
export interface CredentialKey {
  /** The issuer identifier (or the token endpoint's origin when there is no issuer). */
  issuer: string;
  /** The client id. */
  clientId: string;
  /** The profile name, `default` unless the user chose one. */
  profile: string;
}

/**
 * Where credentials are kept. Implemented by `@latchkey/keyring-store` (keyring, file, memory)
 * or by a browser app (e.g. over `sessionStorage`).
 */
export interface TokenStore {
  /** A short name for messages: `memory`, `file`, `keyring`. */
  readonly kind: string;
  /** The stored credentials, or `undefined` when there are none. Throws {@link StoreError}. */
  get(key: CredentialKey): Promise<Credentials | undefined>;
  /** Stores credentials, replacing what was there, atomically. Throws {@link StoreError}. */
  set(key: CredentialKey, credentials: Credentials): Promise<void>;
  /** Deletes what is stored under the key; does nothing when nothing is. */
  delete(key: CredentialKey): Promise<void>;
  /**
   * Every stored credential set with the key it is stored under, when the store can enumerate
   * them (optional: `latchkey status --all`). Throws {@link StoreError}.
   */
  list?(): Promise<StoredCredentials[]>;
}

/** One entry of {@link TokenStore.list}. */
export interface StoredCredentials {
  /** The key the credentials are stored under. */
  key: CredentialKey;
  /** The credentials. Secret. */
  credentials: Credentials;
}

/** The version of the stored record format written by {@link serializeCredentials}. */
export const CREDENTIALS_RECORD_VERSION = 1;

// The stored record is latchkey's own format, read on every `latchkey token`: it is checked by
// hand, without loading a schema library (zod validates what comes from the network).
/** @internal A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
/**
 * @internal What an access token, a refresh token and an ID token may be, on the wire (S32) and
 * in a record alike: 1 to 65 536 characters of RFC 6749 VSCHAR (%x20-7E), without the space for
 * the access token (a Bearer credential, RFC 6750 §2.1), and for the ID token a JWS in compact
 * form (base64url parts and two dots; the signature may be empty, as an unsecured JWT's, which
 * the signature check refuses on the wire). So no token carries a control character to a terminal or
 * a line break into a header, and every record fits what the stores read (1 MB).
 */
export const TOKEN: { accessToken: RegExp; refreshToken: RegExp; idToken: RegExp } = {
  accessToken: /^[!-~]{1,65536}$/,
  refreshToken: /^[ -~]{1,65536}$/,
  idToken: /^(?!.{65537})[\w-]+\.[\w-]+\.[\w-]*$/,
};
/**
 * The `Authorization` header value that sends these credentials to a resource server or a
 * UserInfo endpoint: `Bearer <access token>` (RFC 6750 §2.1). Every latchkey package that sends
 * a token builds the header here. `request` is the request the header goes with; unused today,
 * it is there so that a DPoP-bound token (RFC 9449 §7) can be signed for its method and URL
 * without changing callers.
 *
 * Throws a {@link ConfigurationError} `CONFIG_INVALID` (never quoting the token) when the
 * credentials cannot be sent: a `tokenType` other than `Bearer` (compared case-insensitively,
 * RFC 6749 §7.1), or an access token that is not 1 to 65 536 printable ASCII characters without
 * spaces (the check every token response and stored record passes, S54): a header never
 * carries a line break, a space or a control character.
 *
 * @example
 * ```ts
 * const request = new Request("https://api.example.com/me");
 * request.headers.set("authorization", authorizationHeader(credentials, request));
 * ```
 */
export function authorizationHeader(
  credentials: Pick<Credentials, "accessToken" | "tokenType">,
  _request?: Request,
): string {
  if (/^bearer$/i.test(credentials.tokenType) && TOKEN.accessToken.test(credentials.accessToken))
    return `Bearer ${credentials.accessToken}`;
  throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "x");
}
const matches =
  (pattern: RegExp) =>
  (value: unknown): boolean =>
    typeof value === "string" && pattern.test(value);
const nonEmpty = matches(/./s);
const finite = (value: unknown): boolean => typeof value === "number" && Number.isFinite(value);
// Each field of a record and its check; the first five are required.
const FIELDS: [keyof Credentials, (value: unknown) => boolean][] = [
  ["accessToken", matches(TOKEN.accessToken)],
  ["tokenType", nonEmpty],
  ["issuer", nonEmpty],
  ["clientId", nonEmpty],
  ["obtainedAt", finite],
  ["expiresAt", finite],
  ["refreshToken", matches(TOKEN.refreshToken)],
  ["idToken", matches(TOKEN.idToken)],
  ["scope", (value) => typeof value === "string"],
];

/**
 * Turns credentials into the versioned JSON record that stores keep; {@link parseStoredCredentials}
 * reads it back. The record holds the tokens: store it as a secret.
 *
 * @example
 * ```ts
 * await writeFile(path, serializeCredentials(credentials), { mode: 0o600 });
 * ```
 */
export function serializeCredentials(credentials: Credentials): string {
  return JSON.stringify({ v: CREDENTIALS_RECORD_VERSION, ...credentials });
}

/**
 * Reads a record written by {@link serializeCredentials}. A record that is not valid JSON, has
 * another version or lacks a field throws a {@link StoreError} with code `STORE_CORRUPT`; it is
 * never half-read. Tokens are held to the same shapes as a token response (S32), so a record
 * edited by hand cannot carry a line break or an escape into a header or a terminal.
 *
 * @throws {@link StoreError} `STORE_CORRUPT`; its message never quotes the record.
 *
 * @example
 * ```ts
 * const credentials = parseStoredCredentials(await readFile(path, "utf8"));
 * ```
 */
export function parseStoredCredentials(text: string): Credentials {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // No cause: a JSON syntax error quotes the text, which holds secrets (S42).
    throw new StoreError(ErrorCode.STORE_CORRUPT, "The stored credentials are not valid JSON.");
  }
  const credentials: Record<string, unknown> = {};
  const valid =
    isRecord(raw) &&
    raw.v === CREDENTIALS_RECORD_VERSION &&
    FIELDS.every(([name, check], index) => {
      const value = raw[name];
      if (value === undefined) return index > 4;
      credentials[name] = value;
      return check(value);
    });
  if (!valid) {
    throw new StoreError(
      ErrorCode.STORE_CORRUPT,
      "The stored credentials have an unknown shape (another version?).",
    );
  }
  return credentials as unknown as Credentials;
}

/** Options of {@link isExpiring}. */
export interface ExpiryCheckOptions {
  /** Seconds the token must still be valid for. Default 60 (S36). */
  minValiditySeconds?: number;
  /** The current time in milliseconds since the epoch. Default `Date.now()`. */
  now?: number;
}

/**
 * Whether the access token expires within the minimum validity. Credentials without a known
 * expiry are treated as valid (they are refreshed when a resource server answers 401, S36).
 *
 * @example
 * ```ts
 * isExpiring(credentials, { minValiditySeconds: 300 }); // true when less than 5 min are left
 * ```
 */
export function isExpiring(credentials: Credentials, options: ExpiryCheckOptions = {}): boolean {
  if (credentials.expiresAt === undefined) return false;
  const now = options.now ?? Date.now();
  const minValidity = (options.minValiditySeconds ?? 60) * 1000;
  return credentials.expiresAt - now <= minValidity;
}

/**
 * A stable, printable identifier of a {@link CredentialKey}, for stores that need one string:
 * the URI-encoded issuer, client id and profile joined by `|` (so no two keys share one).
 *
 * @example
 * ```ts
 * credentialKeyId({ issuer: "https://as.example", clientId: "cli", profile: "default" });
 * // "https%3A%2F%2Fas.example|cli|default"
 * ```
 */
export function credentialKeyId(key: CredentialKey): string {
  return [key.issuer, key.clientId, key.profile].map(encodeURIComponent).join("|");
}
