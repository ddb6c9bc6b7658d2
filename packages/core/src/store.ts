/**
 * `@latchkey/core/store`: the credentials, the store contract, the coded errors and
 * `getAccessToken`, without any protocol code. What a store implementation or the hot path of
 * `latchkey token` needs loads nothing else: no oauth4webapi, no zod (a refresh loads them on
 * first use).
 *
 * @example
 * ```ts
 * import { type TokenStore, parseStoredCredentials, serializeCredentials } from "@latchkey/core/store";
 * ```
 */
export type {
  AccessTokenResult,
  CredentialLock,
  CredentialsSource,
  GetAccessTokenOptions,
} from "./access-token.js";
export { getAccessToken } from "./access-token.js";
export type { ClientAuthMethod, ClientOptions, FetchLike } from "./config.js";
export type {
  CredentialKey,
  Credentials,
  ExpiryCheckOptions,
  StoredCredentials,
  TokenStore,
} from "./credentials.js";
export {
  credentialKeyId,
  isExpiring,
  parseStoredCredentials,
  serializeCredentials,
} from "./credentials.js";
export type { LatchkeyErrorOptions, OAuthErrorDetails, ProtocolErrorOptions } from "./errors.js";
export {
  ConfigurationError,
  ErrorCode,
  LatchkeyError,
  LoginRequiredError,
  ProtocolError,
  StoreError,
  TransportError,
} from "./errors.js";
export { decodeJwtClaims } from "./jwt.js";
export { escapeText, redactUrl } from "./redact.js";
